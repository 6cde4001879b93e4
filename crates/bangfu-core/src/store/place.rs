//! Where this copy works (所属乡镇、村), as the first-run wizard asked: local `meta` of the data
//! file, never replicated, shown in the app's header and used to name things for the person.

use rusqlite::params;
use serde::Serialize;

use super::error::PLACE_NAME_MAX_CHARS;
use super::{Store, StoreError, meta_get};

const META_TOWNSHIP: &str = "home_township";
const META_VILLAGE: &str = "home_village";

/// 所属乡镇 and 村 of this copy, as typed in the first-run wizard (the village may be blank
/// for a township station).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HomePlace {
    pub township: String,
    pub village: String,
}

impl Store {
    /// Records 所属乡镇/村 (trimmed). The township is required, the village may be blank;
    /// overlong names are refused.
    pub fn set_home_place(&mut self, township: &str, village: &str) -> Result<(), StoreError> {
        let (township, village) = (township.trim(), village.trim());
        if township.is_empty() || township.chars().count() > PLACE_NAME_MAX_CHARS {
            return Err(StoreError::BadPlaceName(township.to_owned()));
        }
        if village.chars().count() > PLACE_NAME_MAX_CHARS {
            return Err(StoreError::BadPlaceName(village.to_owned()));
        }
        let tx = self.conn.unchecked_transaction()?;
        for (key, value) in [(META_TOWNSHIP, township), (META_VILLAGE, village)] {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// 所属乡镇/村 if the wizard (or `set_home_place`) recorded them.
    pub fn home_place(&self) -> Result<Option<HomePlace>, StoreError> {
        let township: Option<String> = meta_get(&self.conn, META_TOWNSHIP)?;
        let village: Option<String> = meta_get(&self.conn, META_VILLAGE)?;
        Ok(township.map(|township| HomePlace {
            township,
            village: village.unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::store::{OpenOptions, Store, StoreError};

    #[test]
    fn home_place_is_kept_in_the_file_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("reg")),
            ..OpenOptions::default()
        };
        let mut store = Store::open(&path, &options).unwrap();
        assert_eq!(store.home_place().unwrap(), None);
        assert!(matches!(
            store.set_home_place("  ", "新文村"),
            Err(StoreError::BadPlaceName(_))
        ));
        assert!(matches!(
            store.set_home_place("乡".repeat(41).as_str(), ""),
            Err(StoreError::BadPlaceName(_))
        ));
        store.set_home_place(" 勐先乡 ", "新文村").unwrap();
        drop(store);
        let store = Store::open(&path, &options).unwrap();
        let place = store.home_place().unwrap().unwrap();
        assert_eq!(
            (place.township.as_str(), place.village.as_str()),
            ("勐先乡", "新文村")
        );
    }
}
