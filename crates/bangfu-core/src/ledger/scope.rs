//! Which households a ledger or report covers: one village, one township, or the whole file.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::LedgerError;
use crate::store::Store;

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Scope {
    All,
    /// A village by its 12-digit code.
    Village(String),
    /// A township by its name, as the villages record it.
    Township(String),
}

impl Scope {
    /// The SQL condition on the joined village `v`, a fixed fragment, and its bound value.
    pub(crate) fn condition(&self) -> (&'static str, Option<&str>) {
        match self {
            Scope::All => ("1 = 1", None),
            Scope::Village(code) => ("v.code = ?1", Some(code)),
            Scope::Township(name) => ("v.township = ?1", Some(name)),
        }
    }

    /// The unit named in a ledger's title, e.g. "某某县某某镇某某村"; checks the scope exists.
    pub fn unit_name(&self, store: &Store) -> Result<String, LedgerError> {
        let conn = store.conn();
        let row = |sql: &str, key: &str| {
            conn.query_row(sql, [key], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                ))
            })
            .optional()
        };
        match self {
            Scope::All => {
                let county: Option<String> = conn
                    .query_row(
                        "SELECT county FROM village WHERE deleted = 0 AND county <> ''
                         GROUP BY county ORDER BY count(*) DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(crate::store::StoreError::from)?;
                Ok(county.unwrap_or_else(|| "全部".to_owned()))
            }
            Scope::Village(code) => {
                let found = row(
                    "SELECT county, township, name FROM village WHERE deleted = 0 AND code = ?1 LIMIT 1",
                    code,
                )
                .map_err(crate::store::StoreError::from)?;
                let (county, township, name) =
                    found.ok_or_else(|| LedgerError::UnknownVillage { code: code.clone() })?;
                Ok(format!("{county}{township}{name}"))
            }
            Scope::Township(name) => {
                let found = row(
                    "SELECT county, township, '' FROM village WHERE deleted = 0 AND township = ?1 LIMIT 1",
                    name,
                )
                .map_err(crate::store::StoreError::from)?;
                let (county, township, _) =
                    found.ok_or_else(|| LedgerError::UnknownTownship { name: name.clone() })?;
                Ok(format!("{county}{township}"))
            }
        }
    }
}
