//! Handing a finished PDF over: to a file the user named, or to the system's print queue.
//!
//! The PDF the card engine wrote is exactly what reaches the paper, so a card prints the same
//! on every laptop. Where CUPS is present (Linux, macOS) the file goes to `lp`; where there is
//! no print system (Windows, or CUPS not installed or not running) the file is kept in the print
//! folder and the caller opens it in the system's PDF viewer, from which the user prints.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::error::UserFacing;

/// The printers the print system knows, for a choice on screen.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Printers {
    /// Whether a print system answered at all (`lpstat` ran).
    pub available: bool,
    pub names: Vec<String>,
    /// The system's default printer, when one is set.
    pub default: Option<String>,
}

/// Where a PDF went.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "route", rename_all = "snake_case")]
pub enum Delivery {
    /// Written to the file the user named.
    Saved { path: PathBuf },
    /// Queued with the print system.
    Printed {
        path: PathBuf,
        printer: Option<String>,
        /// The print system's request id, e.g. `Office-42`.
        job: String,
    },
    /// No print system: the PDF is kept at `path` for the system's viewer to open.
    NoPrintSystem { path: PathBuf, reason: String },
}

impl Delivery {
    /// What to tell the user, in the words of the screen.
    pub fn message_zh(&self, what: &str) -> String {
        match self {
            Delivery::Saved { path } => format!("{what}已保存到 {}", path.display()),
            Delivery::Printed { printer, job, .. } => match printer {
                Some(p) => format!("{what}已送到打印机 {p}（任务 {job}）。"),
                None => format!("{what}已送到默认打印机（任务 {job}）。"),
            },
            Delivery::NoPrintSystem { path, reason } => format!(
                "{reason}已用系统的 PDF 阅读器打开{what}，请在阅读器中选择“打印”。文件在 {}",
                path.display()
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("{path} is not a PDF file name")]
    NotPdf { path: PathBuf },
    #[error(transparent)]
    File(#[from] crate::files::FileWriteError),
    #[error("lp refused the job: {detail}")]
    Refused { detail: String },
    #[error("running lp: {0}")]
    Spawn(std::io::Error),
}

impl UserFacing for PrintError {
    fn kind(&self) -> &'static str {
        match self {
            PrintError::NotPdf { .. } => "not_pdf",
            PrintError::File(e) => e.kind(),
            PrintError::Refused { .. } => "print_refused",
            PrintError::Spawn(_) => "print_failed",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            PrintError::NotPdf { path } => {
                format!("{} 不是 PDF 文件名，请以 .pdf 结尾。", path.display())
            }
            PrintError::File(e) => e.message_zh(),
            PrintError::Refused { detail } => {
                format!(
                    "打印机没有接受打印任务：{detail}。请检查打印机是否开机、是否选对了打印机。"
                )
            }
            PrintError::Spawn(_) => {
                "无法启动打印程序（lp），请检查本机是否装有打印系统（CUPS）。".into()
            }
        }
    }
}

/// Writes `bytes` to `path` whole: into a hidden file beside it first, then renamed over, so a
/// failure or a cancelled batch never leaves half a PDF under the user's name.
pub fn save_pdf(bytes: &[u8], path: &Path) -> Result<Delivery, PrintError> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
    {
        return Err(PrintError::NotPdf {
            path: path.to_owned(),
        });
    }
    crate::files::write_file(path, bytes)?;
    Ok(Delivery::Saved {
        path: path.to_owned(),
    })
}

/// The printers `lpstat` lists. Without a print system the answer says so and lists none.
pub fn printers() -> Printers {
    let names = match lpstat(&["-e"]) {
        Some(out) => out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => return Printers::default(),
    };
    // "system default destination: NAME", or "no system default destination".
    let default = lpstat(&["-d"]).and_then(|out| {
        out.lines()
            .find_map(|l| l.split_once("destination:"))
            .map(|(_, name)| name.trim().to_owned())
            .filter(|name| !name.is_empty())
    });
    Printers {
        available: true,
        names,
        default,
    }
}

/// Runs `lpstat` in the C locale (its words are parsed); `None` when it cannot run or fails.
fn lpstat(args: &[&str]) -> Option<String> {
    let out = Command::new("lpstat")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Keeps the PDF in `spool` under `name` and sends it to `printer` (the default when `None`)
/// with `lp`. Without a print system the kept file is handed back for the viewer.
pub fn print_pdf(
    bytes: &[u8],
    spool: &Path,
    name: &str,
    title: &str,
    printer: Option<&str>,
) -> Result<Delivery, PrintError> {
    std::fs::create_dir_all(spool).map_err(|source| {
        PrintError::File(crate::files::FileWriteError::Write {
            path: spool.to_owned(),
            source,
        })
    })?;
    let path = spool.join(name);
    save_pdf(bytes, &path)?;
    let mut lp = Command::new("lp");
    lp.env("LC_ALL", "C").arg("-t").arg(title);
    if let Some(p) = printer.filter(|p| !p.is_empty()) {
        lp.arg("-d").arg(p);
    }
    let out = match lp.arg("--").arg(&path).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(Delivery::NoPrintSystem {
                path,
                reason: "本机没有安装打印系统。".to_owned(),
            });
        }
        Err(e) => return Err(PrintError::Spawn(e)),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if !out.status.success() {
        return match no_print_system(&stderr) {
            Some(reason) => Ok(Delivery::NoPrintSystem {
                path,
                reason: reason.to_owned(),
            }),
            None => Err(PrintError::Refused { detail: stderr }),
        };
    }
    Ok(Delivery::Printed {
        path,
        printer: printer.filter(|p| !p.is_empty()).map(str::to_owned),
        job: request_id(&String::from_utf8_lossy(&out.stdout)),
    })
}

/// Whether `lp`'s complaint means there is nothing to print to (rather than a refused job),
/// and how to say so.
fn no_print_system(stderr: &str) -> Option<&'static str> {
    let lower = stderr.to_lowercase();
    if lower.contains("no default destination") {
        Some("本机没有设置打印机。")
    } else if lower.contains("connect to server") || lower.contains("scheduler") {
        Some("本机的打印服务没有运行。")
    } else {
        None
    }
}

