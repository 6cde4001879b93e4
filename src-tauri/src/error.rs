//! The one error shape every command rejects with: `{kind, message}`, message in Chinese.

use serde::Serialize;

use bangfu_core::UserFacing;

/// What the UI receives when a command fails. `kind` is a stable English tag the UI may branch
/// on; `message` is written for a village worker and shown as is.
#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "ApiError")]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
}

impl CommandError {
    /// Maps a core error, logging its English form for whoever reads the logs.
    pub fn from_core<E: UserFacing + std::fmt::Display>(error: E) -> Self {
        eprintln!("bangfu-desktop: {}: {error}", error.kind());
        CommandError {
            kind: error.kind(),
            message: error.message_zh(),
        }
    }
}

/// Failures of the shell itself (not of the core): a file the user named, a background task.
/// Their Chinese messages never carry the operating system's English text; the log does.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("cannot {action} {path}: {source}")]
    File {
        /// 写入 / 读取 / 打开: what was being done, as the message says it.
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("background task for {what} failed: {source}")]
    Task {
        /// What the task was doing, in Chinese (打印).
        what: &'static str,
        source: tauri::Error,
    },
}

/// Why the system refused a file operation, in words a village worker can act on.
fn io_reason_zh(error: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => "找不到这个文件或文件夹，请检查路径或 U 盘是否插好",
        ErrorKind::PermissionDenied => {
            "没有权限，文件可能是只读的或正被别的程序打开；请关闭该程序或换一个位置"
        }
        ErrorKind::StorageFull => "磁盘或 U 盘已满，请腾出空间或换一个位置",
        ErrorKind::AlreadyExists => "同名文件已存在，请换一个文件名",
        ErrorKind::IsADirectory => "这是一个文件夹，请选择其中的文件",
        ErrorKind::NotADirectory => "路径中有一段不是文件夹，请检查路径",
        ErrorKind::InvalidData => "文件内容无法识别",
        _ => "系统拒绝了这次操作，请检查路径和 U 盘后重试",
    }
}

impl UserFacing for ShellError {
    fn kind(&self) -> &'static str {
        match self {
            ShellError::File { .. } => "file",
            ShellError::Task { .. } => "internal",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ShellError::File {
                action,
                path,
                source,
            } => format!(
                "无法{action}文件 {}：{}。",
                path.display(),
                io_reason_zh(source)
            ),
            ShellError::Task { what, .. } => format!("{what}时程序出错，请重试。"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a missing file showed “无法读取文件 x：No such file or directory (os error 2)”.
    #[test]
    fn file_errors_speak_chinese_without_the_systems_english() {
        let error = ShellError::File {
            action: "读取",
            path: "/media/u/a.bfcs".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let message = error.message_zh();
        assert!(
            message.starts_with("无法读取文件 /media/u/a.bfcs："),
            "{message}"
        );
        assert!(message.contains("U 盘"), "{message}");
        let english = message
            .replace("/media/u/a.bfcs", "")
            .replace("U 盘", "")
            .chars()
            .filter(char::is_ascii_alphabetic)
            .count();
        assert_eq!(english, 0, "English inside a Chinese message: {message}");
        let denied = ShellError::File {
            action: "写入",
            path: "a".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert!(denied.message_zh().contains("没有权限"));
    }
}
