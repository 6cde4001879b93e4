//! The demo village's recent years: the year before this one and this one (by the store's
//! clock), so a newcomer sees live figures for the current work year. Incomes that grew from
//! 2017's, a help measure for each household still counted as poor, visits up to today (a few
//! households left unvisited for months), this year's 入户调查 of the households whose income
//! now clears the line, and, local configuration, an exit standard for those years where the
//! file has none. Drawn from a generator of its own, so the filing
//! years 2016-2017 stay exactly as they were.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;

use super::household::Filed;
use super::{DemoSummary, Gen, clock_at, create, names, write_batch};
use crate::exit::standards::{ExitStandard, list_standards, set_standard};
use crate::exit::{CheckStatus, ExitError, Step, StepRecord, evaluate_household, record_step};
use crate::model::{FieldValue, Income, Measure, Member, Table, Visit};
use crate::store::{Change, Store, StoreError};

const SEED: u64 = 0x5308_2610_3201_2026;

/// The filing years end in 2017; recent years start after it.
const FIRST_RECENT_YEAR: i32 = 2018;

/// Households whose last visit this year lies more than 60 days back: one in this many.
const LONG_UNVISITED_EVERY: usize = 9;
/// The first households get no survey from the demo, whatever their income.
const LEFT_FOR_TRYING: usize = 10;

/// Households not visited at all this year: one in this many.
const NOT_VISITED_EVERY: usize = 25;

/// The recent years the demo adds for `today`: the year before and this year, never one of
/// the filing years.
pub fn recent_years(today: NaiveDate) -> Vec<i32> {
    let year = today.year();
    (year - 1..=year)
        .filter(|y| *y >= FIRST_RECENT_YEAR)
        .collect()
}

/// Writes the recent years' records of every filed household, as a team enters them.
pub fn write_recent_years(
    store: &mut Store,
    filed: &[Filed],
    keep_as_filed: &[uuid::Uuid],
    today: NaiveDate,
    summary: &mut DemoSummary,
) -> Result<(), StoreError> {
    let mut g = Gen::new(SEED ^ u64::from(today.year().unsigned_abs()));
    for year in recent_years(today) {
        add_standard(store, year)?;
        let current = year == today.year();
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today);
        let last_day = if current { today } else { year_end };
        store.set_fixed_clock(clock_at(last_day));
        let mut changes = Vec::new();
        for (index, f) in filed.iter().enumerate() {
            if let Some(income) = grown_income(&mut g, f, year, last_day) {
                changes.push(create(&income));
            }
            if let Some(measure) = measure(&mut g, f, year) {
                changes.push(create(&measure));
            }
            let visits = visits(&mut g, f, index, year, last_day, current);
            summary.visits += visits.len();
            changes.extend(visits.iter().map(create));
        }
        if current {
            // The yearly update of who is at school and who can work, as teams do it.
            for f in filed {
                let aged = f
                    .members
                    .iter()
                    .filter(|m| !keep_as_filed.contains(&m.id))
                    .filter_map(|m| aged_member(m, today));
                changes.extend(aged);
            }
        }
        write_batch(store, &changes, summary)?;
        if current {
            surveys(store, &mut g, filed, year, today)?;
        }
    }
    Ok(())
}

