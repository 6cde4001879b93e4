//! The review queue: a field with more than one head (a conflict), an edit of a deleted row,
//! a value stamped far ahead; kept current as heads change.

use super::*;

impl Applier<'_> {
    pub(super) fn update_review(
        &mut self,
        state: &RowState,
        row: Uuid,
        deleted_idx: i64,
    ) -> rusqlite::Result<()> {
        let conn = self.conn;
        let row_bytes = row.as_bytes().as_slice();
        // Only a row this copy already held can have open items to close.
        let may_have_items = state.existed
            && conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM review_item WHERE row = ?1)")?
                .query_row([row_bytes], |r| r.get::<_, bool>(0))?;
        for f in state.fields.iter().filter(|f| f.touched) {
            let count = f.heads.len();
            if count <= 1 && !may_have_items {
                continue;
            }
            if count > 1 {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO review_item (row, field, kind, tbl) VALUES (?1, ?2, 1, ?3)",
                )?
                .execute(params![row_bytes, f.field, state.table])?;
                self.stats.open_review_items += 1;
            } else {
                conn.prepare_cached(
                    "DELETE FROM review_item WHERE row = ?1 AND field = ?2 AND kind = 1",
                )?
                .execute(params![row_bytes, f.field])?;
            }
        }
        // A deleted row with a field head its deleter did not see: an edit concurrent with the
        // delete. It goes to review instead of disappearing with the row.
        let Some(delete_heads) = state.heads(deleted_idx) else {
            return Ok(());
        };
        let deleted = matches!(
            winner(delete_heads).map(|h| &h.value),
            Some(FieldValue::Int(1))
        );
        let unseen_edit = deleted && {
            let seen: HashSet<(i64, i64)> = delete_heads
                .iter()
                .flat_map(|h| h.seen.iter().copied())
                .collect();
            state
                .fields
                .iter()
                .filter(|f| f.field != deleted_idx)
                .flat_map(|f| &f.heads)
                .any(|h| !seen.contains(&(h.origin, h.seq)))
        };
        if unseen_edit {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO review_item (row, field, kind, tbl) VALUES (?1, ?2, 2, ?3)",
            )?
            .execute(params![row_bytes, deleted_idx, state.table])?;
            self.stats.open_review_items += 1;
        } else if may_have_items {
            conn.prepare_cached(
                "DELETE FROM review_item WHERE row = ?1 AND field = ?2 AND kind = 2",
            )?
            .execute(params![row_bytes, deleted_idx])?;
        }
        Ok(())
    }
}
