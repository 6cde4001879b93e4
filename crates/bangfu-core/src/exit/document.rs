//! The printed forms of the exit procedure as files: one household's 双认定表 or a village's
//! 公示 list, saved where a person asks (a `.pdf` name is added when the path has none).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use uuid::Uuid;

use super::print::{ExitPrintError, double_confirmation_pdf, notice_list_pdf};
use crate::model::Household;
use crate::store::Store;

/// Which form to print.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExitDocument {
    /// 《贫困户脱贫销号双认定表》 (or 《贫困户帮扶情况认定表》) of one household.
    Sheet { household_id: Uuid, year: i32 },
    /// 拟脱贫户公示名单 of a village.
    Notice { village_code: String, year: i32 },
}

impl ExitDocument {
    pub fn pdf(&self, store: &Store) -> Result<Vec<u8>, ExitPrintError> {
        match self {
            ExitDocument::Sheet { household_id, year } => {
                double_confirmation_pdf(store, *household_id, *year)
            }
            ExitDocument::Notice { village_code, year } => {
                notice_list_pdf(store, village_code, *year)
            }
        }
    }

    /// A file name that says what it is, e.g. `双认定表-530826103201001-2017.pdf`.
    pub fn file_name(&self, store: &Store) -> Result<String, ExitPrintError> {
        Ok(match self {
            ExitDocument::Sheet { household_id, year } => {
                let household: Household = store.get(*household_id)?;
                format!("双认定表-{}-{year}.pdf", household.code)
            }
            ExitDocument::Notice { village_code, year } => {
                format!("拟脱贫户公示名单-{village_code}-{year}.pdf")
            }
        })
    }

    /// Where the form is offered to be saved: beside the data file.
    pub fn suggested_path(&self, store: &Store) -> Result<PathBuf, ExitPrintError> {
        let folder = store.path().parent().unwrap_or(Path::new("."));
        Ok(folder.join(self.file_name(store)?))
    }

    /// Writes the form to `path` and says where it went.
    pub fn save(&self, store: &Store, path: &Path) -> Result<PathBuf, ExitPrintError> {
        let mut path = path.to_path_buf();
        let is_pdf = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
        if !is_pdf {
            path.as_mut_os_string().push(".pdf");
        }
        let bytes = self.pdf(store)?;
        crate::files::write_file(&path, &bytes)?;
        Ok(path)
    }
}
