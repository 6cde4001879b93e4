//! Reading current records from the materialized tables.

use rusqlite::params;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::model::{Entity, FieldValue};

/// Which rows of a table to read. Each variant maps to a fixed SQL condition.
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    Id(Uuid),
    /// Live rows whose `household_id` is this household.
    OfHousehold(Uuid),
    /// Live rows whose `village_id` is this village (households, work team members).
    OfVillage(Uuid),
    /// Every live row.
    All,
}

impl Store {
    /// Live records matching the filter, in insertion order.
    pub fn read<E: Entity>(&self, filter: Filter) -> Result<Vec<E>, StoreError> {
        let (condition, key) = match filter {
            Filter::Id(id) => ("id = ?1 AND deleted = 0", Some(id)),
            Filter::OfHousehold(id) => ("household_id = ?1 AND deleted = 0", Some(id)),
            Filter::OfVillage(id) => ("village_id = ?1 AND deleted = 0", Some(id)),
            Filter::All => ("deleted = 0", None),
        };
        // Column and table names come from the static catalog.
        let sql = format!(
            "SELECT {} FROM {} WHERE {condition} ORDER BY rowid",
            entity_columns::<E>(),
            E::TABLE.sql_name()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let key_bytes = key.map(|k| k.as_bytes().to_vec());
        let mut rows = match &key_bytes {
            Some(k) => stmt.query(params![k])?,
            None => stmt.query([])?,
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(entity_from_row(r, 0)?);
        }
        Ok(out)
    }

    /// One live record by id.
    pub fn get<E: Entity>(&self, id: Uuid) -> Result<E, StoreError> {
        self.read::<E>(Filter::Id(id))?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound {
                table: E::TABLE.label(),
                id,
            })
    }

    /// Writes a whole record unchecked (see [`Store::write_unchecked`]).
    pub(crate) fn put_unchecked<E: Entity>(
        &mut self,
        record: &E,
    ) -> Result<super::WriteOutcome, StoreError> {
        self.write_unchecked(&[put_change(record)])
    }
}

/// The change that writes a whole record.
pub fn put_change<E: Entity>(record: &E) -> super::Change {
    super::Change::Put {
        table: E::TABLE,
        id: record.id(),
        fields: record.to_fields(),
    }
}

/// The columns [`entity_from_row`] reads: `id`, then every field of the catalog.
pub(crate) fn entity_columns<E: Entity>() -> String {
    let mut cols = String::from("id");
    for f in E::FIELDS {
        cols.push_str(", ");
        cols.push_str(f.name);
    }
    cols
}

/// A record from a row holding [`entity_columns`] from column `first` on.
pub(crate) fn entity_from_row<E: Entity>(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> Result<E, StoreError> {
    let id_bytes: Vec<u8> = r.get(first)?;
    let id = Uuid::from_slice(&id_bytes).unwrap_or_default();
    let mut values = Vec::with_capacity(E::FIELDS.len());
    for i in 0..E::FIELDS.len() {
        values.push(FieldValue::from_sql(r.get_ref(first + 1 + i)?));
    }
    let mut values = values.into_iter();
    E::from_fields(id, &mut |_| values.next().unwrap_or_default()).map_err(|field| {
        StoreError::BadStoredValue {
            table: E::TABLE.label(),
            field,
        }
    })
}
