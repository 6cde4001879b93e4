//! The exit standards (脱贫标准) as the county's synced configuration: per year and province,
//! the income line (贫困线), the notice days, the incidence limit and the village checklist.
//! The county sets them in the replicated `standard` table (ops, signatures, review items like
//! any record, one row per (province, year)); the local `standard_default` table holds what the
//! program ships, each figure naming its source, for a year the county has not set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ExitError;
use crate::model::{Standard, Table, codes};
use crate::store::{Store, StoreError};

/// One year's standard for one province ("" = 全国: any province without its own row).
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
    /// Whether 养老有保障 is checked (the report's 五保障: everyone of insurable age in
    /// 城乡居民基本养老保险).
    #[serde(default)]
    pub check_pension: bool,
    /// The age (周岁 at the year's end) from which a member must be insured for 养老.
    #[serde(default = "default_pension_age")]
    pub pension_age_from: u32,
    /// The shortest 村评议公示 period, in days.
    pub notice_days: i64,
    /// 贫困发生率 of a village must be below this (%).
    pub incidence_limit: f64,
    /// 广播电视覆盖率 of a village must be at least this (%).
    pub broadcast_min: f64,
    /// The 贫困村退出 items checked (codes of `village_check`); empty = all of them.
    #[serde(default)]
    pub village_checklist: Vec<String>,
    /// Where the figure comes from.
    pub source: String,
    /// Set by the county (a synced row), not a figure the program ships.
    pub edited: bool,
}

impl ExitStandard {
    /// Whether the village checklist includes an item (all items when none is named).
    pub fn checks_village_item(&self, code: &str) -> bool {
        self.village_checklist.is_empty() || self.village_checklist.iter().any(|c| c == code)
    }
}

/// The row id of a (province, year): the same on every copy.
pub fn standard_id(year: i32, province: &str) -> Uuid {
    crate::model::key_id(&[
        b"bangfu/standard/",
        province.trim().as_bytes(),
        b"/",
        &year.to_le_bytes(),
    ])
}

fn default_pension_age() -> u32 {
    16
}

const DEFAULT_COLUMNS: &str = "year, province, income_line, school_age_from, school_age_to, \
     check_safe_water, notice_days, incidence_limit, broadcast_min, source, check_pension, \
     pension_age_from";

