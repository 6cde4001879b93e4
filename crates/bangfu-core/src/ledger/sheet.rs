//! One ledger sheet as township offices hand it in: a title row with the unit and date, a
//! frozen and filtered header, typed cells, and a total row. Written row by row in
//! rust_xlsxwriter's constant-memory mode so a county's ledger never sits in memory.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
    column_number_to_name,
};

use super::LedgerError;
use super::columns::{Cell, CellKind, Column};

/// Rows above the data: title, unit and date, header.
pub const HEADER_ROWS: u32 = 3;

pub(crate) struct LedgerSheet {
    path: PathBuf,
    workbook: Workbook,
    sheet: Worksheet,
    columns: Vec<Column>,
    cell_formats: Vec<Format>,
    text: Format,
    total: Format,
    next_row: u32,
    totals: Vec<f64>,
}

fn write_err(path: &Path) -> impl Fn(XlsxError) -> LedgerError + '_ {
    move |source| LedgerError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The data format of a column's cells.
pub(crate) fn cell_format(kind: CellKind) -> Format {
    let base = Format::new().set_border(FormatBorder::Thin);
    match kind {
        CellKind::Text | CellKind::Code(_) | CellKind::Bool => base.set_num_format("@"),
        CellKind::Number => base.set_num_format("0.00"),
        CellKind::Amount => base.set_num_format("#,##0.00"),
        CellKind::Int => base.set_num_format("0"),
        CellKind::Date => base.set_num_format("yyyy-mm-dd"),
    }
}

/// Writes one typed cell. Dates Excel cannot hold (before 1900) stay readable as text.
pub(crate) fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    format: &Format,
    text: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => sheet.write_blank(row, col, format).map(|_| ()),
        Cell::Text(t) => sheet
            .write_string_with_format(row, col, t, format)
            .map(|_| ()),
        Cell::Number(n) => sheet
            .write_number_with_format(row, col, *n, format)
            .map(|_| ()),
        Cell::Date(d) => match excel_date(*d) {
            Some(x) => sheet
                .write_date_with_format(row, col, &x, format)
                .map(|_| ()),
            None => sheet
                .write_string_with_format(row, col, d.format("%Y-%m-%d").to_string(), text)
                .map(|_| ()),
        },
    }
}

fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8).ok()
}

impl LedgerSheet {
    /// Starts the sheet and writes its title, unit line and header.
    pub fn create(
        path: &Path,
        sheet_name: &str,
        title: &str,
        unit_line: &str,
        columns: Vec<Column>,
    ) -> Result<LedgerSheet, LedgerError> {
        let err = write_err(path);
        let mut workbook = Workbook::new();
        let mut sheet = workbook
            .new_worksheet_with_constant_memory()
            .map_err(&err)?;
        sheet.set_name(sheet_name).map_err(&err)?;
        let last_col = (columns.len().max(1) - 1) as u16;
        for (i, c) in columns.iter().enumerate() {
            sheet.set_column_width(i as u16, c.width).map_err(&err)?;
        }
        let title_format = Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        let unit_format = Format::new().set_align(FormatAlign::Left);
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_border(FormatBorder::Thin)
            .set_background_color("#D9E1F2")
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        if last_col > 0 {
            sheet
                .merge_range(0, 0, 0, last_col, title, &title_format)
                .map_err(&err)?;
            sheet
                .merge_range(1, 0, 1, last_col, unit_line, &unit_format)
                .map_err(&err)?;
        } else {
            sheet
                .write_string_with_format(0, 0, title, &title_format)
                .map_err(&err)?;
            sheet
                .write_string_with_format(1, 0, unit_line, &unit_format)
                .map_err(&err)?;
        }
        for (i, c) in columns.iter().enumerate() {
            sheet
                .write_string_with_format(2, i as u16, c.header, &header)
                .map_err(&err)?;
        }
        sheet.set_row_height(2, 30).map_err(&err)?;
        sheet.set_freeze_panes(HEADER_ROWS, 0).map_err(&err)?;
        sheet.set_repeat_rows(0, HEADER_ROWS - 1).map_err(&err)?;
        sheet.set_landscape();
        let cell_formats = columns.iter().map(|c| cell_format(c.kind)).collect();
        let totals = vec![0.0; columns.len()];
        Ok(LedgerSheet {
            path: path.to_path_buf(),
            workbook,
            sheet,
            columns,
            cell_formats,
            text: cell_format(CellKind::Text),
            total: Format::new().set_bold().set_border(FormatBorder::Thin),
            next_row: HEADER_ROWS,
            totals,
        })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), LedgerError> {
        let err = write_err(&self.path);
        for (i, cell) in cells.iter().enumerate() {
            let Some(format) = self.cell_formats.get(i) else {
                break;
            };
            write_cell(
                &mut self.sheet,
                self.next_row,
                i as u16,
                cell,
                format,
                &self.text,
            )
            .map_err(&err)?;
            if let (Cell::Number(n), Some(sum)) = (cell, self.totals.get_mut(i)) {
                *sum += n;
            }
        }
        self.next_row += 1;
        Ok(())
    }

    pub fn rows_written(&self) -> u64 {
        u64::from(self.next_row - HEADER_ROWS)
    }

    /// Writes the total row (when a column sums), the filter, and saves the file.
    pub fn finish(mut self, count_label: &str) -> Result<u64, LedgerError> {
        let err = write_err(&self.path);
        let rows = self.rows_written();
        let last_col = (self.columns.len().max(1) - 1) as u16;
        let last_data_row = self.next_row.saturating_sub(1).max(HEADER_ROWS);
        if self.columns.iter().any(|c| c.total) {
            let r = self.next_row;
            for (i, c) in self.columns.iter().enumerate() {
                let col = i as u16;
                let format = if c.total {
                    &self.cell_formats[i].clone().set_bold()
                } else {
                    &self.total
                };
                if i == 0 {
                    self.sheet
                        .write_string_with_format(r, col, "合计", format)
                        .map_err(&err)?;
                } else if i == 1 {
                    self.sheet
                        .write_string_with_format(r, col, format!("共{rows}{count_label}"), format)
                        .map_err(&err)?;
                } else if c.total {
                    let name = column_number_to_name(col);
                    // SUBTOTAL(109, …) follows the filter: a filtered ledger shows the total of
                    // what is shown. The cached result lets readers without a formula engine
                    // (and calamine) see the figure.
                    let formula = Formula::new(format!(
                        "SUBTOTAL(109,{name}{}:{name}{})",
                        HEADER_ROWS + 1,
                        last_data_row + 1
                    ))
                    .set_result(format_total(self.totals[i]));
                    self.sheet
                        .write_formula_with_format(r, col, formula, format)
                        .map_err(&err)?;
                } else {
                    self.sheet.write_blank(r, col, format).map_err(&err)?;
                }
            }
        }
        self.sheet
            .autofilter(HEADER_ROWS - 1, 0, last_data_row, last_col)
            .map_err(&err)?;
        self.workbook.push_worksheet(self.sheet);
        let workbook = &mut self.workbook;
        crate::files::write_file_with(&self.path, |partial| workbook.save(partial).map_err(&err))?;
        Ok(rows)
    }
}

/// Totals are sums of amounts typed to the fen; more digits would only be float noise.
fn format_total(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}
