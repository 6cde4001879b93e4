//! Drafts: a form's unsaved edits, written on every change so that a closed window, a crash
//! or a power cut never loses what was typed at a door. Local to this copy, never replicated.
//! Drafts hold full 证件号码 as typed, so only roles that file households see or make them: a
//! 只读 inspector can neither save a page nor read the team's unsaved work.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError};

#[derive(ts_rs::TS, Debug, Clone, Serialize, PartialEq)]
pub struct Draft {
    /// What the draft is of, e.g. `household:<id>` or `household:new`.
    pub key: String,
    /// What the user will recognise, e.g. "户主 王大山 的贫困户信息".
    pub title: String,
    /// The form's state as the UI wrote it (JSON).
    pub content: String,
    pub updated_ms: i64,
}

impl Store {
    /// Keeps a page's unsaved edits. For a role that does not file households nothing is
    /// kept (the page cannot be saved by it either), and that is not an error: the window
    /// keeps a draft of whatever page is open.
    pub fn save_draft(&self, key: &str, title: &str, content: &str) -> Result<(), StoreError> {
        if !self.files_households()? {
            return Ok(());
        }
        self.conn.execute(
            "INSERT OR REPLACE INTO draft (key, title, content, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            params![key, title, content, self.wall_ms() as i64],
        )?;
        Ok(())
    }

    /// Every draft, newest first; none for a role that does not file households.
    pub fn drafts(&self) -> Result<Vec<Draft>, StoreError> {
        if !self.files_households()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT key, title, content, updated_ms FROM draft ORDER BY updated_ms DESC",
        )?;
        let drafts = stmt
            .query_map([], |r| {
                Ok(Draft {
                    key: r.get(0)?,
                    title: r.get(1)?,
                    content: r.get(2)?,
                    updated_ms: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(drafts)
    }

    fn files_households(&self) -> Result<bool, StoreError> {
        match self.require(crate::access::Permission::FileHouseholds) {
            Ok(()) => Ok(true),
            Err(StoreError::Access(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    pub fn discard_draft(&self, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM draft WHERE key = ?1", [key])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{OpenOptions, Store};

    #[test]
    fn a_draft_survives_reopening_until_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("r")),
            ..Default::default()
        };
        let path = dir.path().join("a.sqlite");
        let store = Store::open(&path, &options).unwrap();
        store
            .save_draft(
                "household:new",
                "新建贫困户",
                r#"{"code":"530826103201301"}"#,
            )
            .unwrap();
        store
            .save_draft(
                "household:new",
                "新建贫困户",
                r#"{"code":"530826103201302"}"#,
            )
            .unwrap();
        drop(store);
        let store = Store::open(&path, &options).unwrap();
        let drafts = store.drafts().unwrap();
        assert_eq!(drafts.len(), 1);
        assert!(drafts[0].content.contains("302"));
        store.discard_draft("household:new").unwrap();
        assert!(store.drafts().unwrap().is_empty());
        assert_eq!(
            store.op_count().unwrap(),
            0,
            "drafts are not replicated data"
        );
    }
}
