//! One filed household as a work team records it over 2016-2017: the household form, its
//! members, two years of income, help measures by the 七个一批 paths, pairings and visits.

use chrono::NaiveDate;
use rand::Rng;
use rand::seq::SliceRandom;
use uuid::Uuid;

use super::cadres::Assignment;
use super::income::{self, Course, Economy, yuan};
use super::people::{self, Family, FamilyContext, Shape};
use super::{Gen, bank_card, create, help, names};
use crate::model::{Household, Income, Measure, Member, Pairing, Visit};
use crate::store::Change;

/// The day the households were filed (建档立卡) and the first cadres paired.
pub const FILED_ON: NaiveDate = match NaiveDate::from_ymd_opt(2016, 3, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The years the demo covers.
pub const YEARS: [i64; 2] = [2016, 2017];

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

/// Choices a caller fixes instead of drawing them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fixed {
    pub shape: Option<Shape>,
    pub attribute: Option<&'static str>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(super) fn pick<'a>(rng: &mut impl Rng, pool: &[&'a str]) -> &'a str {
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

    let economy = Economy {
        attribute,
        members: n,
        elders: ages.iter().filter(|&&a| a >= 60).count() as f64,
        dibao_rate: yuan(rng.gen_range(1300.0..2300.0)),
        family_planning: if ages.first().is_some_and(|&a| a >= 60) && rng.gen_bool(0.15) {
            960.0
        } else {
            0.0
        },
        returned,
        arable,
        industry,
        dividend_share: industry.is_some() && rng.gen_bool(0.5),
    };
    let course = Course::draw(rng, &economy, relocation);
    let exited_by = |year| course.exited_by(year);
    let incomes = income::incomes(g, household_id, &economy, course, &members);
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
    let (main_cause, other_causes) = help::causes(rng, &members, has_labor, relocation.is_some());
    let group = pick(rng, names::GROUPS);
    let head = members.first();
    let household = Household {
        id: household_id,
        village_id: Some(village.id),
        code: format!("{}{seq:03}", village.code),
        group_name: group.into(),
        address: format!("{}{group}", village.address),
        identify_standard: if rng.gen_bool(0.9) { "1" } else { "2" }.into(),
        filing_date: Some(filing_date(seq, course)),
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
    let plan = help::Plan {
        industry,
        relocation,
        dangerous_at_filing,
        danger_fixed_in,
        danger_level,
        intent,
    };
    help::measures(g, &mut filed, &plan);
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
    help::visits(g, &mut filed, cadres, visit_count, intent);
    filed
}

/// 建档日期 of the demo's household `seq`: most filed in the 2014 精准识别 (September to
/// December), some at the 2015 and 2016 动态调整, and a few still-poor households 新识别 in the
/// spring of 2017 (identified on the previous year's income; before the demo's earliest clock,
/// mid-2017). Drawn from the sequence number, not
/// the generator, so the rest of the village stays as it was.
fn filing_date(seq: usize, course: Course) -> NaiveDate {
    let k = u32::try_from((seq * 37 + 11) % 100).unwrap_or(0);
    let (year, month) = match k {
        _ if course == Course::Poor && k < 6 => (2017, 3 + k % 4),
        0..=69 => (2014, 9 + k % 4),
        70..=89 => (2015, 3 + k % 8),
        _ => (2016, 3 + k % 8),
    };
    let day = 1 + u32::try_from((seq * 7) % 28).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}
