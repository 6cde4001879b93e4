//! One filed household as a work team records it over 2016-2017: the household form, its
//! members, two years of income, help measures by the 七个一批 paths, pairings and visits.

use chrono::{Days, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use uuid::Uuid;

use super::cadres::Assignment;
use super::people::{self, Family, FamilyContext, Shape};
use super::{Gen, bank_card, create, names};
use crate::model::{Household, Income, Measure, Member, Pairing, Visit};
use crate::store::Change;

/// The day the households were filed (建档立卡) and the first cadres paired.
pub const FILED_ON: NaiveDate = match NaiveDate::from_ymd_opt(2016, 3, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The years the demo covers.
pub const YEARS: [i64; 2] = [2016, 2017];

/// The report's poverty line, used only to place generated incomes above or below it; the
/// app reads the line of each year from configuration.
const LINE: f64 = 4000.0;

/// Where a household is filed.
#[derive(Debug)]
pub struct VillageInfo {
    pub id: Uuid,
    pub code: String,
    /// 县 + 乡镇 + 村, the start of every address.
    pub address: String,
    pub township: String,
}

/// Everything recorded about one household.
#[derive(Debug, Default)]
pub struct Filed {
    pub household: Household,
    pub members: Vec<Member>,
    pub ages: Vec<i32>,
    pub incomes: Vec<Income>,
    pub pairings: Vec<Pairing>,
    pub measures: Vec<Measure>,
    pub visits: Vec<Visit>,
}

impl Filed {
    /// The changes that create the household and all its rows.
    pub fn changes(&self, out: &mut Vec<Change>) {
        out.push(create(&self.household));
        out.extend(self.members.iter().map(create));
        out.extend(self.incomes.iter().map(create));
        out.extend(self.pairings.iter().map(create));
        out.extend(self.measures.iter().map(create));
        out.extend(self.visits.iter().map(create));
    }
}

/// How the household fares over the two years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Course {
    Poor,
    ExitIn(i64),
    /// Exited in 2016 and fell back in 2017.
    Relapsed,
}

/// Choices a caller fixes instead of drawing them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fixed {
    pub shape: Option<Shape>,
    pub attribute: Option<&'static str>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn yuan(x: f64) -> f64 {
    (x / 10.0).round() * 10.0
}

fn pick<'a>(rng: &mut impl Rng, pool: &[&'a str]) -> &'a str {
    pool.choose(rng).copied().unwrap_or_default()
}

