//! The exit standards as data: per year and province, the income line (贫困线) and the
//! thresholds of the household and village checks. Local configuration, seeded by migration 2
//! with public figures; every row stays editable.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::ExitError;
use crate::store::Store;

/// One year's standard for one province ("" = any province without its own row).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitStandard {
    pub year: i32,
    pub province: String,
    /// 人均纯收入 must be above this (元).
    pub income_line: f64,
    /// 义务教育 ages (周岁 on 1 September of the year), inclusive.
    pub school_age_from: u32,
    pub school_age_to: u32,
    /// Whether 安全饮水 is checked beside 三保障.
    pub check_safe_water: bool,
    /// The shortest 村评议公示 period, in days.
    pub notice_days: i64,
    /// 贫困发生率 of a village must be below this (%).
    pub incidence_limit: f64,
    /// 广播电视覆盖率 of a village must be at least this (%).
    pub broadcast_min: f64,
    /// Where the figure comes from.
    pub source: String,
    /// Someone changed the seeded row (or added it).
    pub edited: bool,
}

const COLUMNS: &str = "year, province, income_line, school_age_from, school_age_to, \
     check_safe_water, notice_days, incidence_limit, broadcast_min, source, edited";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExitStandard> {
    Ok(ExitStandard {
        year: r.get(0)?,
        province: r.get(1)?,
        income_line: r.get(2)?,
        school_age_from: r.get(3)?,
        school_age_to: r.get(4)?,
        check_safe_water: r.get(5)?,
        notice_days: r.get(6)?,
        incidence_limit: r.get(7)?,
        broadcast_min: r.get(8)?,
        source: r.get(9)?,
        edited: r.get(10)?,
    })
}

/// The standard of a year for a province: the province's own row, else the general row.
pub fn standard_for(store: &Store, year: i32, province: &str) -> Result<ExitStandard, ExitError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exit_standard WHERE year = ?1 AND province IN (?2, '')
         ORDER BY province = '' LIMIT 1"
    );
    store
        .conn()
        .query_row(&sql, params![year, province], from_row)
        .optional()
        .map_err(crate::store::StoreError::from)?
        .ok_or(ExitError::NoStandard { year })
}

/// Every standard, by year then province.
pub fn list_standards(store: &Store) -> Result<Vec<ExitStandard>, ExitError> {
    let sql = format!("SELECT {COLUMNS} FROM exit_standard ORDER BY year, province");
    let mut stmt = store
        .conn()
        .prepare(&sql)
        .map_err(crate::store::StoreError::from)?;
    let rows = stmt
        .query_map([], from_row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(crate::store::StoreError::from)?;
    Ok(rows)
}

/// Adds or replaces a year's standard for a province; the row is marked edited.
pub fn set_standard(store: &Store, standard: &ExitStandard) -> Result<(), ExitError> {
    let bad = |field| Err(ExitError::BadStandard { field });
    if !(standard.income_line.is_finite() && standard.income_line > 0.0) {
        return bad("贫困线");
    }
    if standard.school_age_from > standard.school_age_to || standard.school_age_to > 25 {
        return bad("义务教育年龄");
    }
    if !(1..=60).contains(&standard.notice_days) {
        return bad("公示天数");
    }
    if !(0.0..=100.0).contains(&standard.incidence_limit) {
        return bad("贫困发生率上限");
    }
    if !(0.0..=100.0).contains(&standard.broadcast_min) {
        return bad("广播电视覆盖率下限");
    }
    store
        .conn()
        .execute(
            &format!("INSERT OR REPLACE INTO exit_standard ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)"),
            params![
                standard.year,
                standard.province.trim(),
                standard.income_line,
                standard.school_age_from,
                standard.school_age_to,
                standard.check_safe_water,
                standard.notice_days,
                standard.incidence_limit,
                standard.broadcast_min,
                standard.source,
            ],
        )
        .map_err(crate::store::StoreError::from)?;
    Ok(())
}
