//! Moving a household to another village (易地扶贫搬迁 and the like): its 所属村 and its 户编号,
//! which takes the new village's 12-digit code and a free 3-digit sequence there.

use serde::Serialize;
use uuid::Uuid;

use crate::UserFacing;
use crate::access::Permission;
use crate::model::{FieldType, FieldValue, Household, Table, Village};
use crate::store::{Change, Filter, Store, StoreError};

/// A household moved: where from, where to, and its new 户编号.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    pub household_id: Uuid,
    pub old_code: String,
    pub new_code: String,
    pub village_id: Uuid,
    pub village_code: String,
    pub village_name: String,
    pub ops: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("no village with code {code}")]
    UnknownVillage { code: String },
    #[error("village code {code} is used by {count} villages")]
    AmbiguousVillage { code: String, count: usize },
    #[error("household {code} is already in village {village}")]
    SameVillage { code: String, village: String },
    #[error("village {code} has no free household sequence left")]
    NoFreeCode { code: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UserFacing for MoveError {
    fn kind(&self) -> &'static str {
        match self {
            MoveError::UnknownVillage { .. } => "unknown_village",
            MoveError::AmbiguousVillage { .. } => "ambiguous_village",
            MoveError::SameVillage { .. } => "same_village",
            MoveError::NoFreeCode { .. } => "no_free_household_code",
            MoveError::Store(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            MoveError::UnknownVillage { code } => format!(
                "找不到村代码为 {code} 的村，请核对12位村代码；新村需先在本数据文件中建立后再迁入。"
            ),
            MoveError::AmbiguousVillage { code, count } => {
                format!("村代码 {code} 有 {count} 个村重复，请先在“冲突与重复”中处理后再迁入。")
            }
            MoveError::SameVillage { code, village } => {
                format!("户 {code} 已在{village}，无需迁移。")
            }
            MoveError::NoFreeCode { code } => {
                format!("村 {code} 的户序号 001-999 已全部用完，无法再迁入，请联系县里核对户编号。")
            }
            MoveError::Store(e) => e.message_zh(),
        }
    }
}

/// The live village with this 12-digit code.
pub fn village_by_code(store: &Store, code: &str) -> Result<Village, MoveError> {
    let mut found: Vec<Village> = store
        .read::<Village>(Filter::All)?
        .into_iter()
        .filter(|v| v.code == code)
        .collect();
    match found.len() {
        0 => Err(MoveError::UnknownVillage { code: code.into() }),
        1 => Ok(found.remove(0)),
        count => Err(MoveError::AmbiguousVillage {
            code: code.into(),
            count,
        }),
    }
}

/// The lowest 3-digit sequence no household of the village uses (deleted ones included, so a
/// code never names two households over time).
pub(crate) fn free_code(store: &Store, village_code: &str) -> Result<String, MoveError> {
    let mut stmt = store
        .conn()
        .prepare_cached("SELECT code FROM household WHERE substr(code, 1, 12) = ?1")
        .map_err(StoreError::from)?;
    let used: std::collections::HashSet<String> = stmt
        .query_map([village_code], |r| r.get::<_, Option<String>>(0))
        .map_err(StoreError::from)?
        .filter_map(|code| code.ok().flatten())
        .collect();
    (1..=999)
        .map(|seq| format!("{village_code}{seq:03}"))
        .find(|code| !used.contains(code))
        .ok_or_else(|| MoveError::NoFreeCode {
            code: village_code.into(),
        })
}

/// Moves a household to the village with `village_code`: its 所属村 and its 户编号 change in
/// one write through the store's write path. Who may: the village's leader or the township
/// ([`Permission::MoveHouseholds`]), whether the app's 易地扶贫搬迁 box or `bangfu household
/// move` asks; checked before anything is read or written.
pub fn move_household(
    store: &mut Store,
    household: Uuid,
    village_code: &str,
) -> Result<Moved, MoveError> {
    store.require(Permission::MoveHouseholds)?;
    let h = store.get::<Household>(household)?;
    let village = village_by_code(store, village_code)?;
    if h.village_id == Some(village.id) {
        return Err(MoveError::SameVillage {
            code: h.code,
            village: village.name,
        });
    }
    let new_code = free_code(store, &village.code)?;
    let outcome = store.write(&[Change::Put {
        table: Table::Household,
        id: household,
        fields: vec![
            ("village_id", Some(village.id).to_value()),
            ("code", FieldValue::Text(new_code.clone())),
        ],
    }])?;
    Ok(Moved {
        household_id: household,
        old_code: h.code,
        new_code,
        village_id: village.id,
        village_code: village.code,
        village_name: village.name,
        ops: outcome.ops,
    })
}
