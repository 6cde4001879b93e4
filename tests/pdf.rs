//! Reading printed PDFs back with poppler, for the tests of cards and exit forms.

// Test helpers may panic: that is how a test reports a failed read.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use unicode_normalization::UnicodeNormalization;

pub const A5: &str = "419.528 x 595.276";
pub const A4: &str = "595.276 x 841.89";
pub const A4_LANDSCAPE: &str = "841.89 x 595.276";

/// Runs a poppler tool on a PDF and returns what it printed.
pub fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} failed on {}", pdf.display());
    String::from_utf8(out.stdout).unwrap()
}

/// The text of each page in content order, NFKC-normalized (pdftotext may give compatibility
/// forms of CJK characters) and with all whitespace removed, because wrapping breaks lines.
pub fn pages_text(pdf: &Path) -> Vec<String> {
    let text = poppler("pdftotext", &["-raw", "-enc", "UTF-8"], pdf);
    let mut pages: Vec<String> = text.split('\x0c').map(squeeze).collect();
    if pages.last().is_some_and(String::is_empty) {
        pages.pop();
    }
    pages
}

/// NFKC-normalized, without whitespace.
pub fn squeeze(s: &str) -> String {
    s.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// The page count and the first page's size in points ("w x h").
pub fn page_info(pdf: &Path) -> (usize, String) {
    let out = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let size = field("Page size:");
    let size = size.split(" pts").next().unwrap_or_default().to_owned();
    (field("Pages:").parse().unwrap(), size)
}

/// Writes bytes to a file in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