/// A member's 在校生状况 and 劳动技能 brought up to their age on `today` (the filing recorded
/// them as of 2017): a child moves up a stage each school year, school leavers become
/// 普通劳动力. `None` when nothing changes.
fn aged_member(m: &Member, today: NaiveDate) -> Option<Change> {
    let born = crate::validate::resident_id::parse(&m.id_number, today)
        .ok()?
        .birth;
    // Age completed by 31 August at the start of the school year decides the stage.
    let started = today.year() - i32::from(today.month() < 9);
    let sept = NaiveDate::from_ymd_opt(started, 8, 31).unwrap_or(today);
    let school_age = crate::validate::resident_id::age_on(born, sept);
    let age = crate::validate::resident_id::age_on(born, today);
    let was_student = m.schooling != "00" && !m.schooling.is_empty();
    let went_on = matches!(m.schooling.as_bytes().first(), Some(b'1'..=b'4'));
    let schooling = match school_age {
        ..3 => "00",
        3..6 => "01",
        6..12 => "02",
        12 => "07",
        13 => "08",
        14 => "09",
        15..18 if was_student => ["11", "12", "13"][(school_age - 15) as usize],
        18..21 if went_on => ["31", "32", "33"][(school_age - 18) as usize],
        _ => "00",
    };
    let ill = m.health.contains('3') || m.labor_skill == "3";
    let labor = match (age, schooling != "00") {
        (..16, _) | (_, true) => "4",
        _ if ill => "3",
        _ if m.labor_skill == "4" => "1",
        _ => m.labor_skill.as_str(),
    };
    let mut fields = Vec::new();
    if schooling != m.schooling {
        fields.push(("schooling", FieldValue::Text(schooling.into())));
    }
    if labor != m.labor_skill {
        fields.push(("labor_skill", FieldValue::Text(labor.into())));
    }
    if fields.is_empty() {
        return None;
    }
    Some(Change::Put {
        table: Table::Member,
        id: m.id,
        fields,
    })
}

/// This year's 入户调查 (the first exit step) of every household still counted as poor (past the
/// first [`LEFT_FOR_TRYING`]) whose income of the year clears the line: the team found it
/// 不愁吃 不愁穿 and it signed. Recorded through the exit procedure like the 退出 tab does.
fn surveys(
    store: &mut Store,
    g: &mut Gen,
    filed: &[Filed],
    year: i32,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let Some(first_day) = NaiveDate::from_ymd_opt(year, 1, 2) else {
        return Ok(());
    };
    // The first households are left for a newcomer (and the tests) to try the 退出 tab on.
    for f in filed.iter().skip(LEFT_FOR_TRYING) {
        if !crate::report::figures::is_still_poor(&f.household.poverty_status) {
            continue;
        }
        let evaluation = match evaluate_household(store, f.household.id, year) {
            Ok(evaluation) => evaluation,
            Err(ExitError::Store(e)) => return Err(e),
            Err(_) => continue,
        };
        let income_met = evaluation
            .checks
            .iter()
            .any(|c| c.code == "income" && c.status == CheckStatus::Met);
        if !income_met {
            continue;
        }
        let date = (today - Days::new(g.rng.gen_range(5..40))).max(first_day);
        let record = StepRecord {
            signatures: evaluation.head_name.clone(),
            household_signed: Some(true),
            food_secure: Some(true),
            clothing_secure: Some(true),
            ..StepRecord::new(Step::Survey, date, "村委会、驻村工作队")
        };
        match record_step(store, f.household.id, &record) {
            Ok(_) => {}
            Err(ExitError::Store(e)) => return Err(e),
            // A household the procedure does not take (no head, say) is left for the team.
            Err(_) => {}
        }
    }
    Ok(())
}

/// The year's income: 2017's grown by a factor drawn per household (and per year), 低保金
/// only for a 低保 household so the copy carries none of 2017's deliberate problems.
fn grown_income(g: &mut Gen, f: &Filed, year: i32, entered: NaiveDate) -> Option<Income> {
    let last = f.incomes.iter().max_by_key(|i| i.year)?;
    let years_on = f64::from(year - 2017);
    let factor = g.rng.gen_range(1.0..1.12_f64).powf(years_on) * g.rng.gen_range(0.85..1.15);
    let grow = |v: Option<f64>| v.map(|v| super::income::yuan(v * factor));
    let dibao = f.household.attribute == "2";
    Some(Income {
        id: g.row_id(entered.min(NaiveDate::from_ymd_opt(year, 12, 20).unwrap_or(entered))),
        household_id: Some(f.household.id),
        year: Some(i64::from(year)),
        wage: grow(last.wage),
        business: grow(last.business),
        dividend: grow(last.dividend),
        property_other: grow(last.property_other),
        family_planning: last.family_planning,
        dibao_allowance: if dibao {
            grow(last.dibao_allowance)
        } else {
            None
        },
        tekun_allowance: grow(last.tekun_allowance),
        pension_income: grow(last.pension_income),
        eco_compensation: last.eco_compensation,
        other_transfer: last.other_transfer,
        business_expense: grow(last.business_expense),
    })
}

