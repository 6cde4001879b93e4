//! The domain's figures, each defined once and used by every report, screen and form: who is
//! still poor, how many people that is in a village, and 贫困发生率.
//!
//! "Still poor" (剩余贫困人口) is every live household not exited: 未脱贫, 返贫, and a household
//! whose 脱贫状态 was never filled (a household on the list is poor until the exit procedure
//! says otherwise). 贫困发生率 = people of those households / the village's rural population.
//! For a year, the households still poor at the end of that year count (`year_status`).

use uuid::Uuid;

use crate::model::codes::{STATUS_EXITED, STATUS_EXITED_WITH_POLICY};
use crate::store::{Store, StoreError};

/// Whether a household of this 脱贫状态 code is still poor.
pub fn is_still_poor(status: &str) -> bool {
    status != STATUS_EXITED_WITH_POLICY && status != STATUS_EXITED
}

/// The SQL condition of [`is_still_poor`] on a household aliased `h` (a fixed fragment).
pub(crate) const STILL_POOR_SQL: &str = "coalesce(h.poverty_status, '') NOT IN ('2', '3')";

/// The people still poor in a village: current members (not 减员) of its live households not
/// yet exited.
pub fn poor_people(store: &Store, village_id: Uuid) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT count(*) FROM member m JOIN household h ON h.id = m.household_id
         WHERE h.village_id = ?1 AND h.deleted = 0 AND m.deleted = 0 AND m.leave_date IS NULL
           AND {STILL_POOR_SQL}"
    );
    Ok(store
        .conn()
        .query_row(&sql, [village_id.as_bytes().as_slice()], |r| r.get(0))?)
}

/// The people still poor in a village at the end of `year`, from each household's dated exit
/// trail (`year_status`): what a year's 贫困发生率 counts.
pub fn poor_people_in_year(store: &Store, village_id: Uuid, year: i32) -> Result<i64, StoreError> {
    super::year_status::poor_people_in_year(store, village_id, year)
}

/// 贫困发生率 in percent, unrounded; `None` where the rural population is not recorded.
pub fn incidence_percent(poor_people: i64, rural_population: Option<i64>) -> Option<f64> {
    rural_population
        .filter(|p| *p > 0)
        .map(|p| poor_people as f64 * 100.0 / p as f64)
}

/// A percentage as the forms print it: two decimals.
pub fn printed_percent(percent: f64) -> f64 {
    (percent * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::{POVERTY_STATUS, STATUS_NOT_EXITED, STATUS_RETURNED};

    #[test]
    fn the_sql_condition_and_the_function_agree_on_every_status() {
        assert_eq!(STILL_POOR_SQL.matches('\'').count(), 6);
        for (code, _) in POVERTY_STATUS.entries {
            let in_sql = !STILL_POOR_SQL.contains(&format!("'{code}'"));
            assert_eq!(is_still_poor(code), in_sql, "status {code}");
        }
        assert!(is_still_poor(""));
        assert!(is_still_poor(STATUS_NOT_EXITED) && is_still_poor(STATUS_RETURNED));
    }

    #[test]
    fn incidence_needs_a_rural_population() {
        assert_eq!(incidence_percent(3, Some(100)), Some(3.0));
        assert_eq!(incidence_percent(3, Some(0)), None);
        assert_eq!(incidence_percent(3, None), None);
    }
}
