//! The heads as a local writer sees them: what a field shows and which ops a new op supersedes.

use super::*;

/// A current head as a writer sees it.
#[derive(Debug, Clone)]
pub(crate) struct HeadView {
    pub id: crate::sync::OpId,
    pub hlc: Hlc,
    pub value: FieldValue,
}

impl HeadView {
    /// The head whose value is shown among several.
    pub fn shown(heads: &[HeadView]) -> Option<&HeadView> {
        heads
            .iter()
            .max_by(|a, b| (a.hlc, a.id.origin).cmp(&(b.hlc, b.id.origin)))
    }
}

impl Applier<'_> {
    /// A timestamp for a new local op.
    pub fn tick(&mut self) -> Hlc {
        self.clock.tick(self.wall_ms)
    }

    /// The current heads of one field, as stored (ops applied earlier in this transaction
    /// included).
    pub fn field_heads(
        &mut self,
        row: Uuid,
        table: i64,
        field: &str,
    ) -> rusqlite::Result<Vec<HeadView>> {
        let conn = self.conn;
        let field = self.dict.field_idx(conn, table, field)?;
        // A row touched earlier in this transaction: its heads are in memory, not yet stored.
        if let Some(state) = self.touched_row(row) {
            return Ok(state
                .heads(field)
                .unwrap_or_default()
                .iter()
                .map(|h| HeadView {
                    id: crate::sync::OpId {
                        origin: h.origin_id,
                        seq: h.seq,
                    },
                    hlc: h.hlc,
                    value: h.value.clone(),
                })
                .collect());
        }
        let mut heads = Vec::new();
        for (_, origin, seq) in heads::load(conn, row)?
            .into_iter()
            .filter(|&(f, _, _)| f == field)
        {
            let (hlc, value, _) = load_op(conn, origin, seq)?;
            let origin = self.dict.device_id(conn, origin)?;
            heads.push(HeadView {
                id: crate::sync::OpId { origin, seq },
                hlc,
                value,
            });
        }
        Ok(heads)
    }

    /// Whether the row has any op at all (a row never written has none).
    pub fn has_heads(&mut self, row: Uuid) -> rusqlite::Result<bool> {
        // A row touched earlier in this transaction: its heads are in memory.
        if let Some(state) = self.touched_row(row) {
            return Ok(state.fields.iter().any(|f| !f.heads.is_empty()));
        }
        heads::exists(self.conn, row)
    }

    /// Every current head of a row: (field name, op id), for a delete's `seen` list.
    pub fn row_heads(&mut self, row: Uuid) -> rusqlite::Result<Vec<(String, crate::sync::OpId)>> {
        let conn = self.conn;
        let raw: Vec<(i64, i64, i64)> = match self.touched_row(row) {
            // A row touched earlier in this transaction: its heads are in memory.
            Some(state) => state.head_keys(),
            None => heads::load(conn, row)?,
        };
        let mut out = Vec::with_capacity(raw.len());
        for (field, origin, seq) in raw {
            let (_, name) = self.dict.field_name(conn, field)?;
            let origin = self.dict.device_id(conn, origin)?;
            out.push((name, crate::sync::OpId { origin, seq }));
        }
        Ok(out)
    }
}
