//! The help a household gets: 致贫原因, measures by the 七个一批 paths with the report's
//! amounts, and the visits of its cadres.

use chrono::{Days, NaiveDate};
use rand::Rng;

use super::cadres::Assignment;
use super::household::{FILED_ON, Filed, YEARS, pick};
use super::{Gen, names};
use crate::model::{Measure, Member, Visit};

/// 主要致贫原因 and up to two 其他致贫原因, led by what the family's situation shows.
pub fn causes(
    rng: &mut impl Rng,
    members: &[Member],
    has_labor: bool,
    remote: bool,
) -> (String, String) {
    let mut shown = Vec::new();
    if members
        .iter()
        .any(|m| m.health.contains('2') || m.health.contains('3'))
    {
        shown.push("01");
    }
    if members.iter().any(|m| !m.disability_category.is_empty()) {
        shown.push("02");
    }
    if members
        .iter()
        .any(|m| matches!(m.schooling.as_bytes().first(), Some(b'1'..=b'4')))
    {
        shown.push("03");
    }
    if !has_labor {
        shown.push("08");
    }
    if remote {
        shown.insert(0, "10");
    }
    let general = ["09", "09", "09", "07", "07", "05", "11", "06", "04"];
    let main = match shown.first() {
        Some(first) if rng.gen_bool(0.75) => *first,
        _ => pick(rng, &general),
    };
    let mut others: Vec<&str> = Vec::new();
    for _ in 0..rng.gen_range(0..=2) {
        let c = if rng.gen_bool(0.5) && !shown.is_empty() {
            pick(rng, &shown)
        } else {
            pick(rng, &general)
        };
        if c != main && !others.contains(&c) {
            others.push(c);
        }
    }
    (main.into(), others.join(","))
}

/// The measures decided when the household is filed.
#[derive(Debug)]
pub struct Plan<'a> {
    pub industry: Option<i64>,
    pub relocation: Option<i64>,
    pub dangerous_at_filing: bool,
    /// The year a dangerous house was repaired; `None` while the work is under way.
    pub danger_fixed_in: Option<i64>,
    pub danger_level: &'static str,
    pub intent: &'a str,
}

#[allow(clippy::too_many_arguments)]
fn measure(
    g: &mut Gen,
    filed: &Filed,
    year: i64,
    path: &str,
    description: String,
    amount: Option<f64>,
    funding: &str,
    done: bool,
) -> Measure {
    let day = NaiveDate::from_ymd_opt(year as i32, 4, 1).unwrap_or(FILED_ON);
    Measure {
        id: g.row_id(day),
        household_id: Some(filed.household.id),
        year: Some(year),
        path: path.into(),
        description,
        target: format!(
            "人均纯收入稳定超过扶贫标准，{}年脱贫",
            filed.household.plan_exit_year.unwrap_or(2019)
        ),
        amount,
        funding_source: funding.into(),
        status: if done { "3" } else { "2" }.into(),
        ..Default::default()
    }
}