fn defaults(store: &Store) -> Result<Vec<ExitStandard>, ExitError> {
    let sql = format!("SELECT {DEFAULT_COLUMNS} FROM standard_default ORDER BY year, province");
    let mut stmt = store.conn().prepare(&sql).map_err(StoreError::from)?;
    let rows = stmt
        .query_map([], |r| {
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
                village_checklist: Vec::new(),
                source: r.get(9)?,
                check_pension: r.get(10)?,
                pension_age_from: r.get(11)?,
                edited: false,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(StoreError::from)?;
    Ok(rows)
}

/// A synced row as a standard; a row whose key or line has not arrived yet is skipped.
fn from_record(s: Standard) -> Option<ExitStandard> {
    let d = DefaultFigures::default();
    Some(ExitStandard {
        year: i32::try_from(s.year?).ok()?,
        province: s.province,
        income_line: s.income_line?,
        school_age_from: s
            .school_age_from
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(d.school_age_from),
        school_age_to: s
            .school_age_to
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(d.school_age_to),
        check_safe_water: s.check_safe_water.unwrap_or(true),
        notice_days: s.notice_days.unwrap_or(d.notice_days),
        incidence_limit: s.incidence_limit.unwrap_or(d.incidence_limit),
        broadcast_min: s.broadcast_min.unwrap_or(d.broadcast_min),
        village_checklist: split_codes(&s.village_checklist),
        source: s.source,
        check_pension: s.check_pension.unwrap_or(false),
        pension_age_from: s
            .pension_age_from
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or_else(default_pension_age),
        edited: true,
    })
}

fn split_codes(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The figures of schema 2's defaults, for a synced row that leaves one out.
struct DefaultFigures {
    school_age_from: u32,
    school_age_to: u32,
    notice_days: i64,
    incidence_limit: f64,
    broadcast_min: f64,
}

impl Default for DefaultFigures {
    fn default() -> Self {
        DefaultFigures {
            school_age_from: 6,
            school_age_to: 15,
            notice_days: 5,
            incidence_limit: 3.0,
            broadcast_min: 99.0,
        }
    }
}

/// The rows the county set (synced), live ones only.
fn synced(store: &Store) -> Result<Vec<ExitStandard>, ExitError> {
    let ids: Vec<Vec<u8>> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT id FROM standard WHERE deleted = 0")
            .map_err(StoreError::from)?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(StoreError::from)?
    };
    let mut out = Vec::new();
    for id in ids {
        let Ok(id) = Uuid::from_slice(&id) else {
            continue;
        };
        let record: Standard = store.get(id)?;
        out.extend(from_record(record));
    }
    Ok(out)
}

/// Every standard in force on this copy, by year then province: the county's rows over the
/// shipped ones of the same year and province.
pub fn list_standards(store: &Store) -> Result<Vec<ExitStandard>, ExitError> {
    let mut by_key: BTreeMap<(i32, String), ExitStandard> = BTreeMap::new();
    for s in defaults(store)?.into_iter().chain(synced(store)?) {
        by_key.insert((s.year, s.province.clone()), s);
    }
    Ok(by_key.into_values().collect())
}

/// The standard of a year for a province: the province's own row of the year; else the
/// national (general) row of the year, unless the province's own line of an earlier year is
/// higher: a province's line stands until it sets another, and never falls to the national
/// one. Without a row of the year at all: [`ExitError::NoStandard`].
pub fn standard_for(store: &Store, year: i32, province: &str) -> Result<ExitStandard, ExitError> {
    resolve(&list_standards(store)?, year, province).ok_or(ExitError::NoStandard { year })
}

/// [`standard_for`] over a list of standards (from [`list_standards`]).
pub fn resolve(all: &[ExitStandard], year: i32, province: &str) -> Option<ExitStandard> {
    let province = province.trim();
    let own = |p: &str| all.iter().find(|s| s.year == year && s.province == p);
    if !province.is_empty()
        && let Some(s) = own(province)
    {
        return Some(s.clone());
    }
    let general = own("")?;
    let carried = all
        .iter()
        .filter(|s| !province.is_empty() && s.province == province && s.year < year)
        .max_by_key(|s| s.year);
    match carried {
        Some(c) if c.income_line > general.income_line => {
            let mut s = general.clone();
            s.income_line = c.income_line;
            s.source = format!("沿用{}年{}标准（{}）", c.year, province, c.source);
            Some(s)
        }
        _ => Some(general.clone()),
    }
}

/// What setting a standard would change about the series: a year whose line would be below
/// the year before it (the national line rose every year; a fall is asked about first).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct LineFall {
    pub earlier_year: i32,
    pub earlier_line: f64,
    pub later_year: i32,
    pub later_line: f64,
}

impl LineFall {
    pub fn message_zh(&self, province: &str) -> String {
        format!(
            "{}{}年贫困线 {} 元低于 {} 年的 {} 元。贫困线按当年价格逐年提高，请核对；确实如此的，确认后再保存。",
            if province.is_empty() {
                "全国"
            } else {
                province
            },
            self.later_year,
            self.later_line,
            self.earlier_year,
            self.earlier_line,
        )
    }
}

/// The falls the standard would make against its neighbouring years in force for its province.
pub fn line_falls(store: &Store, standard: &ExitStandard) -> Result<Vec<LineFall>, ExitError> {
    let all = list_standards(store)?;
    let province = standard.province.trim();
    let mut falls = Vec::new();
    if let Some(before) = resolve(&all, standard.year - 1, province)
        && standard.income_line < before.income_line
    {
        falls.push(LineFall {
            earlier_year: standard.year - 1,
            earlier_line: before.income_line,
            later_year: standard.year,
            later_line: standard.income_line,
        });
    }
    if let Some(after) = resolve(&all, standard.year + 1, province)
        && after.income_line < standard.income_line
    {
        falls.push(LineFall {
            earlier_year: standard.year,
            earlier_line: standard.income_line,
            later_year: standard.year + 1,
            later_line: after.income_line,
        });
    }
    Ok(falls)
}

fn check(standard: &ExitStandard) -> Result<(), ExitError> {
    let bad = |field| Err(ExitError::BadStandard { field });
    if !(1978..=2100).contains(&standard.year) {
        return bad("年度");
    }
    if !(standard.income_line.is_finite() && standard.income_line > 0.0) {
        return bad("贫困线");
    }
    if standard.school_age_from > standard.school_age_to || standard.school_age_to > 25 {
        return bad("义务教育年龄");
    }
    if !(10..=70).contains(&standard.pension_age_from) {
        return bad("养老保险参保起始年龄");
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
    if standard
        .village_checklist
        .iter()
        .any(|c| codes::VILLAGE_CHECK.label(c).is_none())
    {
        return bad("贫困村退出核对项目");
    }
    if standard.source.trim().is_empty() {
        return bad("依据");
    }
    Ok(())
}

/// Sets a year's standard for a province (a synced row, the same row on every copy). A line
/// below the year before (or above the year after) is refused with [`ExitError::LineFalls`]
/// unless `accept_fall` says a person confirmed it.
pub fn set_standard(
    store: &mut Store,
    standard: &ExitStandard,
    accept_fall: bool,
) -> Result<(), ExitError> {
    store.require(crate::access::Permission::ChangeSettings)?;
    check(standard)?;
    if !accept_fall {
        let falls = line_falls(store, standard)?;
        if let Some(fall) = falls.into_iter().next() {
            return Err(ExitError::LineFalls {
                province: standard.province.trim().to_owned(),
                fall,
            });
        }
    }
    let province = standard.province.trim();
    let record = Standard {
        id: standard_id(standard.year, province),
        year: Some(i64::from(standard.year)),
        province: province.to_owned(),
        income_line: Some(standard.income_line),
        school_age_from: Some(i64::from(standard.school_age_from)),
        school_age_to: Some(i64::from(standard.school_age_to)),
        check_safe_water: Some(standard.check_safe_water),
        notice_days: Some(standard.notice_days),
        incidence_limit: Some(standard.incidence_limit),
        broadcast_min: Some(standard.broadcast_min),
        village_checklist: standard.village_checklist.join(","),
        source: standard.source.trim().to_owned(),
        check_pension: Some(standard.check_pension),
        pension_age_from: Some(i64::from(standard.pension_age_from)),
    };
    store.put_county_row(crate::store::put_change(&record))?;
    Ok(())
}

/// Takes back the county's row of a (province, year): the shipped figure applies again.
pub fn clear_standard(store: &mut Store, year: i32, province: &str) -> Result<bool, ExitError> {
    Ok(store.clear_county_row(Table::Standard, standard_id(year, province.trim()))?)
}
