//! Two years of a household's income: transfers fixed by policy, then wages and farm earnings
//! that put the household's 人均纯收入 where its course over the years says it should be.

use chrono::NaiveDate;
use rand::Rng;
use uuid::Uuid;

use super::Gen;
use super::household::{FILED_ON, YEARS};
use crate::model::{Income, Member};

/// The report's poverty line, used only to place generated incomes above or below it; the
/// app reads the line of each year from configuration.
const LINE: f64 = 4000.0;

pub fn yuan(x: f64) -> f64 {
    (x / 10.0).round() * 10.0
}

/// How the household fares over the two years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Course {
    Poor,
    ExitIn(i64),
    /// Exited in 2016 and fell back in 2017.
    Relapsed,
}

impl Course {
    /// A household still waiting for its move has not exited; one whose transfers alone lift
    /// it over the line exits through 兜底.
    pub fn draw(rng: &mut impl Rng, economy: &Economy, relocation: Option<i64>) -> Course {
        if relocation == Some(2017) {
            return Course::Poor;
        }
        if economy.transfer_total(2016) / economy.members > LINE - 600.0 {
            return Course::ExitIn(2016);
        }
        match rng.gen_range(0..100) {
            0..25 => Course::ExitIn(2016),
            25..52 => Course::ExitIn(2017),
            52..55 => Course::Relapsed,
            _ => Course::Poor,
        }
    }

    pub fn exited_by(self, year: i64) -> bool {
        match self {
            Course::ExitIn(y) => y <= year,
            Course::Relapsed => year == 2016,
            Course::Poor => false,
        }
    }
}

/// What decides a household's transfers.
#[derive(Debug, Clone, Copy)]
pub struct Economy {
    pub attribute: &'static str,
    pub members: f64,
    pub elders: f64,
    /// 低保金 per person and year, for a 低保贫困户.
    pub dibao_rate: f64,
    pub family_planning: f64,
    pub returned: f64,
    pub arable: f64,
    /// The year the industry measure started, if any.
    pub industry: Option<i64>,
    /// Whether the industry money went into a cooperative that pays a dividend.
    pub dividend_share: bool,
}

impl Economy {
    /// Transfers are set by policy, so they are fixed first and earnings fill up the rest.
    fn transfers(&self, year: i64) -> Income {
        let step = if year == 2016 { 1.0 } else { 1.06 };
        let only = |yes: bool, amount: f64| (yes && amount > 0.0).then_some(yuan(amount));
        Income {
            pension_income: only(
                true,
                self.elders * if year == 2016 { 1236.0 } else { 1284.0 },
            ),
            dibao_allowance: only(self.attribute == "2", self.members * self.dibao_rate * step),
            tekun_allowance: only(self.attribute == "3", self.members * 4200.0 * step),
            eco_compensation: only(true, self.returned * 300.0),
            family_planning: only(true, self.family_planning),
            other_transfer: only(true, self.arable * 80.0),
            dividend: only(
                self.dividend_share && self.industry.is_some_and(|start| start <= year),
                400.0 * step,
            ),
            ..Income::default()
        }
    }

    fn transfer_total(&self, year: i64) -> f64 {
        let i = self.transfers(year);
        [
            i.pension_income,
            i.dibao_allowance,
            i.tekun_allowance,
            i.eco_compensation,
            i.family_planning,
            i.other_transfer,
            i.dividend,
        ]
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .sum()
    }
}

pub fn incomes(
    g: &mut Gen,
    household_id: Uuid,
    economy: &Economy,
    course: Course,
    members: &[Member],
) -> Vec<Income> {
    let n = economy.members;
    let months: i64 = members.iter().filter_map(|m| m.work_months).sum();
    let mut out = Vec::new();
    let mut previous_target = 0.0;
    for year in YEARS {
        let rng = &mut g.rng;
        let transfers = economy.transfer_total(year);
        let target = if course.exited_by(year) {
            rng.gen_range(LINE + 200.0..LINE + 3000.0_f64)
                .max(previous_target * rng.gen_range(1.03..1.15))
        } else if course == Course::Relapsed {
            rng.gen_range(LINE - 1700.0..LINE - 300.0)
        } else {
            rng.gen_range(LINE - 1900.0..LINE - 200.0_f64)
                .max(previous_target * rng.gen_range(1.02..1.1))
                .min(LINE - 50.0)
        };
        let target = target.max(transfers / n + 300.0);
        previous_target = target;
        let earned = target * n - transfers;
        let wage = if months > 0 {
            (months as f64 * rng.gen_range(1800.0..3200.0)).min(earned * rng.gen_range(0.5..0.85))
        } else if rng.gen_bool(0.3) {
            earned * rng.gen_range(0.1..0.3)
        } else {
            0.0
        };
        // The county checks 工资性收入 within 300..300000 when present.
        let wage = if wage >= 300.0 { yuan(wage) } else { 0.0 };
        let business_net = (earned - wage).max(200.0);
        let business = yuan(business_net / (1.0 - rng.gen_range(0.25..0.45)));
        let entered = NaiveDate::from_ymd_opt(year as i32, 12, 20).unwrap_or(FILED_ON);
        out.push(Income {
            id: g.row_id(entered),
            household_id: Some(household_id),
            year: Some(year),
            wage: (wage > 0.0).then_some(wage),
            business: Some(business),
            business_expense: Some(yuan(business - business_net)),
            ..economy.transfers(year)
        });
    }
    out
}
