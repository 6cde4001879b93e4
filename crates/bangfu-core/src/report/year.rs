//! The work year (工作年度): the year every figure answers for, by default the latest year the
//! data file has records for, and the day "days since the last visit" is counted to.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::store::{Store, StoreError};

/// The work year a data file opens with, and the years a user can choose.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkYears {
    /// The default: the latest year with records, not after this year; this year without any.
    pub default_year: i32,
    /// This year by the store's clock.
    pub current_year: i32,
    /// Every year with records (not after this year) and this year, ascending.
    pub years: Vec<i32>,
}

/// The years of the records a work year is made of: incomes, measures, visits and exit steps.
const RECORD_YEARS: &str = "
    SELECT year FROM income WHERE deleted = 0 AND year IS NOT NULL
    UNION SELECT year FROM measure WHERE deleted = 0 AND year IS NOT NULL
    UNION SELECT CAST(substr(visit_date, 1, 4) AS INTEGER) FROM visit
        WHERE deleted = 0 AND visit_date GLOB '[12][0-9][0-9][0-9]-*'
    UNION SELECT CAST(substr(step_date, 1, 4) AS INTEGER) FROM exit_step
        WHERE deleted = 0 AND step_date GLOB '[12][0-9][0-9][0-9]-*'";

/// Every year the file has records for, ascending (a year typed in the future included).
pub fn record_years(store: &Store) -> Result<Vec<i32>, StoreError> {
    let mut stmt = store
        .conn()
        .prepare_cached(&format!("SELECT year FROM ({RECORD_YEARS}) ORDER BY year"))?;
    let years = stmt
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(years
        .into_iter()
        .filter_map(|y| i32::try_from(y).ok())
        .collect())
}

/// The work year a data file opens with: the latest year it has records for, not counting
/// years after this one (a typing slip must not move everybody's figures); this year when it
/// has none.
pub fn default_work_year(store: &Store) -> Result<i32, StoreError> {
    Ok(work_years(store)?.default_year)
}

/// The default work year and the years to choose from.
pub fn work_years(store: &Store) -> Result<WorkYears, StoreError> {
    let current_year = store.today().year();
    let mut years: Vec<i32> = record_years(store)?
        .into_iter()
        .filter(|y| *y <= current_year)
        .collect();
    let default_year = years.last().copied().unwrap_or(current_year);
    if years.last() != Some(&current_year) {
        years.push(current_year);
    }
    Ok(WorkYears {
        default_year,
        current_year,
        years,
    })
}

/// The day "days since the last visit" of a work year is counted to: the year's last day when
/// the year is past, today in the current year (and in a year not begun yet).
pub fn reference_day(year: i32, today: NaiveDate) -> NaiveDate {
    if year < today.year() {
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today)
    } else {
        today
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Visit;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_past_year_is_measured_to_its_last_day_and_the_current_year_to_today() {
        let today = day(2026, 12, 4);
        assert_eq!(reference_day(2017, today), day(2017, 12, 31));
        assert_eq!(reference_day(2025, today), day(2025, 12, 31));
        assert_eq!(reference_day(2026, today), today);
        assert_eq!(reference_day(2027, today), today);
    }

    #[test]
    fn an_empty_file_works_in_this_year() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::store::OpenOptions {
            identity_dir: Some(dir.path().join("r")),
            ..Default::default()
        };
        let store = Store::open(dir.path().join("a.sqlite"), &options).unwrap();
        let this_year = store.today().year();
        let w = work_years(&store).unwrap();
        assert_eq!(
            w,
            WorkYears {
                default_year: this_year,
                current_year: this_year,
                years: vec![this_year],
            }
        );
    }

    #[test]
    fn the_default_work_year_is_the_latest_year_with_records_not_a_future_typo() {
        let (_dir, mut store) = crate::report::demo_store();
        let this_year = store.today().year();
        let years = work_years(&store).unwrap();
        // The demo village has its filing years and a second set of years ending this year.
        assert_eq!(years.default_year, this_year);
        assert_eq!(default_work_year(&store).unwrap(), this_year);
        assert!(years.years.contains(&2016) && years.years.contains(&2017));
        assert_eq!(years.years.last(), Some(&this_year));

        // A visit typed with a year far ahead is listed among the record years but moves
        // neither the default nor the choices.
        let household = store
            .read::<crate::model::Household>(crate::store::Filter::All)
            .unwrap()[0]
            .id;
        let typo = Visit {
            id: uuid::Uuid::now_v7(),
            household_id: Some(household),
            visit_date: Some(day(this_year + 30, 1, 5)),
            found: "走错年份的一次走访".into(),
            ..Default::default()
        };
        store
            .write_unchecked(&[crate::demo::create(&typo)])
            .unwrap();
        assert!(record_years(&store).unwrap().contains(&(this_year + 30)));
        let after = work_years(&store).unwrap();
        assert_eq!(after, years);
    }
}
