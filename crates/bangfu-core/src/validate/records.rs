//! Checks of the smaller records around a household: income, helper, pairing, measure, visit,
//! payment, relocation stage, attachment (档案), work team member (驻村工作队).

use chrono::NaiveDate;

use crate::model::{
    Attachment, Helper, Income, Measure, Pairing, Payment, Relocation, TeamMember, Visit,
};

use super::{Checker, Issue, label};

pub fn check_income(i: &Income) -> Vec<Issue> {
    let mut c = Checker::<Income>::new();
    c.required("year", &i.year);
    c.year("year", i.year);
    for (field, value) in [
        ("wage", i.wage),
        ("business", i.business),
        ("dividend", i.dividend),
        ("property_other", i.property_other),
        ("family_planning", i.family_planning),
        ("dibao_allowance", i.dibao_allowance),
        ("tekun_allowance", i.tekun_allowance),
        ("pension_income", i.pension_income),
        ("eco_compensation", i.eco_compensation),
        ("other_transfer", i.other_transfer),
        ("business_expense", i.business_expense),
    ] {
        c.not_negative(field, value);
    }
    c.finish()
}

pub fn check_helper(h: &Helper) -> Vec<Issue> {
    let mut c = Checker::<Helper>::new();
    c.required_text("name", &h.name);
    c.required_text("unit", &h.unit);
    c.codes(h);
    c.phone("phone", &h.phone);
    c.finish()
}

pub fn check_pairing(p: &Pairing) -> Vec<Issue> {
    let mut c = Checker::<Pairing>::new();
    c.required("household_id", &p.household_id);
    c.required("helper_id", &p.helper_id);
    let reversed = match (p.start_date, p.end_date) {
        (Some(start), Some(end)) if end < start => Some((start, end)),
        _ => None,
    };
    if let Some((start, end)) = reversed {
        c.error(
            "end_date",
            "date.end_before_start",
            format!(
                "{} {end} 早于{} {start}",
                label::<Pairing>("end_date"),
                label::<Pairing>("start_date")
            ),
        );
    }
    c.finish()
}

pub fn check_measure(m: &Measure) -> Vec<Issue> {
    let mut c = Checker::<Measure>::new();
    // A measure without its path cannot be counted under any of the 七个一批.
    c.required_text("path", &m.path);
    c.codes(m);
    c.not_negative("amount", m.amount);
    c.not_negative("amount_due", m.amount_due);
    c.required("year", &m.year);
    c.year("year", m.year);
    // A training names who attended and how many days it lasted (引导性培训: 2 days).
    if !m.training_kind.is_empty() {
        c.required("member_id", &m.member_id);
        c.required("training_days", &m.training_days);
    }
    if m.training_days.is_some_and(|d| !(1..=366).contains(&d)) {
        c.error(
            "training_days",
            "training.days",
            format!("{}应在 1 到 366 天之间", label::<Measure>("training_days")),
        );
    }
    c.finish()
}

/// 发放记录: a payment names its measure, its day (not in the future) and an amount above 0.
pub fn check_payment(p: &Payment, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<Payment>::new();
    c.required("measure_id", &p.measure_id);
    c.required("pay_date", &p.pay_date);
    if let Some(date) = p.pay_date.filter(|d| *d > today) {
        c.error(
            "pay_date",
            "date.future",
            format!("{} {date} 晚于今天", label::<Payment>("pay_date")),
        );
    }
    c.required("amount", &p.amount);
    if p.amount.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
        let text = format!("{}必须大于0。", label::<Payment>("amount"));
        c.error("amount", "payment.amount", text);
    }
    c.codes(p);
    c.finish()
}

pub fn check_visit(v: &Visit, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<Visit>::new();
    c.required("visit_date", &v.visit_date);
    if let Some(date) = v.visit_date.filter(|d| *d > today) {
        c.error(
            "visit_date",
            "date.future",
            format!("{} {date} 晚于今天", label::<Visit>("visit_date")),
        );
    }
    c.finish()
}

/// 易地搬迁进度: a stage names its 安置点, its stage and its day (not in the future); a loan is
/// not negative.
pub fn check_relocation(r: &Relocation, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<Relocation>::new();
    c.required_text("site", &r.site);
    c.required_text("stage", &r.stage);
    c.required("stage_date", &r.stage_date);
    if let Some(date) = r.stage_date.filter(|d| *d > today) {
        c.error(
            "stage_date",
            "date.future",
            format!("{} {date} 晚于今天", label::<Relocation>("stage_date")),
        );
    }
    c.not_negative("loan", r.loan);
    c.codes(r);
    c.finish()
}

/// 档案: an attachment names its household, the record it is attached to, its 材料类别 and its
/// file (a SHA-256 in hex, a size within the archive's bound).
pub fn check_attachment(a: &Attachment) -> Vec<Issue> {
    let mut c = Checker::<Attachment>::new();
    c.required("household_id", &a.household_id);
    c.required_text("target_table", &a.target_table);
    c.required("target_id", &a.target_id);
    c.required_text("kind", &a.kind);
    let is_hash = a.sha256.len() == 64
        && a.sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_hash {
        c.error(
            "sha256",
            "attachment.hash",
            format!("{}不是文件的 SHA-256 指纹", label::<Attachment>("sha256")),
        );
    }
    if a.size
        .is_none_or(|n| n <= 0 || n as u64 > crate::archive::MAX_FILE_BYTES)
    {
        c.error(
            "size",
            "attachment.size",
            format!(
                "{}应在 1 字节到 {} MB 之间",
                label::<Attachment>("size"),
                crate::archive::MAX_FILE_BYTES >> 20
            ),
        );
    }
    c.codes(a);
    c.finish()
}

/// 驻村工作队员: a member names the village, the person, the team role and the 派出单位; the
/// 驻村日期 is not in the future and the 离村日期 not before it; a phone is a phone.
pub fn check_team_member(t: &TeamMember, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<TeamMember>::new();
    c.required("village_id", &t.village_id);
    c.required_text("name", &t.name);
    c.required_text("role", &t.role);
    c.required_text("unit", &t.unit);
    c.required("start_date", &t.start_date);
    if let Some(date) = t.start_date.filter(|d| *d > today) {
        c.error(
            "start_date",
            "date.future",
            format!("{} {date} 晚于今天", label::<TeamMember>("start_date")),
        );
    }
    if let (Some(start), Some(end)) = (t.start_date, t.end_date)
        && end < start
    {
        c.error(
            "end_date",
            "date.end_before_start",
            format!(
                "{} {end} 早于{} {start}",
                label::<TeamMember>("end_date"),
                label::<TeamMember>("start_date")
            ),
        );
    }
    c.phone("phone", &t.phone);
    c.codes(t);
    c.finish()
}
