//! Checks of one family member: name, 证件号码 and what it implies, health and disability, work.

use chrono::NaiveDate;

use crate::model::Member;
use crate::model::codes::{DISABILITY_CATEGORY, DISABILITY_GRADE, HEALTH, SEX};

use super::resident_id::{self, ResidentId};
use super::{Checker, Issue, codes, label};

/// 健康 in [`HEALTH`]; it excludes every other health code.
const HEALTHY: &str = "1";
/// 残疾 in [`HEALTH`]; only then do 残疾类别 and 残疾等级 apply.
const DISABLED: &str = "4";

pub fn check_member(m: &Member, today: NaiveDate) -> Vec<Issue> {
    let mut c = Checker::<Member>::new();
    c.required_text("name", &m.name);
    c.codes(m);
    if !m.id_number.is_empty() {
        match resident_id::parse(&m.id_number, today) {
            Ok(id) => what_the_id_says(&mut c, m, &id),
            Err(e @ resident_id::ResidentIdError::OldForm { .. }) => {
                let resident_id::ResidentIdError::OldForm { upgraded } = &e else {
                    unreachable!("matched above")
                };
                c.error_suggesting(
                    "id_number",
                    e.rule(),
                    format!("{} {} {e}", label::<Member>("id_number"), m.id_number),
                    upgraded.clone(),
                );
            }
            Err(e) => c.error(
                "id_number",
                e.rule(),
                format!("{} {} {e}", label::<Member>("id_number"), m.id_number),
            ),
        }
    }
    health(&mut c, m);
    if let Some(months) = m.work_months.filter(|n| !(0..=12).contains(n)) {
        c.error(
            "work_months",
            "work_months.out_of_range",
            format!("{} {months} 应在0到12之间", label::<Member>("work_months")),
        );
    }
    c.phone("phone", &m.phone);
    member_changes(&mut c, m, today);
    c.finish()
}

/// 增员/减员: each date goes with its reason, neither lies in the future, and a person leaves
/// after joining. A 减员 without its date could not say which years still count the person.
fn member_changes(c: &mut Checker<Member>, m: &Member, today: NaiveDate) {
    for (date_field, date, reason_field, reason, what) in [
        (
            "join_date",
            m.join_date,
            "join_reason",
            &m.join_reason,
            "增员",
        ),
        (
            "leave_date",
            m.leave_date,
            "leave_reason",
            &m.leave_reason,
            "减员",
        ),
    ] {
        match (date, reason.is_empty()) {
            (Some(_), true) => c.error(
                reason_field,
                "member_change.reason_missing",
                format!(
                    "{}办理{what}，请选择{}",
                    m.name,
                    label::<Member>(reason_field)
                ),
            ),
            (None, false) => c.error(
                date_field,
                "member_change.date_missing",
                format!(
                    "{}办理{what}，请填写{}",
                    m.name,
                    label::<Member>(date_field)
                ),
            ),
            _ => {}
        }
        if let Some(day) = date.filter(|d| *d > today) {
            c.error(
                date_field,
                "member_change.future",
                format!(
                    "{} {day} 晚于今天：{what}在发生后登记",
                    label::<Member>(date_field)
                ),
            );
        }
    }
    if let (Some(joined), Some(left)) = (m.join_date, m.leave_date)
        && left < joined
    {
        c.error(
            "leave_date",
            "member_change.left_before_joining",
            format!(
                "{}的{} {left} 早于{} {joined}",
                m.name,
                label::<Member>("leave_date"),
                label::<Member>("join_date")
            ),
        );
    }
}

/// Cross-checks of a valid ID against the fields it repeats: sex and, on a 残疾人证, disability.
fn what_the_id_says(c: &mut Checker<Member>, m: &Member, id: &ResidentId) {
    let id_label = label::<Member>("id_number");
    if m.id_number.contains('x') {
        // The county system and Excel lookups compare numbers as text, so `x` would not match
        // the same person's `X` elsewhere.
        c.warning(
            "id_number",
            "resident_id.lowercase_x",
            format!("{id_label} {} 的校验位应写成大写 X", m.id_number),
        );
    }
    if SEX.contains(&m.sex) && m.sex != id.sex_code {
        let shown = |code: &str| SEX.label(code).unwrap_or("");
        c.error(
            "sex",
            "resident_id.sex_mismatch",
            format!(
                "{}“{}”与{id_label} {} 不符：第17位表示{}",
                label::<Member>("sex"),
                shown(&m.sex),
                m.id_number,
                shown(id.sex_code)
            ),
        );
    }
    let Some(card) = id.disability else { return };
    if !codes::split(&m.health).any(|h| h == DISABLED) {
        c.warning(
            "health",
            "disability.card_without_health",
            format!(
                "{id_label} {} 是残疾人证号码，但{}未选“残疾”",
                m.id_number,
                label::<Member>("health")
            ),
        );
    }
    for (field, list, stored, on_card) in [
        (
            "disability_category",
            &DISABILITY_CATEGORY,
            &m.disability_category,
            card.category,
        ),
        (
            "disability_grade",
            &DISABILITY_GRADE,
            &m.disability_grade,
            card.grade,
        ),
    ] {
        if !stored.is_empty() && stored != on_card {
            c.warning(
                field,
                "disability.card_mismatch",
                format!(
                    "{}“{}”与残疾人证号码上的“{}”不符",
                    label::<Member>(field),
                    list.label(stored).unwrap_or(stored),
                    list.label(on_card).unwrap_or(on_card)
                ),
            );
        }
    }
}

fn health(c: &mut Checker<Member>, m: &Member) {
    let health: Vec<&str> = codes::split(&m.health).collect();
    let health_label = label::<Member>("health");
    if health.contains(&HEALTHY) && health.iter().any(|h| *h != HEALTHY && HEALTH.contains(h)) {
        c.error(
            "health",
            "health.healthy_with_condition",
            format!("{health_label}选了“健康”，不能同时选疾病或残疾"),
        );
    }
    let disabled = health.contains(&DISABLED);
    for (field, value) in [
        ("disability_category", &m.disability_category),
        ("disability_grade", &m.disability_grade),
    ] {
        if !disabled && !value.is_empty() {
            c.error(
                field,
                "disability.without_health_disability",
                format!(
                    "{health_label}未选“残疾”，不应填写{}",
                    label::<Member>(field)
                ),
            );
        } else if disabled && value.is_empty() {
            // A warning, not an error: the category is often only known once the 残疾人证 is
            // seen, and the team should be able to save what they have.
            c.warning(
                field,
                "disability.details_missing",
                format!("{health_label}选了“残疾”，请填写{}", label::<Member>(field)),
            );
        }
    }
}
