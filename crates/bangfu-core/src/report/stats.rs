//! Village and township figures for the work report: households and people by 脱贫状态,
//! 贫困发生率, the work year's measures and amounts by 七个一批 path, and its visit coverage.

use serde::Serialize;

use super::figures::{STILL_POOR_SQL, incidence_percent};
use crate::ledger::Scope;
use crate::model::codes::{MEASURE_PATH, POVERTY_STATUS};
use crate::store::{Store, StoreError};
use uuid::Uuid;

/// Households and people of one 脱贫状态.
#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct StatusRow {
    pub status: String,
    pub households: i64,
    pub people: i64,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct IncidenceRow {
    pub township: String,
    /// Empty on a township's line.
    pub village_code: String,
    pub village_name: String,
    pub rural_population: i64,
    pub poor_people: i64,
    /// 贫困发生率 in percent; `None` where the rural population is not recorded.
    pub incidence_pct: Option<f64>,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct MeasureRow {
    pub path: String,
    pub measures: i64,
    pub households: i64,
    pub amount: f64,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct VisitRow {
    pub township: String,
    pub village_code: String,
    pub village_name: String,
    pub households: i64,
    pub visited_ever: i64,
    pub visited_in_year: i64,
    pub visits_in_year: i64,
    /// Households visited in the year, in percent of households.
    pub coverage_pct: Option<f64>,
}

/// 培训 of one village (or, with `village_code` empty, one township) in the year: how many
/// households had at least one member trained (the report's 户均 1 人), how many people were
/// trained and how many certificates were obtained.
#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct TrainingRow {
    pub township: String,
    pub village_code: String,
    pub village_name: String,
    pub households: i64,
    pub trained_households: i64,
    pub trained_people: i64,
    pub certificates: i64,
    /// Households with a member trained in the year, in percent of households (户均 1 人 met
    /// at 100).
    pub coverage_pct: Option<f64>,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct StatsReport {
    pub year: i32,
    pub by_status: Vec<StatusRow>,
    /// Villages, then one line per township (village_code empty).
    pub incidence: Vec<IncidenceRow>,
    pub by_path: Vec<MeasureRow>,
    pub visits: Vec<VisitRow>,
    /// 培训 coverage: villages, then one line per township.
    pub training: Vec<TrainingRow>,
}

fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10000.0 / whole as f64).round() / 100.0)
}

const FROM: &str = "FROM household h LEFT JOIN village v ON v.id = h.village_id AND v.deleted = 0
    WHERE h.deleted = 0";

