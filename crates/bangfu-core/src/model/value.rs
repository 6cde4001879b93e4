//! The value of one field as the op log carries it, and how Rust field types map onto it.

use chrono::NaiveDate;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A field value in the op log and on the wire. Dates travel as `YYYY-MM-DD` text, booleans as
/// 0/1 and row references as 16 bytes, so the op log stays readable by older and newer versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum FieldValue {
    #[default]
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl FieldValue {
    pub fn from_sql(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => FieldValue::Null,
            ValueRef::Integer(i) => FieldValue::Int(i),
            ValueRef::Real(r) => FieldValue::Real(r),
            ValueRef::Text(t) => FieldValue::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => FieldValue::Bytes(b.to_vec()),
        }
    }

    pub fn to_sql_value(&self) -> SqlValue {
        match self {
            FieldValue::Null => SqlValue::Null,
            FieldValue::Int(i) => SqlValue::Integer(*i),
            FieldValue::Real(r) => SqlValue::Real(*r),
            FieldValue::Text(t) => SqlValue::Text(t.clone()),
            FieldValue::Bytes(b) => SqlValue::Blob(b.clone()),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    /// A short text for review screens and logs.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Null => String::new(),
            FieldValue::Int(i) => i.to_string(),
            FieldValue::Real(r) => r.to_string(),
            FieldValue::Text(t) => t.clone(),
            FieldValue::Bytes(b) => Uuid::from_slice(b)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| format!("{} bytes", b.len())),
        }
    }
}

impl rusqlite::ToSql for FieldValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            FieldValue::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            FieldValue::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            FieldValue::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            FieldValue::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            FieldValue::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// What kind of value a field holds; drives validation, the UI's editors and Excel cell types.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Int,
    Real,
    Bool,
    Date,
    Ref,
}

/// A Rust type that can be a field of an entity.
pub trait FieldType: Sized {
    const KIND: FieldKind;
    fn to_value(&self) -> FieldValue;
    /// `None` when the stored value has the wrong type (a newer or corrupted writer).
    fn from_value(v: &FieldValue) -> Option<Self>;
}

impl FieldType for String {
    const KIND: FieldKind = FieldKind::Text;
    fn to_value(&self) -> FieldValue {
        FieldValue::Text(self.clone())
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(String::new()),
            FieldValue::Text(t) => Some(t.clone()),
            FieldValue::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }
}

impl FieldType for Option<i64> {
    const KIND: FieldKind = FieldKind::Int;
    fn to_value(&self) -> FieldValue {
        self.map_or(FieldValue::Null, FieldValue::Int)
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Int(i) => Some(Some(*i)),
            _ => None,
        }
    }
}

impl FieldType for Option<f64> {
    const KIND: FieldKind = FieldKind::Real;
    fn to_value(&self) -> FieldValue {
        self.map_or(FieldValue::Null, FieldValue::Real)
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Real(r) => Some(Some(*r)),
            FieldValue::Int(i) => Some(Some(*i as f64)),
            _ => None,
        }
    }
}

impl FieldType for Option<bool> {
    const KIND: FieldKind = FieldKind::Bool;
    fn to_value(&self) -> FieldValue {
        self.map_or(FieldValue::Null, |b| FieldValue::Int(i64::from(b)))
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Int(i) => Some(Some(*i != 0)),
            _ => None,
        }
    }
}

impl FieldType for Option<NaiveDate> {
    const KIND: FieldKind = FieldKind::Date;
    fn to_value(&self) -> FieldValue {
        self.map_or(FieldValue::Null, |d| {
            FieldValue::Text(d.format("%Y-%m-%d").to_string())
        })
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Text(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(Some),
            _ => None,
        }
    }
}

impl FieldType for Option<Uuid> {
    const KIND: FieldKind = FieldKind::Ref;
    fn to_value(&self) -> FieldValue {
        self.map_or(FieldValue::Null, |u| {
            FieldValue::Bytes(u.as_bytes().to_vec())
        })
    }
    fn from_value(v: &FieldValue) -> Option<Self> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Bytes(b) => Uuid::from_slice(b).ok().map(Some),
            _ => None,
        }
    }
}
