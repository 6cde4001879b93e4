//! The review queue as people see it: each conflict with every competing value, who wrote it,
//! on which device and when; and each edit that met a delete.

use rusqlite::OptionalExtension;
use serde::Serialize;
use uuid::Uuid;

use crate::model::{DELETED_FIELD, FieldValue, Table};
use crate::store::{Store, StoreError};
use crate::sync::Hlc;

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct ReviewValue {
    pub value: String,
    /// The device that wrote the value; for this copy's own writes, with the person signed in then.
    pub device: String,
    /// Local time of the writer's clock, `YYYY-MM-DD HH:MM`.
    pub written_at: String,
    /// The value shown now (greatest clock, then device id).
    pub shown: bool,
    /// Stamped more than a day ahead of this machine's date when it arrived: the writer's
    /// date was probably wrong.
    pub clock_ahead: bool,
}

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct ReviewItem {
    /// "conflict" (several values), "edit_of_deleted" (an edit the deleter did not see) or
    /// "clock_ahead" (one value, stamped far ahead of this machine's date when it arrived).
    pub kind: &'static str,
    pub table: String,
    pub row_id: String,
    /// The household the row belongs to, for finding it: its code.
    pub household_code: String,
    pub field: String,
    pub field_label: String,
    pub values: Vec<ReviewValue>,
}