/// The job id of `lp`'s "request id is Office-42 (1 file(s))"; the whole line otherwise.
fn request_id(stdout: &str) -> String {
    let line = stdout.lines().next().unwrap_or("").trim();
    line.strip_prefix("request id is ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or(line)
        .to_owned()
}

/// The print folder's file name for a PDF: what it is, and a stamp so jobs never overwrite
/// one another while the print system still reads them.
pub fn spool_name(what: &str) -> String {
    format!("{what}-{}.pdf", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lp_answers_are_read_as_the_print_system_words_them() {
        assert_eq!(
            request_id("request id is Office-42 (1 file(s))\n"),
            "Office-42"
        );
        assert_eq!(request_id("queued\n"), "queued");
        let cases = [
            (
                "lp: Error - No default destination.",
                Some("本机没有设置打印机。"),
            ),
            (
                "lp: Unable to connect to server: Connection refused",
                Some("本机的打印服务没有运行。"),
            ),
            ("lp: The printer or class does not exist.", None),
        ];
        for (stderr, expected) in cases {
            assert_eq!(no_print_system(stderr), expected, "{stderr}");
        }
    }

    #[test]
    fn a_saved_pdf_is_whole_or_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("卡.pdf");
        let delivery = save_pdf(b"%PDF-1.7 card", &path).unwrap();
        assert_eq!(delivery, Delivery::Saved { path: path.clone() });
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.7 card");

        let missing = dir.path().join("没有这个文件夹").join("卡.pdf");
        let err = save_pdf(b"x", &missing).unwrap_err();
        assert_eq!(err.kind(), "folder_missing");
        assert!(err.message_zh().contains("不存在"), "{}", err.message_zh());
        let err = save_pdf(b"x", &dir.path().join("卡.txt")).unwrap_err();
        assert_eq!(err.kind(), "not_pdf");
        // Only the one PDF: no partial file left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["卡.pdf"]);
    }
}
