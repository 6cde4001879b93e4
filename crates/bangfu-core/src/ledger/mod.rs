//! Ledgers (台帐): Excel exports ready to hand in, and import of the rolls teams already keep.
//!
//! Architecture invariant: an import writes only through `Store::file_household`, one
//! validated household at a time, so imported households sync like typed ones; nothing is
//! written before the whole roll has been checked and previewed.

mod bench;
pub mod columns;
mod error;
pub mod export;
pub mod import;
mod report_sheet;
mod roll;
mod rows;
pub mod scope;
mod sheet;

pub use bench::bench_member_ledger;
pub use error::LedgerError;
pub use export::{
    ExportSummary, LedgerKind, LedgerTitle, export_ledger, export_ledger_of_year, ledger_titles,
};
pub use import::{ImportOutcome, ImportPreview, import_good_rows, preview_roll};
pub use report_sheet::{
    ReportSummary, ReportYears, export_report, export_township_funds, write_scope_report,
};
pub use scope::Scope;
