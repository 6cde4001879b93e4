//! Reading a roll (.xlsx, .xls, or CSV in UTF-8 or GBK) into a plain grid of cells, before any
//! meaning is given to them.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use chrono::NaiveDate;

use super::LedgerError;

/// A cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Raw {
    pub fn is_blank(&self) -> bool {
        match self {
            Raw::Empty => true,
            Raw::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as typed text. Whole numbers lose their ".0": a phone typed into a number
    /// cell reads back as the phone.
    pub fn text(&self) -> String {
        match self {
            Raw::Empty => String::new(),
            Raw::Text(t) => t.trim().to_owned(),
            Raw::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Raw::Number(n) => n.to_string(),
            Raw::Date(d) => d.format("%Y-%m-%d").to_string(),
            Raw::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        }
    }
}

/// One sheet of a roll; `first_row` is the 0-based sheet row of `rows[0]`.
#[derive(Debug)]
pub(crate) struct Grid {
    pub sheet: String,
    pub first_row: usize,
    pub rows: Vec<Vec<Raw>>,
}

impl Grid {
    /// The row number people see in Excel (1-based) for an index into `rows`.
    pub fn excel_row(&self, index: usize) -> usize {
        self.first_row + index + 1
    }
}

/// Every sheet of the file that holds something, in the file's order.
pub(crate) fn read_roll(path: &Path) -> Result<Vec<Grid>, LedgerError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => read_workbook(path),
        "csv" | "txt" => read_csv(path).map(|g| vec![g]),
        _ => Err(LedgerError::UnsupportedFile {
            path: path.to_path_buf(),
        }),
    }
}

fn read_workbook(path: &Path) -> Result<Vec<Grid>, LedgerError> {
    let err = |source| LedgerError::ReadWorkbook {
        path: path.to_path_buf(),
        source,
    };
    let mut book = open_workbook_auto(path).map_err(err)?;
    let mut grids = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(err)?;
        let Some((first_row, first_col)) = range.start() else {
            continue;
        };
        let rows = range
            .rows()
            .map(|row| {
                // Keep column positions as in the sheet, so column letters in messages match.
                let mut out = vec![Raw::Empty; first_col as usize];
                out.extend(row.iter().map(raw_of));
                out
            })
            .collect();
        grids.push(Grid {
            sheet: name,
            first_row: first_row as usize,
            rows,
        });
    }
    Ok(grids)
}

fn raw_of(d: &Data) -> Raw {
    match d {
        Data::Empty => Raw::Empty,
        Data::String(s) => Raw::Text(s.clone()),
        Data::Int(i) => Raw::Number(*i as f64),
        Data::Float(f) => Raw::Number(*f),
        Data::Bool(b) => Raw::Bool(*b),
        Data::DateTime(dt) => {
            excel_serial_date(dt.as_f64()).map_or(Raw::Number(dt.as_f64()), Raw::Date)
        }
        Data::DateTimeIso(s) => NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
            .map_or_else(|_| Raw::Text(s.clone()), Raw::Date),
        Data::DurationIso(s) => Raw::Text(s.clone()),
        Data::Error(e) => Raw::Text(format!("#{e:?}")),
    }
}

/// Excel's serial day (1900 system, with its phantom 29 Feb 1900) as a date.
fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = serial.floor() as i64;
    if !(1..=2_958_465).contains(&days) {
        return None;
    }
    epoch.checked_add_signed(chrono::Duration::days(days))
}

/// CSV from Excel on a Chinese Windows is GBK unless saved as "CSV UTF-8"; both are read.
fn read_csv(path: &Path) -> Result<Grid, LedgerError> {
    let bytes = std::fs::read(path).map_err(|source| LedgerError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let text = decode_text(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| LedgerError::ReadCsv {
            path: path.to_path_buf(),
            source,
        })?;
        rows.push(
            record
                .iter()
                .map(|f| {
                    if f.is_empty() {
                        Raw::Empty
                    } else {
                        Raw::Text(f.to_owned())
                    }
                })
                .collect(),
        );
    }
    Ok(Grid {
        sheet: String::new(),
        first_row: 0,
        rows,
    })
}

/// UTF-8 (with or without a BOM) when the bytes are valid UTF-8, GB18030 (a superset of GBK)
/// otherwise.
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_utf8_text_both_read_as_chinese() {
        let (gbk, _, _) = encoding_rs::GBK.encode("户编号,姓名\n530826103201001,王大山\n");
        assert_eq!(decode_text(&gbk), "户编号,姓名\n530826103201001,王大山\n");
        let utf8 = "\u{FEFF}姓名".as_bytes();
        assert_eq!(decode_text(utf8), "姓名");
    }

    #[test]
    fn serial_days_become_dates_and_whole_numbers_lose_their_point() {
        assert_eq!(
            excel_serial_date(45000.0),
            NaiveDate::from_ymd_opt(2023, 3, 15)
        );
        assert_eq!(Raw::Number(13812345678.0).text(), "13812345678");
        assert_eq!(Raw::Text(" 王大山  ".into()).text(), "王大山");
    }
}