/// Files household number `seq` (1-based) of the village.
pub fn file_household(
    g: &mut Gen,
    village: &VillageInfo,
    seq: usize,
    cadres: &[Assignment],
    visit_count: usize,
    fixed: Fixed,
) -> Filed {
    let shape = fixed.shape.unwrap_or_else(|| Shape::draw(&mut g.rng));
    let attribute = fixed.attribute.unwrap_or_else(|| {
        let (tekun, dibao) = match shape {
            Shape::Single => (0.55, 0.4),
            Shape::ElderCouple => (0.0, 0.35),
            _ => (0.0, 0.15),
        };
        let roll: f64 = g.rng.r#gen();
        if roll < tekun {
            "3"
        } else if roll < tekun + dibao {
            "2"
        } else {
            "1"
        }
    });
    let household_id = g.row_id(FILED_ON);
    let ethnicity = people::draw_ethnicity(&mut g.rng);
    let area = village.code.get(..6).unwrap_or("530826");
    let ctx = FamilyContext {
        household_id,
        area,
        ethnicity,
        dibao: attribute == "2",
        filed_on: FILED_ON,
    };
    let Family { members, ages } = people::family(g, shape, ctx);
    let rng = &mut g.rng;
    let n = members.len().max(1) as f64;

    let arable = round1(rng.gen_range(1.0..8.0));
    let forest = round1(rng.gen_range(0.0..25.0));
    let pasture = if rng.gen_bool(0.2) {
        round1(rng.gen_range(0.5..5.0))
    } else {
        0.0
    };
    let returned = if rng.gen_bool(0.3) {
        round1(rng.gen_range(0.5..4.0_f64).min(forest + pasture))
    } else {
        0.0
    };
    let intent = pick(rng, names::INTENTS);
    let has_labor = members
        .iter()
        .any(|m| matches!(m.labor_skill.as_str(), "1" | "2"));
    let relocation: Option<i64> = (attribute != "3" && rng.gen_bool(0.04))
        .then(|| if rng.gen_bool(0.5) { 2016 } else { 2017 });
    let industry: Option<i64> =
        (has_labor && rng.gen_bool(0.85)).then(|| if rng.gen_bool(0.7) { 2016 } else { 2017 });
    let dividend_share = industry.is_some() && rng.gen_bool(0.5);
    let elders = ages.iter().filter(|&&a| a >= 60).count() as f64;
    let dibao_rate = yuan(rng.gen_range(1300.0..2300.0));
    let family_planning = if ages.first().is_some_and(|&a| a >= 60) && rng.gen_bool(0.15) {
        960.0
    } else {
        0.0
    };

    // Transfers are set by policy, so they are fixed first and earnings fill up the rest.
    let transfers = |year: i64| {
        let step = if year == 2016 { 1.0 } else { 1.06 };
        Income {
            pension_income: Some(elders * if year == 2016 { 1236.0 } else { 1284.0 }),
            dibao_allowance: Some(if attribute == "2" {
                yuan(n * dibao_rate * step)
            } else {
                0.0
            }),
            tekun_allowance: Some(if attribute == "3" {
                yuan(n * 4200.0 * step)
            } else {
                0.0
            }),
            eco_compensation: Some(yuan(returned * 300.0)),
            family_planning: Some(family_planning),
            other_transfer: Some(yuan(arable * 80.0)),
            dividend: Some(match industry {
                Some(start) if dividend_share && start <= year => yuan(400.0 * step),
                _ => 0.0,
            }),
            ..Income::default()
        }
    };
    let fixed_sum = |i: &Income| {
        [
            i.pension_income,
            i.dibao_allowance,
            i.tekun_allowance,
            i.eco_compensation,
        ]
        .iter()
        .chain(&[i.family_planning, i.other_transfer, i.dividend])
        .map(|v| v.unwrap_or(0.0))
        .sum::<f64>()
    };
    // A household still waiting for its move has not exited; one whose transfers alone lift
    // it over the line exits through 兜底.
    let course = if relocation == Some(2017) {
        Course::Poor
    } else if fixed_sum(&transfers(2016)) / n > LINE - 600.0 {
        Course::ExitIn(2016)
    } else {
        match rng.gen_range(0..100) {
            0..25 => Course::ExitIn(2016),
            25..52 => Course::ExitIn(2017),
            52..55 => Course::Relapsed,
            _ => Course::Poor,
        }
    };
    let exited_by = |year: i64| match course {
        Course::ExitIn(y) => y <= year,
        Course::Relapsed => year == 2016,
        Course::Poor => false,
    };

    let mut incomes = Vec::new();
    let mut previous_target = 0.0;
    for year in YEARS {
        let rng = &mut g.rng;
        let mut income = transfers(year);
        let fixed_total = fixed_sum(&income);
        let mut target = if exited_by(year) {
            rng.gen_range(LINE + 200.0..LINE + 3000.0_f64)
                .max(previous_target * rng.gen_range(1.03..1.15))
        } else if course == Course::Relapsed {
            rng.gen_range(LINE - 1700.0..LINE - 300.0)
        } else {
            rng.gen_range(LINE - 1900.0..LINE - 200.0_f64)
                .max(previous_target * rng.gen_range(1.02..1.1))
                .min(LINE - 50.0)
        };
        target = target.max(fixed_total / n + 300.0);
        previous_target = target;
        let earned = target * n - fixed_total;
        let months: i64 = members.iter().filter_map(|m| m.work_months).sum();
        let wage = if months > 0 {
            (months as f64 * rng.gen_range(1800.0..3200.0)).min(earned * rng.gen_range(0.5..0.85))
        } else if rng.gen_bool(0.3) {
            earned * rng.gen_range(0.1..0.3)
        } else {
            0.0
        };
        let wage = if wage >= 300.0 { yuan(wage) } else { 0.0 };
        let business_net = (earned - wage).max(200.0);
        let expense_share = rng.gen_range(0.25..0.45);
        let business = yuan(business_net / (1.0 - expense_share));
        income.id = g.row_id(NaiveDate::from_ymd_opt(year as i32, 12, 20).unwrap_or(FILED_ON));
        income.household_id = Some(household_id);
        income.year = Some(year);
        income.wage = (wage > 0.0).then_some(wage);
        income.business = Some(business);
        income.business_expense = Some(yuan(business - business_net));
        income.property_other = None;
        for v in [
            &mut income.pension_income,
            &mut income.dibao_allowance,
            &mut income.tekun_allowance,
            &mut income.eco_compensation,
            &mut income.family_planning,
            &mut income.dividend,
            &mut income.other_transfer,
        ] {
            if *v == Some(0.0) {
                *v = None;
            }
        }
        incomes.push(income);
    }
    let rng = &mut g.rng;

    // A household that exits has a safe house by its exit year; others are still waiting.
    let dangerous_at_filing =
        relocation.is_none() && course != Course::Relapsed && rng.gen_bool(0.2);
    let danger_fixed_in = match course {
        Course::ExitIn(2016) => Some(2016),
        Course::ExitIn(_) => Some(2016 + rng.gen_range(0..2)),
        _ => None,
    };
    let danger_level = if rng.gen_bool(0.6) { "C" } else { "D" };
    let still_dangerous = dangerous_at_filing && !exited_by(2017);
    let poverty_status = match course {
        Course::Poor => "1",
        Course::ExitIn(_) => "2",
        Course::Relapsed => "4",
    };
    let plan_exit_year = match course {
        Course::ExitIn(y) => y,
        _ => [2018, 2019, 2019, 2020]
            .choose(rng)
            .copied()
            .unwrap_or(2019),
    };
    let (road_distance, remark) = match relocation {
        Some(2016) => (
            round1(rng.gen_range(0.1..0.6)),
            format!(
                "易地扶贫搬迁户，2016年已搬迁至{}集中安置点",
                village.township
            ),
        ),
        Some(_) => {
            let d = round1(rng.gen_range(5.5..9.5));
            (
                d,
                format!("居住在高山独户，距村主干路{d}公里，已列入2017年易地扶贫搬迁计划"),
            )
        }
        None => (round1(rng.gen_range(0.1..4.8)), String::new()),
    };
    let (main_cause, other_causes) = causes(rng, &members, has_labor, relocation.is_some());
    let group = pick(rng, names::GROUPS);
    let head = members.first();
    let household = Household {
        id: household_id,
        village_id: Some(village.id),
        code: format!("{}{seq:03}", village.code),
        group_name: group.into(),
        address: format!("{}{group}", village.address),
        identify_standard: if rng.gen_bool(0.9) { "1" } else { "2" }.into(),
        attribute: attribute.into(),
        poverty_status: poverty_status.into(),
        main_cause,
        other_causes,
        arable_area: Some(arable),
        forest_area: Some(forest),
        returned_farmland_area: (returned > 0.0).then_some(returned),
        fruit_area: rng.gen_bool(0.3).then(|| round1(rng.gen_range(0.5..5.0))),
        pasture_area: (pasture > 0.0).then_some(pasture),
        water_area: rng.gen_bool(0.05).then(|| round1(rng.gen_range(0.2..1.0))),
        road_distance_km: Some(road_distance),
        road_type: match relocation {
            Some(2016) => "3",
            Some(_) => "1",
            None => pick(rng, &["1", "2", "2", "3", "3", "3"]),
        }
        .into(),
        house_area: Some(round1(rng.gen_range(40.0..160.0))),
        dangerous_house: Some(still_dangerous),
        danger_level: if still_dangerous { danger_level } else { "" }.into(),
        living_power: Some(true),
        production_power: Some(rng.gen_bool(0.9)),
        broadcast_tv: Some(true),
        water_difficult: Some(false),
        water_safe: Some(exited_by(2017) || rng.gen_bool(0.85)),
        fuel_type: pick(rng, &["1", "1", "1", "1", "3", "4"]).into(),
        sanitary_toilet: Some(rng.gen_bool(0.5)),
        cooperative: Some(industry.is_some() && rng.gen_bool(0.6)),
        phone: head.map(|m| m.phone.clone()).unwrap_or_default(),
        bank_name: pick(
            rng,
            &[
                "农村信用合作联社",
                "农村信用合作联社",
                "中国邮政储蓄银行",
                "中国农业银行",
            ],
        )
        .into(),
        bank_account: bank_card(rng),
        plan_exit_year: Some(plan_exit_year),
        development_intent: intent.into(),
        remark,
    };

    let mut filed = Filed {
        household,
        members,
        ages,
        incomes,
        ..Filed::default()
    };
    let danger_fixed_in = danger_fixed_in.filter(|_| dangerous_at_filing);
    let plan = Plan {
        industry,
        relocation,
        dangerous_at_filing,
        danger_fixed_in,
        danger_level,
        intent,
    };
    measures(g, &mut filed, &plan);
    filed.pairings = cadres
        .iter()
        .map(|a| Pairing {
            id: g.row_id(a.start),
            household_id: Some(household_id),
            helper_id: Some(a.helper),
            start_date: Some(a.start),
            end_date: a.end,
        })
        .collect();
    visits(g, &mut filed, cadres, visit_count, intent);
    filed
}

/// 主要致贫原因 and up to two 其他致贫原因, led by what the family's situation shows.
fn causes(
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
struct Plan<'a> {
    industry: Option<i64>,
    relocation: Option<i64>,
    dangerous_at_filing: bool,
    /// The year a dangerous house was repaired; `None` while the work is under way.
    danger_fixed_in: Option<i64>,
    danger_level: &'static str,
    intent: &'a str,
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
    }
}

fn measures(g: &mut Gen, filed: &mut Filed, plan: &Plan<'_>) {
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
fn visits(g: &mut Gen, filed: &mut Filed, cadres: &[Assignment], count: usize, intent: &str) {
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