/// A household still counted as poor gets one measure a year: 产业 or 就业 help.
fn measure(g: &mut Gen, f: &Filed, year: i32) -> Option<Measure> {
    let still_poor = crate::report::figures::is_still_poor(&f.household.poverty_status);
    if !still_poor {
        return None;
    }
    let day = NaiveDate::from_ymd_opt(year, 3, 15)?;
    let intent = &f.household.development_intent;
    let (path, description, amount, funding) = if g.rng.gen_bool(0.6) && !intent.is_empty() {
        (
            "01",
            format!("{year}年产业奖补，发展{intent}"),
            Some(2000.0),
            "县级财政扶贫资金",
        )
    } else {
        (
            "03",
            format!("{year}年推荐外出务工，给予一次性交通补助"),
            Some(500.0),
            "人社部门就业补助资金",
        )
    };
    Some(Measure {
        id: g.row_id(day),
        household_id: Some(f.household.id),
        year: Some(i64::from(year)),
        path: path.into(),
        description,
        target: format!("{year}年人均纯收入稳定超过扶贫标准"),
        amount,
        funding_source: funding.into(),
        status: "2".into(),
        ..Default::default()
    })
}

/// The year's visits by the household's present cadre. In the current year a few households
/// were last visited months ago and a few not at all.
fn visits(
    g: &mut Gen,
    f: &Filed,
    index: usize,
    year: i32,
    last_day: NaiveDate,
    current: bool,
) -> Vec<Visit> {
    let Some(first_day) = NaiveDate::from_ymd_opt(year, 1, 2) else {
        return Vec::new();
    };
    let mut until = last_day;
    if current && index % NOT_VISITED_EVERY == NOT_VISITED_EVERY - 1 {
        return Vec::new();
    }
    if current && index % LONG_UNVISITED_EVERY == 4 {
        until = last_day - Days::new(g.rng.gen_range(75..150));
    }
    let span = (until - first_day).num_days();
    if span < 1 {
        return Vec::new();
    }
    let helper = f.pairings.last().and_then(|p| p.helper_id);
    let n = f.members.len();
    let intent = f.household.development_intent.as_str();
    let count = 2 + (span as usize * 6 / 365).min(6) + index % 2;
    let mut days: Vec<i64> = (0..count).map(|_| g.rng.gen_range(0..=span)).collect();
    // The most recent visit lies in the last three weeks of the span, for a lively list.
    days.push(span - g.rng.gen_range(0..span.min(21)));
    days.sort_unstable();
    days.dedup();
    days.into_iter()
        .filter_map(|d| first_day.checked_add_days(Days::new(d.unsigned_abs())))
        .map(|date| {
            let found = names::phrase(&mut g.rng, names::FOUND_GENERAL, n, intent);
            let done = names::phrase(&mut g.rng, names::DONE_GENERAL, n, intent);
            Visit {
                id: g.row_id(date),
                household_id: Some(f.household.id),
                helper_id: helper,
                visit_date: Some(date),
                found,
                done,
            }
        })
        .collect()
}

/// The file's exit standards stop at 2020; the demo works on with 2020's figures for its
/// recent years, saying so in the source, unless the file already has the year.
fn add_standard(store: &mut Store, year: i32) -> Result<(), StoreError> {
    let standards = match list_standards(store) {
        Ok(standards) => standards,
        Err(ExitError::Store(e)) => return Err(e),
        Err(_) => return Ok(()),
    };
    if standards.iter().any(|s| s.year == year) {
        return Ok(());
    }
    let Some(base) = standards
        .iter()
        .filter(|s| s.province.is_empty() && s.year < year)
        .max_by_key(|s| s.year)
    else {
        return Ok(());
    };
    let standard = ExitStandard {
        year,
        source: format!(
            "演示数据：沿用{}年标准，正式使用请在“脱贫标准”中核定",
            base.year
        ),
        ..base.clone()
    };
    // Copied from a valid row, the standard passes its checks; only the store can fail.
    match set_standard(store, &standard, false) {
        Err(ExitError::Store(e)) => Err(e),
        _ => Ok(()),
    }
}
