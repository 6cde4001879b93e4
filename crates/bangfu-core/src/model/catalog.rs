//! The field catalog and value lists as one serializable description, for the UI's forms and
//! for import header matching.

use serde::Serialize;

use super::codes::{self, CodeList};
use super::{FieldSpec, Table};

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct TableCatalog {
    pub table: &'static str,
    pub label: &'static str,
    pub fields: &'static [FieldSpec],
}

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
pub struct Catalog {
    pub tables: Vec<TableCatalog>,
    pub code_lists: Vec<&'static CodeList>,
    /// The 与户主关系 code of the 户主 himself (the page marks and keeps one).
    pub relation_head: &'static str,
}

pub fn catalog() -> Catalog {
    Catalog {
        tables: Table::ALL
            .iter()
            .map(|t| TableCatalog {
                table: t.sql_name(),
                label: t.label(),
                fields: t.fields(),
            })
            .collect(),
        code_lists: codes::ALL.to_vec(),
        relation_head: codes::RELATION_HEAD,
    }
}