pub fn measures(g: &mut Gen, filed: &mut Filed, plan: &Plan<'_>) {
    let mut out = Vec::new();
    let intent = plan.intent;
    if let Some(year) = plan.industry {
        let text = format!(
            "产业扶持6000元（“2355”：到户2000元、龙头企业带动3000元、农户奖补500元、村集体奖补500元），发展{intent}"
        );
        out.push(measure(
            g,
            filed,
            year,
            "01",
            text,
            Some(6000.0),
            "财政专项扶贫资金",
            true,
        ));
    }
    if let Some(year) = plan.relocation {
        let text = "建档立卡户易地扶贫搬迁，集中安置建房补助".to_owned();
        out.push(measure(
            g,
            filed,
            year,
            "02",
            text,
            Some(60000.0),
            "易地扶贫搬迁专项资金",
            year == 2016,
        ));
    }
    if plan.dangerous_at_filing {
        let (text, amount) = match plan.danger_level {
            "C" => ("C级危房修缮加固", 15000.0),
            _ => ("D级危房拆除重建", 40000.0),
        };
        let year = plan.danger_fixed_in.unwrap_or(2017);
        let done = plan.danger_fixed_in.is_some();
        out.push(measure(
            g,
            filed,
            year,
            "10",
            text.into(),
            Some(amount),
            "农村危房改造补助资金",
            done,
        ));
    }
    for m in &filed.members {
        let (text, amount) = match m.schooling.as_str() {
            "11" | "12" | "13" => ("就读普通高中，建档立卡学生一次性资助", 3000.0),
            "21" | "22" | "23" => ("就读中职学校，建档立卡学生一次性资助", 2000.0),
            "31" | "32" | "33" | "40" => ("考入大专院校，建档立卡学生一次性资助", 8000.0),
            _ => ("", 0.0),
        };
        if amount > 0.0 {
            let year = if m.schooling.ends_with('2') {
                2016
            } else {
                2017
            };
            out.push(measure(
                g,
                filed,
                year,
                "04",
                format!("{}{text}", m.name),
                Some(amount),
                "教育扶贫资金",
                true,
            ));
        }
        if m.schooling != "00" && !m.disability_category.is_empty() {
            for year in YEARS {
                let text = format!("{}为残疾学生，每学年资助500元", m.name);
                out.push(measure(
                    g,
                    filed,
                    year,
                    "04",
                    text,
                    Some(500.0),
                    "教育扶贫资金",
                    true,
                ));
            }
        }
        if m.health.contains('3') {
            let amount = (g.rng.gen_range(20..120) * 100) as f64;
            let text = format!("{}患大病，落实大病保险报销和医疗救助", m.name);
            let year = 2016 + g.rng.gen_range(0..2);
            out.push(measure(
                g,
                filed,
                year,
                "06",
                text,
                Some(amount),
                "医疗救助资金",
                true,
            ));
        }
    }
    if filed.members.iter().any(|m| m.health.contains('2')) {
        let text = "慢性病家庭医生签约服务，门诊费用按规定报销".to_owned();
        out.push(measure(
            g,
            filed,
            2017,
            "06",
            text,
            None,
            "医疗保障资金",
            true,
        ));
    }
    for income in filed.incomes.clone() {
        let year = income.year.unwrap_or(2017);
        if let Some(amount) = income.dibao_allowance {
            let text = format!("纳入农村最低生活保障，全年低保金{amount}元");
            out.push(measure(
                g,
                filed,
                year,
                "07",
                text,
                Some(amount),
                "民政救助资金",
                true,
            ));
        }
        if let Some(amount) = income.tekun_allowance {
            let text = format!("纳入特困人员供养，全年供养金{amount}元");
            out.push(measure(
                g,
                filed,
                year,
                "07",
                text,
                Some(amount),
                "民政救助资金",
                true,
            ));
        }
    }
    if let Some(worker) = filed
        .members
        .iter()
        .find(|m| matches!(m.work_status.as_str(), "3" | "4"))
    {
        let text = format!("组织{}外出务工，发放一次性交通补助", worker.name);
        out.push(measure(
            g,
            filed,
            2017,
            "03",
            text,
            Some(500.0),
            "县级财政扶贫资金",
            true,
        ));
    }
    let has_labor = filed
        .members
        .iter()
        .any(|m| matches!(m.labor_skill.as_str(), "1" | "2"));
    if has_labor && g.rng.gen_bool(0.15) {
        let amount = if g.rng.gen_bool(0.6) {
            50000.0
        } else {
            30000.0
        };
        let text = format!("扶贫小额信贷（3年期、免担保免抵押、财政贴息），用于{intent}");
        let year = 2016 + g.rng.gen_range(0..2);
        out.push(measure(
            g,
            filed,
            year,
            "08",
            text,
            Some(amount),
            "农村信用社贷款，财政贴息",
            true,
        ));
    }
    if has_labor && g.rng.gen_bool(0.06) {
        let text = "聘为生态护林员".to_owned();
        out.push(measure(
            g,
            filed,
            2017,
            "05",
            text,
            Some(10000.0),
            "中央财政生态护林员补助资金",
            true,
        ));
    } else if has_labor && g.rng.gen_bool(0.05) {
        let text = "聘为村级公益性岗位保洁员".to_owned();
        out.push(measure(
            g,
            filed,
            2017,
            "09",
            text,
            Some(4800.0),
            "县级财政扶贫资金",
            true,
        ));
    }
    filed.measures = out;
}

/// Visits spread over the two years, each by the cadre paired with the household that day.
pub fn visits(g: &mut Gen, filed: &mut Filed, cadres: &[Assignment], count: usize, intent: &str) {
    let span = (NaiveDate::from_ymd_opt(2017, 12, 25).unwrap_or(FILED_ON) - FILED_ON)
        .num_days()
        .max(1) as u64;
    let mut days: Vec<u64> = (0..count).map(|_| g.rng.gen_range(4..span)).collect();
    days.sort_unstable();
    let ill = filed.members.iter().any(|m| m.health != "1");
    let students = filed.members.iter().any(|m| m.schooling != "00");
    let dangerous = filed.household.dangerous_house == Some(true);
    let n = filed.members.len();
    for offset in days {
        let date = FILED_ON + Days::new(offset);
        let helper = cadres
            .iter()
            .find(|a| a.start <= date && a.end.is_none_or(|end| date <= end))
            .or(cadres.last())
            .map(|a| a.helper);
        let rng = &mut g.rng;
        let (found, done) = match rng.gen_range(0..10) {
            0..2 if ill => (names::FOUND_HEALTH, names::DONE_HEALTH),
            2..4 if students => (names::FOUND_SCHOOL, names::DONE_SCHOOL),
            4..6 if dangerous => (names::FOUND_HOUSE, names::DONE_HOUSE),
            _ => (names::FOUND_GENERAL, names::DONE_GENERAL),
        };
        let found = names::phrase(rng, found, n, intent);
        let done = names::phrase(rng, done, n, intent);
        filed.visits.push(Visit {
            id: g.row_id(date),
            household_id: Some(filed.household.id),
            helper_id: helper,
            visit_date: Some(date),
            found,
            done,
        });
    }
}