fn written_at(hlc: Hlc) -> String {
    chrono::DateTime::from_timestamp_millis(hlc.millis() as i64 + 8 * 3600 * 1000)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn household_code(store: &Store, table: Option<Table>, row: &[u8]) -> Result<String, StoreError> {
    let sql = match table {
        Some(Table::Household) => "SELECT code FROM household WHERE id = ?1",
        Some(t) if crate::model::household_ref_field(t).is_some() => match t {
            Table::Member => {
                "SELECT h.code FROM member x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Income => {
                "SELECT h.code FROM income x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Pairing => {
                "SELECT h.code FROM pairing x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Measure => {
                "SELECT h.code FROM measure x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::ExitStep => {
                "SELECT h.code FROM exit_step x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Payment => {
                "SELECT h.code FROM payment x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Relocation => {
                "SELECT h.code FROM relocation x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            Table::Attachment => {
                "SELECT h.code FROM attachment x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
            _ => {
                "SELECT h.code FROM visit x JOIN household h ON h.id = x.household_id WHERE x.id = ?1"
            }
        },
        _ => return Ok(String::new()),
    };
    Ok(store
        .conn()
        .query_row(sql, [row], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten()
        .unwrap_or_default())
}

/// The kind number of an item made from a clock flag (conflicts are 1, edits of deleted rows
/// 2 in `review_item`).
const CLOCK_AHEAD_KIND: i64 = 100;

/// Every open review item, households first.
pub fn review_items(store: &Store) -> Result<Vec<ReviewItem>, StoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT r.row, r.field, r.kind, r.tbl, f.name FROM review_item r
         JOIN field_name f ON f.idx = r.field ORDER BY r.tbl, r.row, f.name",
    )?;
    let mut items: Vec<(Vec<u8>, i64, i64, i64, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut op_stmt = conn.prepare(
        // The person signed in when the value was written (issue 15) follows the device's
        // name: this copy's own person table, or the name the writing device signed with its
        // batch (carried by files and the hub, `op_batch.author`).
        // A device known only through the hub has its name in `device_key` (the hub's page
        // names its writers), not in `device`.
        // A name a person confirmed (or the county enrolled) wins over one a file declared.
        "SELECT o.val,
                (CASE WHEN k.confirmed = 1 AND k.name <> '' THEN k.name
                      ELSE coalesce(nullif(d.name, ''), k.name, '') END)
                    || coalesce('（' || coalesce(p.name, b.author) || '）', ''), d.id,
                o.hlc,
                EXISTS (SELECT 1 FROM clock_flag c WHERE c.origin = o.origin AND c.seq = o.seq)
         FROM op o JOIN device d ON d.idx = o.origin
         LEFT JOIN device_key k ON k.device = d.id
         LEFT JOIN op_author a ON a.origin = o.origin
              AND a.first_seq = (SELECT max(first_seq) FROM op_author
                                 WHERE origin = o.origin AND first_seq <= o.seq)
              AND o.seq <= a.last_seq
         LEFT JOIN person p ON p.id = a.person
         LEFT JOIN op_batch b ON b.origin = o.origin
              AND b.first_seq = (SELECT max(first_seq) FROM op_batch
                                 WHERE origin = o.origin AND first_seq <= o.seq)
              AND o.seq <= b.last_seq
         WHERE o.origin = ?1 AND o.seq = ?2",
    )?;
    // An op flagged for its clock is an item of its own while it is a head of a field that is
    // not already in the queue (a conflict lists it among its values, marked).
    let mut flagged = conn.prepare(
        "SELECT o.row, o.field, o.tbl, f.name, o.origin, o.seq FROM clock_flag c
         JOIN op o ON o.origin = c.origin AND o.seq = c.seq
         JOIN field_name f ON f.idx = o.field ORDER BY o.tbl, o.row, f.name",
    )?;
    let flagged: Vec<(Vec<u8>, i64, i64, String, i64, i64)> = flagged
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (row, field, tbl, name, origin, seq) in flagged {
        if items.iter().any(|i| i.0 == row && i.1 == field) {
            continue;
        }
        let Ok(id) = Uuid::from_slice(&row) else {
            continue;
        };
        let is_head = crate::store::heads::load(conn, id)?.contains(&(field, origin, seq));
        if is_head {
            items.push((row, field, CLOCK_AHEAD_KIND, tbl, name));
        }
    }
    // A 证件号码 in conflict is shown masked to a role that does not see full numbers (it
    // cannot settle the item either: that takes a role that does).
    let mask_ids = !store.sees_full_ids()?;
    let mut out = Vec::with_capacity(items.len());
    for (row, field, kind, tbl, name) in items {
        let table = Table::from_code(tbl);
        let keys = match Uuid::from_slice(&row) {
            Ok(id) => crate::store::heads::load(conn, id)?,
            Err(_) => Vec::new(),
        };
        let mut values: Vec<(FieldValue, String, Vec<u8>, i64, bool)> = Vec::new();
        for (_, origin, seq) in keys.into_iter().filter(|&(f, _, _)| f == field) {
            values.push(op_stmt.query_row([origin, seq], |r| {
                Ok((
                    FieldValue::from_sql(r.get_ref(0)?),
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?);
        }
        values.sort_by(|a, b| (b.3, &b.2).cmp(&(a.3, &a.2)));
        let spec = table.and_then(|t| t.field(&name));
        let label = if name == DELETED_FIELD {
            "删除".to_owned()
        } else {
            spec.map_or_else(|| name.clone(), |s| s.label.to_owned())
        };
        let shown_value = |v: &FieldValue| -> String {
            if name == DELETED_FIELD {
                return if *v == FieldValue::Int(1) {
                    "已删除".into()
                } else {
                    "保留".into()
                };
            }
            match (spec.and_then(|s| s.codes), v) {
                (Some(list), FieldValue::Text(code)) => {
                    list.label(code).map_or_else(|| code.clone(), str::to_owned)
                }
                _ if mask_ids && crate::access::is_masked_field(&name) => {
                    crate::access::mask_id_number(&v.display())
                }
                _ => v.display(),
            }
        };
        out.push(ReviewItem {
            kind: match kind {
                2 => "edit_of_deleted",
                CLOCK_AHEAD_KIND => "clock_ahead",
                _ => "conflict",
            },
            table: table.map_or("", Table::label).to_owned(),
            row_id: Uuid::from_slice(&row).unwrap_or_default().to_string(),
            household_code: household_code(store, table, &row)?,
            field: name.clone(),
            field_label: label,
            values: values
                .iter()
                .enumerate()
                .map(|(i, (v, device, _, hlc, clock_ahead))| ReviewValue {
                    value: shown_value(v),
                    device: device.clone(),
                    written_at: written_at(Hlc::from_i64(*hlc)),
                    shown: i == 0,
                    clock_ahead: *clock_ahead,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Which review item a person settles: what the UI sends back of a [`ReviewItem`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ReviewKey {
    /// The table's label as [`ReviewItem::table`] carries it.
    pub table: String,
    pub row_id: String,
    pub field: String,
}

/// Settles a review item with the value a person chose or typed. For an edit of a deleted
/// row, `keep_deleted` decides between confirming the delete and restoring the row.
pub fn resolve_item(store: &mut Store, item: &ReviewItem, text: &str) -> Result<(), ResolveError> {
    let key = ReviewKey {
        table: item.table.clone(),
        row_id: item.row_id.clone(),
        field: item.field.clone(),
    };
    resolve_key(store, &key, text)
}

/// [`resolve_item`] for an item named by its key.
pub fn resolve_key(store: &mut Store, item: &ReviewKey, text: &str) -> Result<(), ResolveError> {
    store.require(crate::access::Permission::ResolveConflicts)?;
    let table = Table::ALL
        .into_iter()
        .find(|t| t.label() == item.table)
        .ok_or(ResolveError::UnknownTable)?;
    let row = Uuid::parse_str(&item.row_id).map_err(|_| ResolveError::UnknownTable)?;
    let value = if item.field == DELETED_FIELD {
        match text {
            "已删除" | "删除" | "1" => FieldValue::Int(1),
            "保留" | "恢复" | "0" => FieldValue::Int(0),
            _ => return Err(ResolveError::Input("请选择“删除”或“恢复”".into())),
        }
    } else {
        let spec = table.field(&item.field).ok_or(ResolveError::UnknownTable)?;
        crate::model::input::parse_input(spec, text).map_err(|e| ResolveError::Input(e.message))?
    };
    if table == Table::ExitStep {
        // The exit procedure's rows are written by the procedure only.
        crate::exit::procedure::resolve_step_field(store, row, &item.field, value)?;
        return Ok(());
    }
    // Checked as the household page checks the record the value leaves behind.
    store.write(&[crate::store::Change::Resolve {
        table,
        id: row,
        field: item.field.clone(),
        value,
    }])?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("review item names a table or row this version does not know")]
    UnknownTable,
    #[error("bad input: {0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::UserFacing for ResolveError {
    fn kind(&self) -> &'static str {
        match self {
            ResolveError::UnknownTable => "unknown_table",
            ResolveError::Input(_) => "invalid",
            ResolveError::Store(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ResolveError::UnknownTable => "这一项来自更新版本的程序，请升级后再处理。".into(),
            ResolveError::Input(m) => m.clone(),
            ResolveError::Store(e) => e.message_zh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Household;
    use crate::store::Filter;

    /// Regression: settling a conflict of a multi-code field refused 缺技术 缺资金, which a roll
    /// import took; both split with `model::input::split_codes`.
    #[test]
    fn resolution_accepts_the_multi_code_separators_a_roll_import_takes() {
        let (_dir, mut store) = crate::report::demo_store();
        // A household whose 主要致贫原因 is neither 缺技术 nor 缺资金 (the page refuses repeating it).
        let household = store
            .read::<Household>(Filter::All)
            .unwrap()
            .into_iter()
            .find(|h| h.main_cause != "07" && h.main_cause != "09")
            .unwrap();
        let key = ReviewKey {
            table: Table::Household.label().to_owned(),
            row_id: household.id.to_string(),
            field: "other_causes".into(),
        };
        for typed in ["缺技术，缺资金", "缺技术 缺资金", "缺技术/缺资金"] {
            resolve_key(&mut store, &key, "").unwrap();
            resolve_key(&mut store, &key, typed).unwrap();
            let stored = store
                .read::<Household>(Filter::All)
                .unwrap()
                .into_iter()
                .find(|h| h.id == household.id)
                .unwrap()
                .other_causes;
            assert_eq!(stored, "07,09", "{typed}");
        }
    }
}
