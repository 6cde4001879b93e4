//! A household's 脱贫状态 at the end of a past year, read from its dated exit trail, and the
//! people still poor in a village that year: what a year's 贫困发生率 counts.
//!
//! The rule, for the end of year Y:
//! - a household with a 建档日期 is counted from the year it was filed: filed after Y, it was
//!   not on the list yet; filed in or before Y, it was, whatever else is dated;
//! - a household without one (filed before the date was kept) with no record dated in or
//!   before Y (收入, 帮扶措施, 结对, 走访, 退出程序) was not on the list yet and is not counted;
//! - otherwise its last decisive event dated in or before Y says it: 县审定销号 agreed → exited,
//!   返贫 → poor again;
//! - with none in or before Y, its first decisive event after Y says what it was before: a
//!   销号 later means it was still poor, a 返贫 later means it had exited (before its trail was
//!   kept here, e.g. a roll imported with 已脱贫);
//! - a household whose trail has no decisive event at all keeps the 脱贫状态 it is filed with.
//!
//! The people counted are its live members present at the end of Y
//! (`derived::present_at_year_end`): one who died in Y no longer counts, one born in Y does.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rusqlite::params;
use uuid::Uuid;

use super::figures::is_still_poor;
use crate::model::{Member, derived};
use crate::store::{Store, StoreError};

/// A decisive event of a household's exit trail: it changes whether the household is poor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    /// 县审定销号 agreed on this day.
    Exited(NaiveDate),
    /// 返贫 on this day.
    Returned(NaiveDate),
}

impl StatusEvent {
    fn date(self) -> NaiveDate {
        match self {
            StatusEvent::Exited(d) | StatusEvent::Returned(d) => d,
        }
    }
}

/// When a household came on the list, as far as the file knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTheList {
    /// Its 建档日期's year.
    Filed(i32),
    /// No 建档日期: the year of its earliest dated record (an approximation).
    FirstRecord(i32),
    /// Neither: counted in every year.
    Unknown,
}

impl OnTheList {
    /// From a household's 建档日期 (wins when known) and its earliest dated record's year.
    pub fn of(filing_date: Option<NaiveDate>, first_record_year: Option<i32>) -> OnTheList {
        match (filing_date, first_record_year) {
            (Some(day), _) => OnTheList::Filed(day.year()),
            (None, Some(year)) => OnTheList::FirstRecord(year),
            (None, None) => OnTheList::Unknown,
        }
    }

    fn after(self, year: i32) -> bool {
        match self {
            OnTheList::Filed(first) | OnTheList::FirstRecord(first) => first > year,
            OnTheList::Unknown => false,
        }
    }
}

/// Whether a household was still poor at the end of `year`; `None` when it was not filed yet.
/// `events` in the order of the trail; `since` when it came on the list.
pub fn still_poor_at_year_end(
    current_status: &str,
    since: OnTheList,
    events: &[StatusEvent],
    year: i32,
) -> Option<bool> {
    if since.after(year) {
        return None;
    }
    let in_year = |e: &&StatusEvent| e.date().year() <= year;
    if let Some(last) = events.iter().rfind(in_year) {
        return Some(matches!(last, StatusEvent::Returned(_)));
    }
    if let Some(next) = events.iter().find(|e| e.date().year() > year) {
        return Some(matches!(next, StatusEvent::Exited(_)));
    }
    Some(is_still_poor(current_status))
}

/// The year of each household's earliest dated record, for the live households of a village.
fn first_record_years(store: &Store, village: Uuid) -> Result<HashMap<Uuid, i32>, StoreError> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT r.household_id, min(r.y) FROM (
             SELECT household_id, year AS y FROM income WHERE deleted = 0 AND year IS NOT NULL
             UNION ALL SELECT household_id, year FROM measure
                 WHERE deleted = 0 AND year IS NOT NULL
             UNION ALL SELECT household_id, CAST(substr(start_date, 1, 4) AS INTEGER) FROM pairing
                 WHERE deleted = 0 AND start_date GLOB '[12][0-9][0-9][0-9]-*'
             UNION ALL SELECT household_id, CAST(substr(visit_date, 1, 4) AS INTEGER) FROM visit
                 WHERE deleted = 0 AND visit_date GLOB '[12][0-9][0-9][0-9]-*'
             UNION ALL SELECT household_id, CAST(substr(step_date, 1, 4) AS INTEGER)
                 FROM exit_step
                 WHERE deleted = 0 AND step_date GLOB '[12][0-9][0-9][0-9]-*') r
         JOIN household h ON h.id = r.household_id AND h.deleted = 0 AND h.village_id = ?1
         GROUP BY r.household_id",
    )?;
    let rows = stmt
        .query_map(params![village.as_bytes().as_slice()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, y)| Some((Uuid::from_slice(&id).ok()?, i32::try_from(y).ok()?)))
        .collect())
}

