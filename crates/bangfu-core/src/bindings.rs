//! The list of core types the UI sees: what `scripts/bindings` exports as TypeScript.
//!
//! Each type here derives `ts_rs::TS`; exporting a type exports every type it mentions, so the
//! list names only the roots the desktop commands take or return.

use ts_rs::{Config, ExportError, TS};

use crate::cards::{CardConfig, CardRequest, HelpCard};
use crate::exit::{
    ExitAction, ExitDocument, ExitVocabulary, HouseholdEvaluation, ProcedureTrail, VillageProgress,
};
use crate::filing::{FilingOutcome, HouseholdFile};
use crate::household_page::PageReview;
use crate::ledger::{
    ExportSummary, ImportOutcome, ImportPreview, LedgerKind, LedgerTitle, ReportSummary, Scope,
};
use crate::model::catalog::Catalog;
use crate::model::codes::CodeList;
use crate::model::{Helper, Village};
use crate::page_base::{LoadedPage, PageBase};
use crate::print::Printers;
use crate::query::{HouseholdPage, HouseholdQuery};
use crate::report::overview::Overview;
use crate::report::quality::QualityItem;
use crate::report::readiness::Readiness;
use crate::report::stats::StatsReport;
use crate::report::year::WorkYears;
use crate::store::backup::BackupInfo;
use crate::store::draft::Draft;
use crate::sync::review::ReviewItem;

/// The settings every export uses: 64-bit integers are JSON numbers, not `bigint`.
pub fn config(dir: &std::path::Path) -> Config {
    Config::new().with_large_int("number").with_out_dir(dir)
}

/// Writes the TypeScript of every core type the UI uses into `cfg`'s directory.
pub fn export_core(cfg: &Config) -> Result<(), ExportError> {
    HouseholdQuery::export_all(cfg)?;
    crate::team::TeamEntry::export_all(cfg)?;
    crate::sync::trust::DevicesView::export_all(cfg)?;
    crate::team::NewTeamMember::export_all(cfg)?;
    crate::team::TeamMemberSheet::export_all(cfg)?;
    crate::team::TeamMemberEdit::export_all(cfg)?;
    crate::policy::HouseholdRelocation::export_all(cfg)?;
    crate::policy::NewStage::export_all(cfg)?;
    crate::policy::StageSaved::export_all(cfg)?;
    crate::moving::Moved::export_all(cfg)?;
    crate::store::Refusal::export_all(cfg)?;
    crate::policy::NewTraining::export_all(cfg)?;
    crate::policy::MeasurePayments::export_all(cfg)?;
    crate::policy::PolicyMeasure::export_all(cfg)?;
    crate::policy::NewPayment::export_all(cfg)?;
    crate::policy::PolicyDef::export_all(cfg)?;
    crate::store::Person::export_all(cfg)?;
    crate::store::AuditEntry::export_all(cfg)?;
    crate::store::FieldChange::export_all(cfg)?;
    crate::access::Role::export_all(cfg)?;
    crate::access::Actor::export_all(cfg)?;
    HouseholdPage::export_all(cfg)?;
    CodeList::export_all(cfg)?;
    Catalog::export_all(cfg)?;
    HouseholdFile::export_all(cfg)?;
    PageReview::export_all(cfg)?;
    FilingOutcome::export_all(cfg)?;
    PageBase::export_all(cfg)?;
    LoadedPage::export_all(cfg)?;
    Village::export_all(cfg)?;
    crate::village::VillageRow::export_all(cfg)?;
    crate::village::VillageSheet::export_all(cfg)?;
    crate::village::VillageEdit::export_all(cfg)?;
    Helper::export_all(cfg)?;
    Draft::export_all(cfg)?;
    WorkYears::export_all(cfg)?;
    Overview::export_all(cfg)?;
    QualityItem::export_all(cfg)?;
    ReviewItem::export_all(cfg)?;
    HouseholdEvaluation::export_all(cfg)?;
    ProcedureTrail::export_all(cfg)?;
    ExitAction::export_all(cfg)?;
    crate::exit::BatchStep::export_all(cfg)?;
    crate::exit::BatchOutcome::export_all(cfg)?;
    VillageProgress::export_all(cfg)?;
    ExitDocument::export_all(cfg)?;
    crate::exit::ExitStandard::export_all(cfg)?;
    crate::county_settings::CountySettings::export_all(cfg)?;
    crate::policy::Entitlement::export_all(cfg)?;
    crate::policy::PolicyDue::export_all(cfg)?;
    crate::policy::PolicyDef::export_all(cfg)?;
    crate::policy::TownshipFunds::export_all(cfg)?;
    crate::archive::AttachmentEntry::export_all(cfg)?;
    crate::archive::AttachableRecord::export_all(cfg)?;
    crate::archive::NewAttachment::export_all(cfg)?;
    crate::archive::AttachOutcome::export_all(cfg)?;
    ExitVocabulary::export_all(cfg)?;
    LedgerTitle::export_all(cfg)?;
    CardConfig::export_all(cfg)?;
    CardRequest::export_all(cfg)?;
    HelpCard::export_all(cfg)?;
    Printers::export_all(cfg)?;
    LedgerKind::export_all(cfg)?;
    Scope::export_all(cfg)?;
    ExportSummary::export_all(cfg)?;
    ImportPreview::export_all(cfg)?;
    ImportOutcome::export_all(cfg)?;
    StatsReport::export_all(cfg)?;
    Readiness::export_all(cfg)?;
    ReportSummary::export_all(cfg)?;
    BackupInfo::export_all(cfg)?;
    crate::removable::RemovableDrive::export_all(cfg)?;
    Ok(())
}
