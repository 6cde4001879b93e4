//! Small local numbers for device UUIDs and field names, so each op row stays short.
//!
//! The caches may hold numbers assigned inside a transaction that later rolled back; the store
//! clears them after any failed write so a stale number is never reused.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Dictionary {
    device_idx: HashMap<Uuid, i64>,
    device_id: HashMap<i64, Uuid>,
    /// Per table code, field name → number; looked up by `&str` without allocating. The maps
    /// keep the standard hash (keyed at random): their keys come from other devices' files, and
    /// a hash without a key would let a crafted file make every lookup collide.
    field_idx: HashMap<i64, HashMap<String, i64>>,
    field_name: HashMap<i64, (i64, String)>,
}

impl Dictionary {
    pub fn clear(&mut self) {
        *self = Dictionary::default();
    }

    pub fn device_idx(&mut self, conn: &Connection, id: Uuid) -> rusqlite::Result<i64> {
        if let Some(&idx) = self.device_idx.get(&id) {
            return Ok(idx);
        }
        let found: Option<i64> = conn
            .prepare_cached("SELECT idx FROM device WHERE id = ?1")?
            .query_row([id.as_bytes().as_slice()], |r| r.get(0))
            .optional()?;
        let idx = match found {
            Some(idx) => idx,
            None => {
                conn.prepare_cached("INSERT INTO device (id) VALUES (?1)")?
                    .execute([id.as_bytes().as_slice()])?;
                conn.last_insert_rowid()
            }
        };
        self.device_idx.insert(id, idx);
        self.device_id.insert(idx, id);
        Ok(idx)
    }

    pub fn device_id(&mut self, conn: &Connection, idx: i64) -> rusqlite::Result<Uuid> {
        if let Some(&id) = self.device_id.get(&idx) {
            return Ok(id);
        }
        let bytes: Vec<u8> = conn
            .prepare_cached("SELECT id FROM device WHERE idx = ?1")?
            .query_row([idx], |r| r.get(0))?;
        let id = Uuid::from_slice(&bytes).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
        })?;
        self.device_idx.insert(id, idx);
        self.device_id.insert(idx, id);
        Ok(id)
    }

    pub fn field_idx(
        &mut self,
        conn: &Connection,
        table: i64,
        name: &str,
    ) -> rusqlite::Result<i64> {
        if let Some(&idx) = self.field_idx.get(&table).and_then(|m| m.get(name)) {
            return Ok(idx);
        }
        let found: Option<i64> = conn
            .prepare_cached("SELECT idx FROM field_name WHERE tbl = ?1 AND name = ?2")?
            .query_row(params![table, name], |r| r.get(0))
            .optional()?;
        let idx = match found {
            Some(idx) => idx,
            None => {
                conn.prepare_cached("INSERT INTO field_name (tbl, name) VALUES (?1, ?2)")?
                    .execute(params![table, name])?;
                conn.last_insert_rowid()
            }
        };
        self.field_idx
            .entry(table)
            .or_default()
            .insert(name.to_owned(), idx);
        self.field_name.insert(idx, (table, name.to_owned()));
        Ok(idx)
    }

    /// The (table code, field name) of a local field number.
    pub fn field_name(&mut self, conn: &Connection, idx: i64) -> rusqlite::Result<(i64, String)> {
        if let Some(entry) = self.field_name.get(&idx) {
            return Ok(entry.clone());
        }
        let (table, name): (i64, String) = conn
            .prepare_cached("SELECT tbl, name FROM field_name WHERE idx = ?1")?
            .query_row([idx], |r| Ok((r.get(0)?, r.get(1)?)))?;
        self.field_idx
            .entry(table)
            .or_default()
            .insert(name.clone(), idx);
        self.field_name.insert(idx, (table, name.clone()));
        Ok((table, name))
    }
}
