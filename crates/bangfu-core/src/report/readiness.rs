//! Exit readiness of a village, a township or the whole file for one year: which households
//! still counted as poor meet 一超 两不愁 三保障 against that year's line, and for those that do
//! not, which checks fail and why.

use serde::Serialize;
use uuid::Uuid;

use super::figures::STILL_POOR_SQL;
use crate::exit::standards::list_standards;
use crate::exit::{CheckStatus, ExitError, evaluate_household};
use crate::ledger::Scope;
use crate::model::codes::POVERTY_STATUS;
use crate::store::Store;
use crate::store::StoreError;

/// How many households of each answer one check got.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct CheckTally {
    /// Stable English id of the check (income, food, …).
    pub code: &'static str,
    pub label: &'static str,
    pub met: usize,
    pub not_met: usize,
    pub unknown: usize,
}

/// A check a household does not (yet) meet, with the evaluation's reason.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    pub label: &'static str,
    /// 未达标 or 待核实.
    pub status_label: &'static str,
    pub reason: String,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct ReadinessRow {
    pub household_id: Uuid,
    pub household_code: String,
    pub head_name: String,
    pub village_name: String,
    /// The 脱贫状态 label as filed.
    pub poverty_status: String,
    pub meets: bool,
    pub shortfalls: Vec<Shortfall>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub year: i32,
    /// Years with an exit standard, for the year picker.
    pub years: Vec<i32>,
    /// Households still counted as poor (未脱贫, 返贫 or no status): the ones evaluated.
    pub households: usize,
    pub meeting: usize,
    pub by_check: Vec<CheckTally>,
    /// Every evaluated household, those not meeting the standard first, then by code.
    pub rows: Vec<ReadinessRow>,
}

/// Evaluates the scope's households still counted as poor for `year`; without a year, for the
/// file's default work year ([`super::year::default_work_year`]), which needs a standard.
pub fn exit_readiness(
    store: &Store,
    scope: &Scope,
    year: Option<i32>,
) -> Result<Readiness, ExitError> {
    let mut years: Vec<i32> = list_standards(store)?.iter().map(|s| s.year).collect();
    years.dedup();
    let year = match year {
        Some(y) => y,
        None => super::year::default_work_year(store)?,
    };
    if !years.contains(&year) {
        return Err(ExitError::NoStandard { year });
    }
    let mut readiness = Readiness {
        year,
        years,
        households: 0,
        meeting: 0,
        by_check: Vec::new(),
        rows: Vec::new(),
    };
    for (id, village_name, status) in still_poor(store, scope)? {
        let evaluation = evaluate_household(store, id, year)?;
        for check in &evaluation.checks {
            let at = match readiness.by_check.iter().position(|t| t.code == check.code) {
                Some(at) => at,
                None => {
                    readiness.by_check.push(CheckTally {
                        code: check.code,
                        label: check.label,
                        met: 0,
                        not_met: 0,
                        unknown: 0,
                    });
                    readiness.by_check.len() - 1
                }
            };
            let tally = &mut readiness.by_check[at];
            match check.status {
                CheckStatus::Met => tally.met += 1,
                CheckStatus::NotMet => tally.not_met += 1,
                CheckStatus::Unknown => tally.unknown += 1,
            }
        }
        readiness.households += 1;
        readiness.meeting += usize::from(evaluation.meets);
        readiness.rows.push(ReadinessRow {
            household_id: id,
            household_code: evaluation.household_code,
            head_name: evaluation.head_name,
            village_name,
            poverty_status: POVERTY_STATUS
                .label(&status)
                .map_or_else(|| "未填写".to_owned(), str::to_owned),
            meets: evaluation.meets,
            shortfalls: evaluation
                .checks
                .into_iter()
                .filter(|c| c.status != CheckStatus::Met)
                .map(|c| Shortfall {
                    label: c.label,
                    status_label: c.status_label,
                    reason: c.reason,
                })
                .collect(),
        });
    }
    readiness
        .rows
        .sort_by(|a, b| (a.meets, &a.household_code).cmp(&(b.meets, &b.household_code)));
    Ok(readiness)
}

/// (id, village name, 脱贫状态 code) of the scope's households not yet exited.
fn still_poor(store: &Store, scope: &Scope) -> Result<Vec<(Uuid, String, String)>, StoreError> {
    let (condition, key) = scope.condition();
    let sql = format!(
        "SELECT h.id, coalesce(v.name, ''), coalesce(h.poverty_status, '')
         FROM household h LEFT JOIN village v ON v.id = h.village_id AND v.deleted = 0
         WHERE h.deleted = 0 AND {STILL_POOR_SQL} AND {condition}
         ORDER BY h.code"
    );
    let mut stmt = store.conn().prepare(&sql)?;
    let map = |r: &rusqlite::Row<'_>| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    };
    let rows: Vec<(Vec<u8>, String, String)> = match key {
        Some(k) => stmt.query_map([k], map)?.collect::<Result<_, _>>()?,
        None => stmt.query_map([], map)?.collect::<Result<_, _>>()?,
    };
    Ok(rows
        .into_iter()
        .filter_map(|(id, village, status)| {
            Uuid::from_slice(&id).ok().map(|id| (id, village, status))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo_store as demo;

    #[test]
    fn readiness_counts_every_still_poor_household_once_and_says_why_not() {
        let (_dir, store) = demo();
        let r = exit_readiness(&store, &Scope::All, Some(2019)).unwrap();
        let overview = crate::report::overview::overview(&store, None, 60).unwrap();
        let still_poor: i64 = overview
            .by_status
            .iter()
            .filter(|c| c.status != "2" && c.status != "3")
            .map(|c| c.households)
            .sum();
        assert_eq!(r.households as i64, still_poor);
        assert_eq!(r.rows.len(), r.households);
        assert_eq!(r.meeting, r.rows.iter().filter(|row| row.meets).count());
        for tally in &r.by_check {
            assert_eq!(tally.met + tally.not_met + tally.unknown, r.households);
        }
        // Those not meeting come first, each with at least one reason; those meeting have none.
        let first_meeting = r
            .rows
            .iter()
            .position(|row| row.meets)
            .unwrap_or(r.rows.len());
        assert!(
            r.rows[..first_meeting]
                .iter()
                .all(|row| !row.shortfalls.is_empty())
        );
        assert!(
            r.rows[first_meeting..]
                .iter()
                .all(|row| row.meets && row.shortfalls.is_empty())
        );
        assert!(r.years.contains(&2019));
    }

    #[test]
    fn a_scope_without_the_village_evaluates_nobody_and_no_year_takes_the_work_year() {
        let (_dir, store) = demo();
        let r = exit_readiness(&store, &Scope::Township("没有这个镇".into()), None).unwrap();
        assert_eq!((r.households, r.meeting), (0, 0));
        assert_eq!(
            r.year,
            crate::report::year::default_work_year(&store).unwrap()
        );
        let err = exit_readiness(&store, &Scope::All, Some(1990)).unwrap_err();
        assert!(matches!(err, ExitError::NoStandard { year: 1990 }));
    }
}