/// The decisive events of each live household's trail in a village, in trail order.
fn status_events(
    store: &Store,
    village: Uuid,
) -> Result<HashMap<Uuid, Vec<StatusEvent>>, StoreError> {
    // 操作 1 记录 of step 5 with a result other than 2 不同意, or 操作 3 返贫; both dated.
    let mut stmt = store.conn().prepare_cached(
        "SELECT s.household_id, s.action, s.step_date FROM exit_step s
         JOIN household h ON h.id = s.household_id AND h.deleted = 0 AND h.village_id = ?1
         WHERE s.deleted = 0 AND s.step_date IS NOT NULL
           AND ((s.action = '1' AND s.step = '5' AND coalesce(s.vote_result, '') <> '2')
                OR s.action = '3')
         ORDER BY s.household_id, s.seq",
    )?;
    let rows = stmt
        .query_map(params![village.as_bytes().as_slice()], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out: HashMap<Uuid, Vec<StatusEvent>> = HashMap::new();
    for (id, action, date) in rows {
        let (Ok(id), Ok(date)) = (
            Uuid::from_slice(&id),
            NaiveDate::parse_from_str(&date, "%Y-%m-%d"),
        ) else {
            continue;
        };
        out.entry(id).or_default().push(if action == "3" {
            StatusEvent::Returned(date)
        } else {
            StatusEvent::Exited(date)
        });
    }
    Ok(out)
}

/// The people still poor in a village at the end of `year`: present members of the households
/// poor then (see the module's rule).
pub fn poor_people_in_year(store: &Store, village: Uuid, year: i32) -> Result<i64, StoreError> {
    let first = first_record_years(store, village)?;
    let events = status_events(store, village)?;
    let mut stmt = store.conn().prepare_cached(
        "SELECT id, coalesce(poverty_status, ''), filing_date FROM household
         WHERE village_id = ?1 AND deleted = 0",
    )?;
    let households = stmt
        .query_map(params![village.as_bytes().as_slice()], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut members = store.conn().prepare_cached(
        "SELECT join_date, leave_date FROM member WHERE household_id = ?1 AND deleted = 0",
    )?;
    let date =
        |text: Option<String>| text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok());
    let mut poor = 0;
    for (id, status, filed) in households {
        let Ok(household) = Uuid::from_slice(&id) else {
            continue;
        };
        let trail = events.get(&household).map_or(&[][..], Vec::as_slice);
        let since = OnTheList::of(date(filed), first.get(&household).copied());
        if still_poor_at_year_end(&status, since, trail, year) != Some(true) {
            continue;
        }
        let present = members
            .query_map(params![id.as_slice()], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|(joined, left)| {
                let m = Member {
                    join_date: date(joined.clone()),
                    leave_date: date(left.clone()),
                    ..Default::default()
                };
                derived::present_at_year_end(&m, year)
            })
            .count();
        poor += present as i64;
    }
    Ok(poor)
}

#[cfg(test)]
mod tests {
    use super::OnTheList::{Filed, FirstRecord, Unknown};
    use super::StatusEvent::{Exited, Returned};
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    #[test]
    fn status_at_year_end_follows_the_dated_trail() {
        // (case, current status, on the list since, trail, [(year, expected)])
        type Case = (
            &'static str,
            &'static str,
            OnTheList,
            Vec<StatusEvent>,
            Vec<(i32, Option<bool>)>,
        );
        let cases: Vec<Case> = vec![
            (
                "exited 2017-11, never returned",
                "2",
                FirstRecord(2014),
                vec![Exited(d(2017, 11, 20))],
                vec![(2016, Some(true)), (2017, Some(false)), (2018, Some(false))],
            ),
            (
                "exited 2017, 返贫 2019-03, exited again 2020",
                "2",
                FirstRecord(2014),
                vec![
                    Exited(d(2017, 12, 31)),
                    Returned(d(2019, 3, 1)),
                    Exited(d(2020, 12, 1)),
                ],
                vec![
                    (2017, Some(false)),
                    (2018, Some(false)),
                    (2019, Some(true)),
                    (2020, Some(false)),
                ],
            ),
            (
                "exited 2018-01-01: still poor at the end of 2017",
                "2",
                FirstRecord(2016),
                vec![Exited(d(2018, 1, 1))],
                vec![(2017, Some(true)), (2018, Some(false))],
            ),
            (
                "first record 2018, no filing date: not counted before",
                "1",
                FirstRecord(2018),
                vec![],
                vec![(2017, None), (2018, Some(true)), (2019, Some(true))],
            ),
            (
                "imported as 已脱贫, 返贫 2019: had exited before its trail",
                "4",
                FirstRecord(2015),
                vec![Returned(d(2019, 6, 1))],
                vec![(2018, Some(false)), (2019, Some(true))],
            ),
            (
                "no trail: the filed status",
                "3",
                Unknown,
                vec![],
                vec![(2014, Some(false)), (2020, Some(false))],
            ),
            (
                "no trail, status never filled: poor",
                "",
                Unknown,
                vec![],
                vec![(2016, Some(true))],
            ),
            (
                "filed 2018 (新识别): not counted before, whatever is dated earlier",
                "1",
                Filed(2018),
                vec![],
                vec![(2016, None), (2017, None), (2018, Some(true))],
            ),
            (
                "filed 2014, nothing dated: counted from 2014",
                "1",
                Filed(2014),
                vec![],
                vec![(2013, None), (2014, Some(true)), (2017, Some(true))],
            ),
            (
                "filed 2014, exited 2017",
                "2",
                Filed(2014),
                vec![Exited(d(2017, 11, 20))],
                vec![(2015, Some(true)), (2017, Some(false))],
            ),
        ];
        let mut failures = Vec::new();
        for (name, status, first, events, years) in &cases {
            for (year, want) in years {
                let got = still_poor_at_year_end(status, *first, events, *year);
                if got != *want {
                    failures.push(format!("{name} / {year}: want {want:?}, got {got:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
