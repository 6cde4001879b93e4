//! Errors of opening and writing a data file.

use std::path::PathBuf;

use crate::error::UserFacing;
use crate::validate::Issue;

/// The longest device name, in characters (it is shown on review screens beside each value).
pub const DEVICE_NAME_MAX_CHARS: usize = 40;
/// The longest 乡镇 or 村 name the first-run wizard takes.
pub const PLACE_NAME_MAX_CHARS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: not an SQLite file")]
    NotADataFile { path: PathBuf },
    #[error("{path}: an SQLite file of another program")]
    ForeignDatabase { path: PathBuf },
    #[error("{path}: damaged data file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: schema version {found} is newer than this version knows ({supported})")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("validation failed: {0:?}")]
    Invalid(Vec<Issue>),
    #[error("{table} {id} not found")]
    NotFound { table: &'static str, id: uuid::Uuid },
    #[error("{table} {id} is deleted")]
    Deleted { table: &'static str, id: uuid::Uuid },
    #[error("unknown field {table}.{field}")]
    UnknownField { table: &'static str, field: String },
    #[error("household exit status changed directly from {from} to {to}")]
    ExitStatusByProcedure { from: String, to: String },
    #[error("stored value of {table}.{field} has the wrong type")]
    BadStoredValue {
        table: &'static str,
        field: &'static str,
    },
    #[error("device identity file {path}: {source}")]
    Identity {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad device name {0:?}")]
    BadDeviceName(String),
    #[error("bad township or village name {0:?}")]
    BadPlaceName(String),
    #[error("writer lock {path}: {source}")]
    WriterLock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another program is writing the data file: {holder}")]
    WriterBusy { holder: String },
    #[error("{path}: another program has the data file open")]
    OpenElsewhere { path: PathBuf },
    #[error("op {origin}/{seq} arrived with content different from the op held under that id")]
    OpIdReused { origin: uuid::Uuid, seq: i64 },
    #[error("row {row} is a {existing} row and cannot take a {arriving} op")]
    RowInTwoTables {
        row: uuid::Uuid,
        existing: &'static str,
        arriving: &'static str,
    },
    #[error("op {origin}/{seq} has an impossible timestamp {hlc}")]
    ImpossibleClock {
        origin: uuid::Uuid,
        seq: i64,
        hlc: u64,
    },
    #[error("exit procedure rows are written by the exit procedure only")]
    ExitStepByProcedure,
    #[error("standard rows are written by the standards settings only")]
    StandardBySettings,
    #[error("policy rows are written by the policy catalogue only")]
    PolicyByCatalogue,
    #[error("county setting rows are written by the county settings only")]
    CountySettingBySettings,
    #[error("{table}.{field}: value of the wrong type")]
    WrongType {
        table: &'static str,
        field: &'static str,
    },
    #[error("a read-only view of the data file cannot write")]
    ReadOnlyView,
    #[error(transparent)]
    File(#[from] crate::files::FileWriteError),
    #[error(transparent)]
    Protect(#[from] super::protect::ProtectError),
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
    #[error("temporary file: {0}")]
    TempFile(String),
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    /// A refusal raised deep inside an apply travels as a database error (the applier's
    /// statements all return those) and becomes its own variant here.
    fn from(error: rusqlite::Error) -> Self {
        match error {
            rusqlite::Error::ToSqlConversionFailure(inner) => {
                match inner.downcast::<super::apply::Refusal>() {
                    Ok(refusal) => refusal.into_store_error(),
                    Err(other) => {
                        StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(other))
                    }
                }
            }
            other => StoreError::Sqlite(other),
        }
    }
}

impl UserFacing for StoreError {
    fn kind(&self) -> &'static str {
        match self {
            StoreError::TempFile(_) => "temp_file",
            StoreError::NotADataFile { .. } => "not_a_data_file",
            StoreError::ForeignDatabase { .. } => "foreign_database",
            StoreError::Corrupt { .. } => "corrupt",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::Open { .. } => "open_failed",
            StoreError::Invalid(_) => "invalid",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Deleted { .. } => "deleted",
            StoreError::UnknownField { .. } => "unknown_field",
            StoreError::ExitStatusByProcedure { .. } => "exit_status_by_procedure",
            StoreError::BadStoredValue { .. } => "bad_stored_value",
            StoreError::Identity { .. } => "identity",
            StoreError::BadDeviceName(_) => "bad_device_name",
            StoreError::BadPlaceName(_) => "bad_place_name",
            StoreError::WriterLock { .. } => "writer_lock",
            StoreError::WriterBusy { .. } => "writer_busy",
            StoreError::OpenElsewhere { .. } => "open_elsewhere",
            StoreError::OpIdReused { .. } => "op_id_reused",
            StoreError::RowInTwoTables { .. } => "row_in_two_tables",
            StoreError::ImpossibleClock { .. } => "impossible_clock",
            StoreError::ExitStepByProcedure => "exit_step_by_procedure",
            StoreError::StandardBySettings => "standard_by_settings",
            StoreError::PolicyByCatalogue => "policy_by_catalogue",
            StoreError::CountySettingBySettings => "county_setting_by_settings",
            StoreError::WrongType { .. } => "wrong_type",
            StoreError::ReadOnlyView => "read_only_view",
            StoreError::File(e) => e.kind(),
            StoreError::Protect(e) => e.kind(),
            StoreError::Access(e) => e.kind(),
            StoreError::Sqlite(_) => "database",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            StoreError::TempFile(_) => {
                "无法写入临时文件（系统盘可能已满），未导入任何内容。请清理磁盘空间后再试。".into()
            }
            StoreError::NotADataFile { path } => format!(
                "“{}”不是帮扶台账的数据文件（也不是 SQLite 数据库），文件未作任何改动。",
                path.display()
            ),
            StoreError::ForeignDatabase { path } => format!(
                "“{}”是其他软件的数据库，不是帮扶台账的数据文件，文件未作任何改动。",
                path.display()
            ),
            StoreError::Corrupt { path, .. } => format!(
                "数据文件“{}”已损坏，无法读取。文件未作任何改动，请从备份恢复。",
                path.display()
            ),
            StoreError::NewerSchema {
                path,
                found,
                supported,
            } => format!(
                "数据文件“{}”由更新版本的帮扶台账创建（数据版本 {found}，本程序支持到 {supported}），请先升级本程序。文件未作任何改动。",
                path.display()
            ),
            StoreError::Open { path, .. } => {
                format!(
                    "无法打开数据文件“{}”，请检查文件是否存在、是否有读写权限。",
                    path.display()
                )
            }
            StoreError::Invalid(issues) => {
                let list: Vec<_> = issues.iter().map(|i| i.message.as_str()).collect();
                format!("保存失败，请先修改以下问题：{}", list.join("；"))
            }
            StoreError::NotFound { table, .. } => format!("找不到这条{table}记录，可能已被删除。"),
            StoreError::Deleted { table, .. } => {
                format!("这条{table}记录已被删除，不能再修改；如需修改请先恢复。")
            }
            StoreError::UnknownField { table, field } => {
                format!("{table}没有“{field}”这一项。")
            }
            StoreError::ExitStatusByProcedure { from, to } => format!(
                "脱贫状态不能直接修改（现为“{from}”，不能改为“{to}”）：贫困户只能经退出程序（入户调查、村两委商议、村评议公示、乡镇核查公告、县审定销号）脱贫，返贫也须在“退出”中办理。本次修改未保存。"
            ),
            StoreError::BadStoredValue { table, field } => {
                format!("{table}的“{field}”存有无法识别的值，请在冲突与重复页面检查。")
            }
            StoreError::Identity { path, .. } => format!(
                "无法写入本机设备标识文件“{}”，请检查磁盘空间和权限。",
                path.display()
            ),
            StoreError::BadDeviceName(name) => {
                if name.trim().is_empty() {
                    "本机名称不能为空，请填写如“新文村-笔记本1”的名字。".into()
                } else {
                    format!("本机名称“{name}”太长，请不超过 {DEVICE_NAME_MAX_CHARS} 个字。")
                }
            }
            StoreError::BadPlaceName(name) => {
                if name.trim().is_empty() {
                    "请填写所属乡镇，如“勐先乡”。".into()
                } else {
                    format!("名称“{name}”太长，请不超过 {PLACE_NAME_MAX_CHARS} 个字。")
                }
            }
            StoreError::WriterLock { path, .. } => format!(
                "无法使用数据文件旁的锁文件“{}”，请检查该文件夹是否可写。本次修改未保存。",
                path.display()
            ),
            StoreError::OpenElsewhere { path } => format!(
                "另一个程序（另一个帮扶台账窗口，或 bangfu 命令）正打开数据文件“{}”。请先关闭它再试；本次未作任何改动。",
                path.display()
            ),
            StoreError::WriterBusy { holder } => format!(
                "数据文件正在被{holder}写入，已等候 5 秒仍未完成。请等它完成（或关闭它）后再试，本次修改未保存。"
            ),
            StoreError::OpIdReused { .. } => "同步数据中有一条修改的编号与本机已有的另一条修改相同，但内容不同（可能是同一个数据文件被复制后两边都在录入，或文件被改动过）。为免覆盖，整批数据未导入，本机数据未作改动。请把此文件交给乡镇管理员检查。".into(),
            StoreError::RowInTwoTables { existing, arriving, .. } => format!(
                "同步数据中有一条{arriving}记录的编号与本机一条{existing}记录相同，数据可能被改动过。整批数据未导入，本机数据未作改动。"
            ),
            StoreError::ImpossibleClock { .. } => "同步数据中有修改的时间不可能成立（超出有效范围），文件可能已损坏或被改动。整批数据未导入，本机数据未作改动。".into(),
            StoreError::StandardBySettings => "脱贫标准只能在“脱贫标准”页面（或 bangfu standards set）中修改，那里会核对贫困线是否逐年提高。本次修改未保存。".into(),
            StoreError::PolicyByCatalogue => "扶贫政策只能在政策目录（bangfu policy set）中修改，那里会核对享受条件和补助标准。本次修改未保存。".into(),
            StoreError::CountySettingBySettings => "首次建档年度等县级设置只能在“脱贫标准”页面（或 bangfu standards filing-year）中修改，那里会核对年度并要求写明依据。本次修改未保存。".into(),
            StoreError::ExitStepByProcedure => "脱贫退出程序的记录只能在“退出”中按步骤办理（入户调查、村两委商议、村评议公示、乡镇核查公告、县审定销号），不能直接修改。本次修改未保存。".into(),
            StoreError::WrongType { table, field } => {
                format!("{table}的“{field}”填写的值类型不对，本次修改未保存。")
            }
            StoreError::File(e) => e.message_zh(),
            StoreError::Protect(e) => e.message_zh(),
            StoreError::Access(e) => e.message_zh(),
            StoreError::ReadOnlyView => {
                "这是数据文件的只读视图（用于导出和报表），不能保存修改。".into()
            }
            StoreError::Sqlite(e) if super::heads::is_damaged(e) => {
                "数据文件中有一条记录的版本信息已损坏（可能是磁盘故障或文件被其他程序改动），本次操作未完成，文件未作改动。请用最近的备份恢复：每次导入同步文件前都会自动备份。".into()
            }
            StoreError::Sqlite(e) => match e.sqlite_error_code() {
                // The data file's disk, or the system's temporary folder (on the system disk),
                // where a large import's sorts go for a while (`bangfu-temp-vfs`: about 460 MB
                // for a county of 100,000 households).
                Some(rusqlite::ErrorCode::DiskFull) => "磁盘已满，本次修改未保存。请腾出空间后再试：数据文件所在的磁盘，以及系统盘（导入整县数据时要在系统的临时文件夹里临时占用几百 MB）。".into(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    "数据文件正被其他程序使用，请稍后再试。本次修改未保存。".into()
                }
                Some(rusqlite::ErrorCode::ReadOnly) => "数据文件是只读的，本次修改未保存。".into(),
                _ => "数据文件读写出错，本次修改未保存。".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk names both places a save or an import writes: the data file's disk and the
    /// system's temporary folder, where a county import's sorts go.
    #[test]
    fn a_full_disk_says_which_disks_to_free() {
        let full = StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        ));
        let message = full.message_zh();
        for words in [
            "磁盘已满",
            "本次修改未保存",
            "数据文件所在的磁盘",
            "临时文件夹",
        ] {
            assert!(message.contains(words), "{message}");
        }
    }
}
