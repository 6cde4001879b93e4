//! The village overview: households and people by 脱贫状态, 贫困发生率 of each village, and the
//! households nobody has visited for a while in the work year (counted to the year's last day
//! when the year is past, to today in the current year).

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use super::year::{default_work_year, reference_day};
use crate::exit::ExitError;
use crate::exit::village::poor_people_in_year;
use crate::model::{Village, codes};
use crate::query::{self, HouseholdRow};
use crate::store::{Filter, Store, StoreError};

/// How many of the long-unvisited households the overview lists; the list page shows them all.
const NOT_VISITED_SHOWN: usize = 200;

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StatusCount {
    /// A code of the 脱贫状态 list, "" for households without one.
    pub status: String,
    pub label: String,
    pub households: i64,
    pub people: i64,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageIncidence {
    pub code: String,
    pub name: String,
    pub rural_population: Option<i64>,
    /// Members of its households not yet exited (未脱贫, 返贫 or no status).
    pub poor_people: i64,
    /// 贫困发生率 in %, `None` without a rural population.
    pub incidence_percent: Option<f64>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// The work year the overview answers for.
    pub year: i32,
    /// The day the days without a visit are counted to: the year's last day for a past year,
    /// today in the current year.
    pub as_of: NaiveDate,
    pub households: i64,
    pub people: i64,
    pub by_status: Vec<StatusCount>,
    pub villages: Vec<VillageIncidence>,
    pub not_visited_days: i64,
    pub not_visited_total: i64,
    /// The first of them, longest unvisited first; `last_visit` is the last visit up to
    /// `as_of`.
    pub not_visited: Vec<HouseholdRow>,
}

/// The overview of the whole data file for a work year (default: the file's default work
/// year).
pub fn overview(
    store: &Store,
    year: Option<i32>,
    not_visited_days: i64,
) -> Result<Overview, ExitError> {
    let year = match year {
        Some(year) => year,
        None => default_work_year(store)?,
    };
    let as_of = reference_day(year, store.today());
    let mut stmt = store
        .conn()
        .prepare_cached(
            "SELECT coalesce(h.poverty_status, ''), count(*), coalesce(sum(s.members), 0)
         FROM household h LEFT JOIN household_summary s ON s.household_id = h.id
         WHERE h.deleted = 0 GROUP BY 1 ORDER BY 1",
        )
        .map_err(StoreError::from)?;
    let counted = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
        .map_err(StoreError::from)?
        .collect::<Result<Vec<(String, i64, i64)>, _>>()
        .map_err(StoreError::from)?;
    // Every status of the list appears, in the form's order, even with no household.
    let mut by_status: Vec<StatusCount> = codes::POVERTY_STATUS
        .entries
        .iter()
        .map(|(code, label)| StatusCount {
            status: (*code).into(),
            label: (*label).into(),
            households: 0,
            people: 0,
        })
        .collect();
    for (status, households, people) in counted {
        match by_status.iter_mut().find(|c| c.status == status) {
            Some(count) => {
                count.households = households;
                count.people = people;
            }
            None => by_status.push(StatusCount {
                label: if status.is_empty() {
                    "未填".into()
                } else {
                    status.clone()
                },
                status,
                households,
                people,
            }),
        }
    }
    let mut villages = Vec::new();
    for v in store.read::<Village>(Filter::All)? {
        let poor = poor_people_in_year(store, v.id, year)?;
        villages.push(VillageIncidence {
            incidence_percent: super::figures::incidence_percent(poor, v.rural_population),
            code: v.code,
            name: v.name,
            rural_population: v.rural_population,
            poor_people: poor,
        });
    }
    let (not_visited_total, not_visited) = not_visited(store, as_of, not_visited_days)?;
    Ok(Overview {
        year,
        as_of,
        households: by_status.iter().map(|c| c.households).sum(),
        people: by_status.iter().map(|c| c.people).sum(),
        by_status,
        villages,
        not_visited_days,
        not_visited_total,
        not_visited,
    })
}

/// How many households had no visit in the `days` days up to `as_of` (visits after it do not
/// count), and the first [`NOT_VISITED_SHOWN`] of them, never visited first, then longest
/// unvisited, each with its last visit up to `as_of`.
fn not_visited(
    store: &Store,
    as_of: NaiveDate,
    days: i64,
) -> Result<(i64, Vec<HouseholdRow>), StoreError> {
    let cutoff = as_of - Duration::days(days.max(0));
    let mut stmt = store.conn().prepare_cached(
        "SELECT id, last_visit FROM (
           SELECT h.id AS id, h.code AS code,
             (SELECT max(t.visit_date) FROM visit t
              WHERE t.household_id = h.id AND t.deleted = 0 AND t.visit_date <= ?1) AS last_visit
           FROM household h WHERE h.deleted = 0)
         WHERE last_visit IS NULL OR last_visit <= ?2
         ORDER BY last_visit, code, id",
    )?;
    let found = stmt
        .query_map(
            [
                as_of.format("%Y-%m-%d").to_string(),
                cutoff.format("%Y-%m-%d").to_string(),
            ],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<String>>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let total = found.len() as i64;
    let shown: Vec<(Uuid, Option<String>)> = found
        .into_iter()
        .take(NOT_VISITED_SHOWN)
        .filter_map(|(id, last)| Uuid::from_slice(&id).ok().map(|id| (id, last)))
        .collect();
    let ids: Vec<Uuid> = shown.iter().map(|(id, _)| *id).collect();
    let mut rows = query::household_rows(store, &ids)?;
    for (row, (_, last)) in rows.iter_mut().zip(shown) {
        row.last_visit = last;
    }
    Ok((total, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn the_demo_village_overview_adds_up() {
        let (_dir, store) = crate::report::demo_store();

        let o = overview(&store, None, 60).unwrap();
        let listed = query::households(&store, &query::HouseholdQuery::default()).unwrap();
        assert_eq!(o.households, listed.total);
        assert!(o.people >= o.households);
        let labels: Vec<_> = o.by_status.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            &labels[..4],
            ["未脱贫", "已脱贫(享受政策)", "已脱贫(不再享受政策)", "返贫"]
        );
        assert_eq!(o.villages.len(), 1);
        let village = &o.villages[0];
        let still_poor: i64 = o
            .by_status
            .iter()
            .filter(|c| c.status != "2" && c.status != "3")
            .map(|c| c.people)
            .sum();
        assert_eq!(village.poor_people, still_poor);
        assert!(village.incidence_percent.is_some());
        assert!(o.not_visited.len() as i64 <= o.not_visited_total);
        assert!(
            o.not_visited
                .iter()
                .all(|row| row.last_visit.as_deref().is_none_or(|d| d < "9999"))
        );
    }

    /// Households with no visit in the `days` days up to `as_of`, counted from the visits
    /// themselves, independently of the overview's query.
    fn unvisited_by_hand(store: &Store, as_of: NaiveDate, days: i64) -> usize {
        let cutoff = as_of - Duration::days(days);
        let visits = store.read::<crate::model::Visit>(Filter::All).unwrap();
        store
            .read::<crate::model::Household>(Filter::All)
            .unwrap()
            .iter()
            .filter(|h| {
                let last = visits
                    .iter()
                    .filter(|v| v.household_id == Some(h.id))
                    .filter_map(|v| v.visit_date)
                    .filter(|d| *d <= as_of)
                    .max();
                last.is_none_or(|d| d <= cutoff)
            })
            .count()
    }

    #[test]
    fn a_past_work_year_counts_days_without_a_visit_to_its_last_day_not_to_today() {
        let (_dir, store) = crate::report::demo_store();
        let end_2017 = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();

        let past = overview(&store, Some(2017), 60).unwrap();
        assert_eq!((past.year, past.as_of), (2017, end_2017));
        let expected = unvisited_by_hand(&store, end_2017, 60);
        assert_eq!(past.not_visited_total, expected as i64);
        // Counted to today, every household of 2017 would be listed; to the year's end, only
        // those the team had not seen since early November.
        assert!(
            (1..300).contains(&expected),
            "{expected} households unvisited at the end of 2017"
        );
        assert!(
            past.not_visited
                .iter()
                .all(|row| { row.last_visit.as_deref().is_none_or(|d| d <= "2017-11-01") })
        );

        let today = store.today();
        let current = overview(&store, None, 60).unwrap();
        assert_eq!((current.year, current.as_of), (today.year(), today));
        let expected = unvisited_by_hand(&store, today, 60);
        assert_eq!(current.not_visited_total, expected as i64);
        assert!(
            (1..300).contains(&expected),
            "{expected} households unvisited for 60 days now"
        );
    }
}
