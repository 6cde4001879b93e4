//! The 家庭成员台帐 export measured against rust_xlsxwriter writing the same cells alone, in the
//! same run (these machines are noisy; the ratio holds where absolute times do not).

use std::path::Path;
use std::time::Instant;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::LedgerError;
use super::columns::Cell;
use super::export::{LedgerKind, export_ledger, plan, stream};
use super::scope::Scope;
use super::sheet::{HEADER_ROWS, cell_format, write_cell};
use crate::store::Store;

/// Cells of a whole ledger held compactly: texts in one arena, so the baseline can replay a
/// county's 400k rows without a heap allocation per cell.
#[derive(Default)]
struct Recording {
    arena: String,
    cells: Vec<Recorded>,
    width: usize,
}

#[derive(Clone, Copy)]
enum Recorded {
    Empty,
    Text(u32, u32),
    Number(f64),
    Date(chrono::NaiveDate),
}

impl Recording {
    fn push(&mut self, cells: &[Cell]) {
        self.width = cells.len();
        for c in cells {
            self.cells.push(match c {
                Cell::Empty => Recorded::Empty,
                Cell::Text(t) => {
                    let start = self.arena.len() as u32;
                    self.arena.push_str(t);
                    Recorded::Text(start, t.len() as u32)
                }
                Cell::Number(n) => Recorded::Number(*n),
                Cell::Date(d) => Recorded::Date(*d),
            });
        }
    }

    fn get(&self, r: Recorded) -> Cell {
        match r {
            Recorded::Empty => Cell::Empty,
            Recorded::Text(start, len) => Cell::Text(
                self.arena
                    .get(start as usize..(start + len) as usize)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            Recorded::Number(n) => Cell::Number(n),
            Recorded::Date(d) => Cell::Date(d),
        }
    }
}

/// Times the 家庭成员台帐 of the whole file written to `out`, and rust_xlsxwriter alone writing
/// the same header and cells with the same formats in constant-memory mode. Returns
/// `(ours_secs, plain_secs)`. The cells are read once beforehand (untimed) so both sides find
/// the data file in the page cache.
pub fn bench_member_ledger(store: &Store, out: &Path) -> Result<(f64, f64), LedgerError> {
    let scope = Scope::All;
    let plan = plan(LedgerKind::Members, &scope);
    let mut recording = Recording::default();
    stream(store, &plan, &scope, &mut |cells| {
        recording.push(cells);
        Ok(())
    })?;

    let plain_path = out.with_extension("plain.xlsx");
    let started = Instant::now();
    write_plain(&recording, &plan.columns, &plain_path).map_err(|source| LedgerError::Write {
        path: plain_path.clone(),
        source,
    })?;
    let plain = started.elapsed().as_secs_f64();
    drop(recording);
    let _ = std::fs::remove_file(&plain_path);

    let started = Instant::now();
    export_ledger(store, LedgerKind::Members, &scope, out)?;
    let ours = started.elapsed().as_secs_f64();
    Ok((ours, plain))
}

fn write_plain(
    recording: &Recording,
    columns: &[super::columns::Column],
    path: &Path,
) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    let formats: Vec<Format> = columns.iter().map(|c| cell_format(c.kind)).collect();
    let text = Format::new().set_num_format("@");
    for (i, c) in columns.iter().enumerate() {
        sheet.write_string(HEADER_ROWS - 1, i as u16, c.header)?;
    }
    let width = recording.width.max(1);
    for (n, chunk) in recording.cells.chunks(width).enumerate() {
        let row = HEADER_ROWS + n as u32;
        for (i, r) in chunk.iter().enumerate() {
            let Some(format) = formats.get(i) else {
                continue;
            };
            // Texts are written straight from the arena, as a program holding its cells would.
            match *r {
                Recorded::Text(start, len) => {
                    let t = recording
                        .arena
                        .get(start as usize..(start + len) as usize)
                        .unwrap_or_default();
                    sheet.write_string_with_format(row, i as u16, t, format)?;
                }
                other => write_cell(sheet, row, i as u16, &recording.get(other), format, &text)?,
            }
        }
    }
    workbook.save(path)
}
