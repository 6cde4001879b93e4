//! The figures of `report::stats` (and, when given, the exit readiness of `report::readiness`)
//! as an Excel workbook, one sheet per table.

use std::path::Path;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use super::LedgerError;
use super::Scope;
use super::columns::{Cell, CellKind};
use super::sheet::{cell_format, write_cell};
use crate::report::readiness::{Readiness, exit_readiness};
use crate::report::stats::{StatsReport, stats};
use crate::store::Store;

struct Table<'a> {
    name: &'a str,
    /// The year the title names.
    year: i32,
    headers: &'a [(&'a str, CellKind, f64)],
    rows: Vec<Vec<Cell>>,
}

fn num(n: i64) -> Cell {
    Cell::Number(n as f64)
}

fn opt(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Number)
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

/// The first cells of a village's line (乡镇, 村代码, 村名), then `rest`; a line without a
/// village code is its township's total.
fn place_line(
    township: &str,
    village_code: &str,
    village_name: &str,
    rest: Vec<Cell>,
) -> Vec<Cell> {
    let name = if village_code.is_empty() {
        "（乡镇合计）"
    } else {
        village_name
    };
    let mut line = vec![text(township), text(village_code), text(name)];
    line.extend(rest);
    line
}

/// Writes the report of `unit` (the title) to `out`; with `readiness`, its sheet too.
/// Returns how many sheets were written.
pub fn export_report(
    report: &StatsReport,
    readiness: Option<&Readiness>,
    unit: &str,
    out: &Path,
) -> Result<usize, LedgerError> {
    let mut tables = vec![
        Table {
            name: "按脱贫状态",
            year: report.year,
            headers: &[
                ("脱贫状态", CellKind::Text, 20.0),
                ("户数", CellKind::Int, 10.0),
                ("人数", CellKind::Int, 10.0),
            ],
            rows: report
                .by_status
                .iter()
                .map(|r| vec![text(&r.status), num(r.households), num(r.people)])
                .collect(),
        },
        Table {
            name: "贫困发生率",
            year: report.year,
            headers: &[
                ("乡镇", CellKind::Text, 12.0),
                ("村代码", CellKind::Text, 15.0),
                ("村名", CellKind::Text, 12.0),
                ("农村人口", CellKind::Int, 10.0),
                ("剩余贫困人口", CellKind::Int, 12.0),
                ("贫困发生率(%)", CellKind::Number, 14.0),
            ],
            rows: report
                .incidence
                .iter()
                .map(|r| {
                    place_line(
                        &r.township,
                        &r.village_code,
                        &r.village_name,
                        vec![
                            num(r.rural_population),
                            num(r.poor_people),
                            opt(r.incidence_pct.map(crate::report::figures::printed_percent)),
                        ],
                    )
                })
                .collect(),
        },
        Table {
            name: "帮扶措施",
            year: report.year,
            headers: &[
                ("帮扶措施类别", CellKind::Text, 16.0),
                ("措施数", CellKind::Int, 10.0),
                ("受益户数", CellKind::Int, 10.0),
                ("金额(元)", CellKind::Amount, 16.0),
            ],
            rows: report
                .by_path
                .iter()
                .map(|r| {
                    vec![
                        text(&r.path),
                        num(r.measures),
                        num(r.households),
                        Cell::Number(r.amount),
                    ]
                })
                .collect(),
        },
        Table {
            name: "走访覆盖",
            year: report.year,
            headers: &[
                ("乡镇", CellKind::Text, 12.0),
                ("村代码", CellKind::Text, 15.0),
                ("村名", CellKind::Text, 12.0),
                ("户数", CellKind::Int, 8.0),
                ("曾走访户数", CellKind::Int, 11.0),
                ("本年走访户数", CellKind::Int, 12.0),
                ("本年走访次数", CellKind::Int, 12.0),
                ("本年走访覆盖率(%)", CellKind::Number, 16.0),
            ],
            rows: report
                .visits
                .iter()
                .map(|r| {
                    vec![
                        text(&r.township),
                        text(&r.village_code),
                        text(&r.village_name),
                        num(r.households),
                        num(r.visited_ever),
                        num(r.visited_in_year),
                        num(r.visits_in_year),
                        opt(r.coverage_pct),
                    ]
                })
                .collect(),
        },
        Table {
            name: "培训覆盖",
            year: report.year,
            headers: &[
                ("乡镇", CellKind::Text, 12.0),
                ("村代码", CellKind::Text, 15.0),
                ("村名", CellKind::Text, 12.0),
                ("户数", CellKind::Int, 8.0),
                ("有成员参训户数", CellKind::Int, 14.0),
                ("参训人数", CellKind::Int, 10.0),
                ("取得证书", CellKind::Int, 10.0),
                ("户均1人覆盖率(%)", CellKind::Number, 16.0),
            ],
            rows: report
                .training
                .iter()
                .map(|r| {
                    place_line(
                        &r.township,
                        &r.village_code,
                        &r.village_name,
                        vec![
                            num(r.households),
                            num(r.trained_households),
                            num(r.trained_people),
                            num(r.certificates),
                            opt(r.coverage_pct),
                        ],
                    )
                })
                .collect(),
        },
    ];
    if let Some(r) = readiness {
        tables.push(readiness_table(r));
    }
    crate::files::write_file_with(out, |partial| {
        write(&tables, unit, partial).map_err(|source| LedgerError::Write {
            path: out.to_path_buf(),
            source,
        })
    })?;
    Ok(tables.len())
}