/// The figures of a scope; measures and visit coverage count the given work year (default:
/// the file's default work year, [`super::year::default_work_year`]).
pub fn stats(store: &Store, scope: &Scope, year: Option<i32>) -> Result<StatsReport, StoreError> {
    let year = match year {
        Some(year) => year,
        None => super::year::default_work_year(store)?,
    };
    let (cond, key) = scope.condition();
    let conn = store.conn();
    let query = |sql: String,
                 extra: Option<String>|
     -> Result<Vec<Vec<rusqlite::types::Value>>, StoreError> {
        let mut stmt = conn.prepare(&sql)?;
        let n = stmt.column_count();
        let map = |r: &rusqlite::Row<'_>| (0..n).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>();
        let rows = match (key, extra) {
            (Some(k), Some(e)) => stmt
                .query_map([k, e.as_str()], map)?
                .collect::<Result<_, _>>()?,
            (Some(k), None) => stmt.query_map([k], map)?.collect::<Result<_, _>>()?,
            (None, Some(e)) => stmt
                .query_map([e.as_str()], map)?
                .collect::<Result<_, _>>()?,
            (None, None) => stmt.query_map([], map)?.collect::<Result<_, _>>()?,
        };
        Ok(rows)
    };
    let int = |v: &rusqlite::types::Value| match v {
        rusqlite::types::Value::Integer(i) => *i,
        rusqlite::types::Value::Real(r) => *r as i64,
        _ => 0,
    };
    let real = |v: &rusqlite::types::Value| match v {
        rusqlite::types::Value::Integer(i) => *i as f64,
        rusqlite::types::Value::Real(r) => *r,
        _ => 0.0,
    };
    let text = |v: &rusqlite::types::Value| match v {
        rusqlite::types::Value::Text(t) => t.clone(),
        _ => String::new(),
    };

    let counted = query(
        format!(
            "SELECT h.poverty_status, count(*), sum((SELECT count(*) FROM member m
               WHERE m.household_id = h.id AND m.deleted = 0 AND m.leave_date IS NULL)) {FROM} AND {cond}
             GROUP BY h.poverty_status"
        ),
        None,
    )?;
    let mut by_status: Vec<StatusRow> = POVERTY_STATUS
        .entries
        .iter()
        .map(|(code, label)| {
            let row = counted.iter().find(|r| text(&r[0]) == *code);
            StatusRow {
                status: (*label).to_owned(),
                households: row.map_or(0, |r| int(&r[1])),
                people: row.map_or(0, |r| int(&r[2])),
            }
        })
        .collect();
    let unknown = counted
        .iter()
        .filter(|r| !POVERTY_STATUS.contains(&text(&r[0])))
        .fold((0, 0), |(h, p), r| (h + int(&r[1]), p + int(&r[2])));
    if unknown != (0, 0) {
        by_status.push(StatusRow {
            status: "未填写".into(),
            households: unknown.0,
            people: unknown.1,
        });
    }

    let villages = query(
        format!(
            "SELECT v.township, v.code, v.name, coalesce(v.rural_population, 0),
               coalesce(sum(CASE WHEN {STILL_POOR_SQL} THEN
                 (SELECT count(*) FROM member m WHERE m.household_id = h.id AND m.deleted = 0
                    AND m.leave_date IS NULL)
                 ELSE 0 END), 0),
               count(h.id),
               sum(EXISTS (SELECT 1 FROM visit t WHERE t.household_id = h.id AND t.deleted = 0)),
               sum(EXISTS (SELECT 1 FROM visit t WHERE t.household_id = h.id AND t.deleted = 0
                   AND substr(t.visit_date, 1, 4) = ?{n})),
               coalesce(sum((SELECT count(*) FROM visit t WHERE t.household_id = h.id
                   AND t.deleted = 0 AND substr(t.visit_date, 1, 4) = ?{n})), 0),
               sum(EXISTS (SELECT 1 FROM measure x WHERE x.household_id = h.id AND x.deleted = 0
                   AND coalesce(x.training_kind, '') <> '' AND x.member_id IS NOT NULL
                   AND x.year = CAST(?{n} AS INTEGER))),
               coalesce(sum((SELECT count(DISTINCT x.member_id) FROM measure x
                   WHERE x.household_id = h.id AND x.deleted = 0
                   AND coalesce(x.training_kind, '') <> '' AND x.year = CAST(?{n} AS INTEGER))), 0),
               coalesce(sum((SELECT count(*) FROM measure x WHERE x.household_id = h.id
                   AND x.deleted = 0 AND coalesce(x.training_kind, '') <> ''
                   AND coalesce(x.certificate, '') <> ''
                   AND x.year = CAST(?{n} AS INTEGER))), 0),
               v.id
             {FROM} AND {cond} GROUP BY v.id ORDER BY v.township, v.code",
            n = if key.is_some() { 2 } else { 1 }
        ),
        Some(year.to_string()),
    )?;
    let mut incidence = Vec::new();
    let mut visits = Vec::new();
    let mut training: Vec<TrainingRow> = Vec::new();
    let mut townships: Vec<(String, i64, i64)> = Vec::new();
    for r in &villages {
        // A village's poor people are those of the work year's end (its dated exit trails);
        // households filed without a village keep today's count.
        let poor = match &r[12] {
            rusqlite::types::Value::Blob(id) => match Uuid::from_slice(id) {
                Ok(village) => super::figures::poor_people_in_year(store, village, year)?,
                Err(_) => int(&r[4]),
            },
            _ => int(&r[4]),
        };
        let (township, population) = (text(&r[0]), int(&r[3]));
        incidence.push(IncidenceRow {
            township: township.clone(),
            village_code: text(&r[1]),
            village_name: text(&r[2]),
            rural_population: population,
            poor_people: poor,
            incidence_pct: incidence_percent(poor, Some(population)),
        });
        match townships.iter_mut().find(|t| t.0 == township) {
            Some(t) => {
                t.1 += population;
                t.2 += poor;
            }
            None => townships.push((township.clone(), population, poor)),
        }
        let households = int(&r[5]);
        let visited_in_year = int(&r[7]);
        visits.push(VisitRow {
            township,
            village_code: text(&r[1]),
            village_name: text(&r[2]),
            households,
            visited_ever: int(&r[6]),
            visited_in_year,
            visits_in_year: int(&r[8]),
            coverage_pct: pct(visited_in_year, households),
        });
        let trained = int(&r[9]);
        training.push(TrainingRow {
            township: text(&r[0]),
            village_code: text(&r[1]),
            village_name: text(&r[2]),
            households,
            trained_households: trained,
            trained_people: int(&r[10]),
            certificates: int(&r[11]),
            coverage_pct: pct(trained, households),
        });
    }
    training.extend(township_training(&training));
    for (township, population, poor) in townships {
        incidence.push(IncidenceRow {
            township,
            village_code: String::new(),
            village_name: String::new(),
            rural_population: population,
            poor_people: poor,
            incidence_pct: incidence_percent(poor, Some(population)),
        });
    }

    let paths = query(
        format!(
            // A structured measure (issue 17) carries its 应发金额 in place of the amount.
            "SELECT x.path, count(*), count(DISTINCT x.household_id),
                    coalesce(sum(coalesce(x.amount, x.amount_due)), 0)
             {FROM} AND {cond} AND x.year = ?{n} GROUP BY x.path",
            n = if key.is_some() { 2 } else { 1 }
        )
        .replace(
            "WHERE h.deleted = 0",
            "JOIN measure x ON x.household_id = h.id AND x.deleted = 0 WHERE h.deleted = 0",
        ),
        Some(year.to_string()),
    )?;
    let by_path = MEASURE_PATH
        .entries
        .iter()
        .map(|(code, label)| {
            let row = paths.iter().find(|r| text(&r[0]) == *code);
            MeasureRow {
                path: (*label).to_owned(),
                measures: row.map_or(0, |r| int(&r[1])),
                households: row.map_or(0, |r| int(&r[2])),
                amount: row.map_or(0.0, |r| real(&r[3])),
            }
        })
        .collect();
    Ok(StatsReport {
        year,
        by_status,
        incidence,
        by_path,
        visits,
        training,
    })
}

/// One line per township, adding up its villages' 培训 lines.
fn township_training(villages: &[TrainingRow]) -> Vec<TrainingRow> {
    let mut out: Vec<TrainingRow> = Vec::new();
    for v in villages {
        let line = match out.iter_mut().find(|t| t.township == v.township) {
            Some(line) => line,
            None => {
                out.push(TrainingRow {
                    township: v.township.clone(),
                    village_code: String::new(),
                    village_name: String::new(),
                    households: 0,
                    trained_households: 0,
                    trained_people: 0,
                    certificates: 0,
                    coverage_pct: None,
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        line.households += v.households;
        line.trained_households += v.trained_households;
        line.trained_people += v.trained_people;
        line.certificates += v.certificates;
        line.coverage_pct = pct(line.trained_households, line.households);
    }
    out
}
