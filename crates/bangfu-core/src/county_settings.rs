//! The county's settings that are not a year's 脱贫标准 (issue 16): so far the first year of
//! 建档立卡, before which a household's 建档日期 is questioned. Set by the county in the
//! replicated `county_setting` table (ops, signatures, review items like the standards, one row
//! per setting), so every copy of the county judges by the same year; a copy without the row
//! uses the figure the program ships, naming its source.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Permission;
use crate::error::UserFacing;
use crate::model::{CountySetting, Table};
use crate::store::{Store, StoreError};

/// The key of the first year of 建档立卡.
pub const FIRST_FILING_YEAR: &str = "first_filing_year";

/// The year the program ships: 精准识别 and 建档立卡 began nationwide in 2014.
pub const SHIPPED_FIRST_FILING_YEAR: i32 = 2014;

/// Where the shipped year comes from.
pub const SHIPPED_FIRST_FILING_SOURCE: &str = "国务院扶贫办《扶贫开发建档立卡工作方案》（国开办发〔2014〕24号）：2014年起在全国开展贫困户建档立卡";

/// The earliest first filing year a county may set: the national poverty programme of 1986.
const EARLIEST_FIRST_FILING_YEAR: i32 = 1986;

/// The first year of 建档立卡 in force on this copy: a 建档日期 before it is questioned (a
/// warning, never a refusal).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstFilingYear {
    pub year: i32,
    /// Where the year comes from (the county's document, or the shipped one).
    pub source: String,
    /// Set by the county (a synced row), not the year the program ships.
    pub edited: bool,
}

/// The county's settings in force on this copy, each with its source.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountySettings {
    pub first_filing_year: FirstFilingYear,
}

impl Default for CountySettings {
    /// What the program ships, for a copy the county's settings have not reached.
    fn default() -> Self {
        CountySettings {
            first_filing_year: FirstFilingYear {
                year: SHIPPED_FIRST_FILING_YEAR,
                source: SHIPPED_FIRST_FILING_SOURCE.to_owned(),
                edited: false,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CountySettingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("first filing year {year} outside {EARLIEST_FIRST_FILING_YEAR}..={latest}")]
    FirstFilingYearOutOfRange { year: i32, latest: i32 },
    #[error("a county setting needs its source")]
    NoSource,
}

impl UserFacing for CountySettingError {
    fn kind(&self) -> &'static str {
        match self {
            CountySettingError::Store(e) => e.kind(),
            CountySettingError::FirstFilingYearOutOfRange { .. } => {
                "first_filing_year_out_of_range"
            }
            CountySettingError::NoSource => "county_setting_no_source",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            CountySettingError::Store(e) => e.message_zh(),
            CountySettingError::FirstFilingYearOutOfRange { year, latest } => format!(
                "首次建档年度 {year} 不在 {EARLIEST_FIRST_FILING_YEAR}—{latest} 年之间，请改正后再保存。"
            ),
            CountySettingError::NoSource => {
                "请填写“依据”（县里的文件名称和文号），全县各台电脑都会看到。本次设定未保存。"
                    .into()
            }
        }
    }
}

/// The row id of a setting: the same on every copy.
pub fn setting_id(key: &str) -> Uuid {
    crate::model::key_id(&[b"bangfu/county_setting/", key.as_bytes()])
}

/// The county's settings in force on this copy: the county's rows over what the program
/// ships. A row whose value this version cannot read (not arrived whole yet) is left aside.
pub fn county_settings(store: &Store) -> Result<CountySettings, StoreError> {
    let mut settings = CountySettings::default();
    match store.get::<CountySetting>(setting_id(FIRST_FILING_YEAR)) {
        Ok(row) => {
            if let Ok(year) = row.value.trim().parse::<i32>() {
                settings.first_filing_year = FirstFilingYear {
                    year,
                    source: row.source,
                    edited: true,
                };
            }
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(other) => return Err(other),
    }
    Ok(settings)
}

/// Sets the county's first year of 建档立卡 (a synced row, the same on every copy), with the
/// document it comes from. Who may: those who set the 脱贫标准 ([`Permission::ChangeSettings`]).
pub fn set_first_filing_year(
    store: &mut Store,
    year: i32,
    source: &str,
) -> Result<(), CountySettingError> {
    store.require(Permission::ChangeSettings)?;
    let latest = chrono::Datelike::year(&store.today());
    if !(EARLIEST_FIRST_FILING_YEAR..=latest).contains(&year) {
        return Err(CountySettingError::FirstFilingYearOutOfRange { year, latest });
    }
    let source = source.trim();
    if source.is_empty() {
        return Err(CountySettingError::NoSource);
    }
    let record = CountySetting {
        id: setting_id(FIRST_FILING_YEAR),
        key: FIRST_FILING_YEAR.to_owned(),
        value: year.to_string(),
        source: source.to_owned(),
    };
    store.put_county_row(crate::store::put_change(&record))?;
    Ok(())
}

/// Takes back the county's first filing year: the shipped 2014 applies again. `false` when the
/// county had not set it.
pub fn clear_first_filing_year(store: &mut Store) -> Result<bool, StoreError> {
    store.clear_county_row(Table::CountySetting, setting_id(FIRST_FILING_YEAR))
}