/// A township's funds (乡镇经费表) as a workbook: the counts the formulas multiply, then each
/// fund with its formula, amount and shares. Returns how many sheets were written.
pub fn export_township_funds(
    funds: &crate::policy::TownshipFunds,
    unit: &str,
    out: &Path,
) -> Result<usize, LedgerError> {
    let counts = Table {
        name: "计算依据",
        year: funds.year,
        headers: &[
            ("项目", CellKind::Text, 36.0),
            ("数量", CellKind::Int, 10.0),
        ],
        rows: vec![
            vec![
                text("本年度县审定销号的脱贫户（户）"),
                num(funds.exited_households),
            ],
            vec![
                text("易地扶贫搬迁户（户）"),
                num(funds.relocated_households),
            ],
            vec![text("建档立卡贫困人口（人）"), num(funds.poor_people)],
        ],
    };
    let mut rows = Vec::new();
    for line in &funds.lines {
        rows.push(vec![
            text(&line.policy_name),
            text(&line.formula),
            Cell::Number(line.amount),
            Cell::Empty,
            Cell::Empty,
        ]);
        for (to, amount) in &line.shares {
            rows.push(vec![
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                text(to),
                Cell::Number(*amount),
            ]);
        }
    }
    rows.push(vec![
        text("合计"),
        Cell::Empty,
        Cell::Number(funds.total),
        Cell::Empty,
        Cell::Empty,
    ]);
    let lines = Table {
        name: "乡镇经费",
        year: funds.year,
        headers: &[
            ("经费项目", CellKind::Text, 20.0),
            ("计算方式", CellKind::Text, 48.0),
            ("金额(元)", CellKind::Amount, 14.0),
            ("分配对象", CellKind::Text, 14.0),
            ("分配金额(元)", CellKind::Amount, 14.0),
        ],
        rows,
    };
    let tables = [lines, counts];
    crate::files::write_file_with(out, |partial| {
        write(&tables, unit, partial).map_err(|source| LedgerError::Write {
            path: out.to_path_buf(),
            source,
        })
    })?;
    Ok(tables.len())
}

/// Which years a scope's report workbook counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportYears {
    /// Visit coverage counts this year (default: this year).
    pub visits: Option<i32>,
    /// Exit readiness against this year's line (default: the latest standard).
    pub exit: Option<i32>,
}

/// What a written report workbook holds.
#[derive(ts_rs::TS, Debug, Clone, serde::Serialize)]
pub struct ReportSummary {
    pub unit: String,
    pub path: String,
    pub sheets: usize,
}

/// The figures and exit readiness of a scope, written to `out` as one workbook.
pub fn write_scope_report(
    store: &Store,
    scope: &Scope,
    years: ReportYears,
    out: &Path,
) -> Result<ReportSummary, LedgerError> {
    let unit = scope.unit_name(store)?;
    let report = stats(store, scope, years.visits)?;
    let readiness = exit_readiness(store, scope, years.exit)?;
    let sheets = export_report(&report, Some(&readiness), &unit, out)?;
    Ok(ReportSummary {
        unit,
        path: out.display().to_string(),
        sheets,
    })
}

/// One row per household evaluated, with the checks it does not meet and why.
fn readiness_table(r: &Readiness) -> Table<'static> {
    Table {
        name: "退出达标",
        year: r.year,
        headers: &[
            ("户编号", CellKind::Text, 18.0),
            ("户主姓名", CellKind::Text, 10.0),
            ("村名", CellKind::Text, 12.0),
            ("脱贫状态", CellKind::Text, 12.0),
            ("评估年度", CellKind::Int, 10.0),
            ("是否达标", CellKind::Text, 10.0),
            ("未达标或待核实项及原因", CellKind::Text, 80.0),
        ],
        rows: r
            .rows
            .iter()
            .map(|row| {
                let why: Vec<String> = row
                    .shortfalls
                    .iter()
                    .map(|s| format!("{}（{}）：{}", s.label, s.status_label, s.reason))
                    .collect();
                vec![
                    text(&row.household_code),
                    text(&row.head_name),
                    text(&row.village_name),
                    text(&row.poverty_status),
                    num(i64::from(r.year)),
                    text(if row.meets { "达标" } else { "未达标" }),
                    Cell::Text(why.join("；")),
                ]
            })
            .collect(),
    }
}

fn write(tables: &[Table<'_>], unit: &str, out: &Path) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#D9E1F2")
        .set_align(FormatAlign::Center);
    let text_format = cell_format(CellKind::Text);
    for t in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(t.name)?;
        sheet.write_string_with_format(
            0,
            0,
            format!("{unit} {}（{}年）", t.name, t.year),
            &title,
        )?;
        for (i, (h, _, width)) in t.headers.iter().enumerate() {
            sheet.set_column_width(i as u16, *width)?;
            sheet.write_string_with_format(1, i as u16, *h, &header)?;
        }
        let formats: Vec<Format> = t.headers.iter().map(|(_, k, _)| cell_format(*k)).collect();
        for (r, row) in t.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Some(f) = formats.get(c) {
                    write_cell(sheet, r as u32 + 2, c as u16, cell, f, &text_format)?;
                }
            }
        }
        sheet.set_freeze_panes(2, 0)?;
    }
    workbook.save(out)
}
