// Typed wrappers over the desktop shell's Tauri commands; the only place the UI calls invoke.
import { invoke } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'

import type {
  DevicesView,
  HouseholdRelocation,
  Moved,
  StageSaved,
  MeasurePayments,
  NewPayment,
  NewStage,
  NewTraining,
  TeamMemberEdit,
  TeamMemberSheet,
  PolicyEntry,
  PolicyMeasure,
  NewTeamMember,
  TeamEntry,
  Actor,
  ApiError,
  AppInfo,
  AuditEntry,
  Person,
  Role,
  SignedIn,
  SetupAnswers,
  SetupDefaults,
  SetupDone,
  VerifiedUpdate,
  BackupInfo,
  CardConfig,
  CardRequest,
  CardsProgress,
  Catalog,
  RemovableDrive,
  CodeList,
  Delivered,
  Destination,
  Draft,
  Entitlement,
  ExitAction,
  ExitDocument,
  ExitVocabulary,
  ExitEvaluation,
  ExitStandard,
  ExportResult,
  FieldChange,
  FilingOutcome,
  HelpCard,
  Helper,
  HouseholdFile as GeneratedFile,
  HouseholdPage,
  HouseholdQuery,
  HubView,
  ImportOutcome,
  ImportPreview,
  ImportResult,
  LedgerExport,
  LedgerKind,
  LedgerTitle,
  LoadedPage as GeneratedLoadedPage,
  Overview,
  PageBase,
  PageReview,
  Printers,
  ProcedureState,
  ProcedureTrail,
  QualityItem,
  Readiness,
  ReportSummary,
  ReviewItem,
  Scope,
  StatsReport,
  Village,
  VillageEdit,
  VillageProgress,
  VillageRow,
  VillageSheet,
  WorkYears,
  AttachmentEntry,
  AttachableRecord,
  AttachOutcome,
  NewAttachment,
  BatchOutcome,
  BatchStep,
  CountySettings,
} from './bindings'

// Every type the commands take or return, generated from the Rust types (scripts/bindings).
export type * from './bindings'

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).kind === 'string' &&
    typeof (value as ApiError).message === 'string'
  )
}

/** The Chinese text to show for anything a command rejected with. */
export function errorMessage(error: unknown): string {
  if (isApiError(error)) return error.message
  if (typeof error === 'string') return error
  return '无法连接到帮扶台账程序，请重新启动后再试。'
}

export function listHouseholds(query: HouseholdQuery): Promise<HouseholdPage> {
  return invoke<HouseholdPage>('list_households', { query })
}

export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>('app_info')
}

/** Sets the passphrase of a data file that has none yet; resolves to the recovery code (shown once). */
export function setUpProtection(passphrase: string): Promise<string> {
  return invoke<string>('set_up_protection', { passphrase })
}

/** Unlocks the data file with its passphrase, or with the recovery code and a new passphrase. */
export function unlockDataFile(args: {
  passphrase?: string
  recoveryCode?: string
  newPassphrase?: string
}): Promise<void> {
  return invoke<void>('unlock_data_file', {
    passphrase: args.passphrase ?? null,
    recoveryCode: args.recoveryCode ?? null,
    newPassphrase: args.newPassphrase ?? null,
  })
}

/** Changes the passphrase of the open data file (设置 → 口令). */
export function changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void> {
  return invoke<void>('change_passphrase', { oldPassphrase, newPassphrase })
}

// ---- People and roles (设置 → 人员, the sign-in screen) ---------------------------------------

/** Who is signed in, and whether this file has people (then someone must sign in). */
export function signedIn(): Promise<SignedIn> {
  return invoke<SignedIn>('signed_in')
}

/** Signs a person in by name and PIN; a wrong PIN is refused with how many tries are left. */
export function signIn(name: string, pin: string): Promise<Actor> {
  return invoke<Actor>('sign_in', { name, pin })
}

export function signOut(): Promise<void> {
  return invoke<void>('sign_out')
}

export function peopleList(): Promise<Person[]> {
  return invoke<Person[]>('people_list')
}

export function personAdd(name: string, role: Role, pin: string): Promise<Person> {
  return invoke<Person>('person_add', { name, role, pin })
}

export function personDisable(id: number): Promise<void> {
  return invoke<void>('person_disable', { id })
}

/** A new PIN for a person who forgot theirs (第一书记/队长 and 乡镇管理员 only). */
export function personResetPin(id: number, pin: string): Promise<void> {
  return invoke<void>('person_reset_pin', { id, pin })
}

/** Full-ID exports made on this laptop, newest first (第一书记/队长 and 乡镇管理员 only). */
export function auditLog(): Promise<AuditEntry[]> {
  return invoke<AuditEntry[]>('audit_log')
}

// ---- The first-run wizard -------------------------------------------------------------------

export function setupDefaults(): Promise<SetupDefaults> {
  return invoke<SetupDefaults>('setup_defaults')
}

export function finishSetup(answers: SetupAnswers): Promise<SetupDone> {
  return invoke<SetupDone>('finish_setup', { answers })
}

export function openPractice(): Promise<void> {
  return invoke<void>('open_practice')
}

export function leavePractice(): Promise<void> {
  return invoke<void>('leave_practice')
}

export function codeLists(): Promise<CodeList[]> {
  return invoke<CodeList[]>('code_lists')
}

export function villageGroups(): Promise<string[]> {
  return invoke<string[]>('village_groups')
}

// ---- The household page ----------------------------------------------------------------------

/**
 * A record as serde spells the core's entities: strings are '' when empty, optional numbers,
 * flags, dates ('YYYY-MM-DD') and references (UUID text) are null when empty.
 */
export type FieldValue = string | number | boolean | null
export interface RecordRow {
  id: string
  [field: string]: FieldValue
}

/**
 * The household page as the UI edits it: the generated HouseholdFile's parts, each record kept
 * generic because the catalog (not the UI) says which fields it has.
 */
export type HouseholdFile = {
  [K in keyof GeneratedFile]: GeneratedFile[K] extends unknown[] ? RecordRow[] : RecordRow
}
export type LoadedPage = Omit<GeneratedLoadedPage, 'page'> & { page: HouseholdFile }

export function catalog(): Promise<Catalog> {
  return invoke<Catalog>('catalog')
}

export function householdFile(id: string): Promise<HouseholdFile> {
  return invoke<HouseholdFile>('household_file', { id })
}

export function reviewHousehold(file: HouseholdFile, year: number): Promise<PageReview> {
  return invoke<PageReview>('review_household', { file, year })
}

/** The household page with the base it was loaded from. */
export function householdPage(id: string): Promise<LoadedPage> {
  return invoke<LoadedPage>('household_page', { id })
}

/** Whether data arrived under an open page since its base was loaded. */
export function householdChangedSince(base: PageBase): Promise<boolean> {
  return invoke<boolean>('household_changed_since', { base })
}

/** Every value one field of one row has had, with device, person and time (修改记录). */
export function fieldHistory(table: string, id: string, field: string): Promise<FieldChange[]> {
  return invoke<FieldChange[]>('field_history', { table, id, field })
}

/** Saves the page against its base (null: a new household, saved whole). */
export function fileHousehold(file: HouseholdFile, base: PageBase | null): Promise<FilingOutcome> {
  return invoke<FilingOutcome>('file_household', { file, base })
}

/** Every village with its 村情 in brief (村情 page). */
export function villageList(): Promise<VillageRow[]> {
  return invoke<VillageRow[]>('village_list')
}

/** One village's 村情 and the base its save is written over. */
export function villageSheetLoad(villageId: string): Promise<VillageSheet> {
  return invoke<VillageSheet>('village_sheet_load', { villageId })
}

/** Saves the 村情 fields changed since the load; the core refuses bad values in Chinese. */
export function villageSheetSave(edit: VillageEdit): Promise<VillageSheet> {
  return invoke<VillageSheet>('village_sheet_save', { edit })
}

export function villages(): Promise<Village[]> {
  return invoke<Village[]>('villages')
}

export function helpers(): Promise<Helper[]> {
  return invoke<Helper[]>('helpers')
}

// ---- Drafts -------------------------------------------------------------------------------------

export function saveDraft(key: string, title: string, content: string): Promise<void> {
  return invoke<void>('save_draft', { key, title, content })
}

export function drafts(): Promise<Draft[]> {
  return invoke<Draft[]>('drafts')
}

export function discardDraft(key: string): Promise<void> {
  return invoke<void>('discard_draft', { key })
}

// ---- Overview -----------------------------------------------------------------------------------

export function workYearChoices(): Promise<WorkYears> {
  return invoke<WorkYears>('work_year_choices')
}

export function villageOverview(year: number | null, days: number): Promise<Overview> {
  return invoke<Overview>('village_overview', { year, days })
}

export function dataQuality(): Promise<QualityItem[]> {
  return invoke<QualityItem[]>('data_quality_items')
}

// ---- Sync and review ------------------------------------------------------------------------------

export function exportChanges(path: string): Promise<ExportResult> {
  return invoke<ExportResult>('export_changes', { path })
}

export function changesetFiles(path: string): Promise<string[]> {
  return invoke<string[]>('changeset_files', { path })
}

export function importChanges(path: string): Promise<ImportResult> {
  return invoke<ImportResult>('import_changes', { path })
}

export function reviewQueue(): Promise<ReviewItem[]> {
  return invoke<ReviewItem[]>('review_queue')
}

export function resolveReviewItem(item: ReviewItem, text: string): Promise<void> {
  const key = { table: item.table, row_id: item.row_id, field: item.field }
  return invoke<void>('resolve_review_item', { item: key, text })
}

// ---- Exit procedure (脱贫退出) -----------------------------------------------------------------

export function exitEvaluation(householdId: string, year: number): Promise<ExitEvaluation> {
  return invoke<ExitEvaluation>('exit_evaluation', { householdId, year })
}

export function householdPolicies(householdId: string, year: number): Promise<Entitlement[]> {
  return invoke<Entitlement[]>('household_policies', { householdId, year })
}

/** The household's 档案: attachments by record. */
export function archiveList(householdId: string): Promise<AttachmentEntry[]> {
  return invoke<AttachmentEntry[]>('archive_list', { householdId })
}

/** The household's exit steps, visits and measures a file can be attached to. */
export function archiveRecords(householdId: string): Promise<AttachableRecord[]> {
  return invoke<AttachableRecord[]>('archive_records', { householdId })
}

/** Attaches the picked file at `path` to a record of the household. */
export function archiveAdd(input: NewAttachment, path: string): Promise<AttachOutcome> {
  return invoke<AttachOutcome>('archive_add', { input, path })
}

/** Saves a held file of the archive to `path`. */
export function archiveSave(sha256: string, path: string): Promise<void> {
  return invoke<void>('archive_save', { sha256, path })
}

/** The household's 档案目录 as a PDF, printed or saved. */
export function archiveListSheet(household: string, destination: Destination): Promise<Delivered> {
  return invoke<Delivered>('archive_list_sheet', { household, destination })
}

/** Takes an attachment off its record. */
export function archiveRemove(id: string): Promise<void> {
  return invoke<void>('archive_remove', { id })
}

export function exitTrail(householdId: string): Promise<ProcedureTrail> {
  return invoke<ProcedureTrail>('exit_trail', { householdId })
}

/** Records one step for a list of households (one meeting, one 公示, one 公告 or one approval). */
export function exitActBatch(batch: BatchStep): Promise<BatchOutcome> {
  return invoke<BatchOutcome>('exit_act_batch', { batch })
}

export function exitAct(householdId: string, action: ExitAction): Promise<ProcedureState> {
  return invoke<ProcedureState>('exit_act', { householdId, action })
}

/** The 退出 tab's steps as the core defines them: fields, signers, notice-day counting. */
export function exitVocabulary(): Promise<ExitVocabulary> {
  return invoke<ExitVocabulary>('exit_vocabulary')
}

export function exitProgress(villageId: string | null, year: number | null): Promise<VillageProgress> {
  return invoke<VillageProgress>('exit_progress', { villageId, year })
}

/** Every 脱贫标准 in force: the county's synced settings over the shipped figures. */
export function standardsList(): Promise<ExitStandard[]> {
  return invoke<ExitStandard[]>('standards_list')
}

/** Sets a year's standard; rejects with kind `income_line_falls` until `acceptFall` is given. */
export function standardSet(standard: ExitStandard, acceptFall: boolean): Promise<void> {
  return invoke<void>('standard_set', { standard, acceptFall })
}

/** Takes back the county's setting of a year and province. */
export function standardClear(year: number, province: string): Promise<boolean> {
  return invoke<boolean>('standard_clear', { year, province })
}

/** The county's settings in force (the first year of 建档立卡), each with its source. */
export function countySettings(): Promise<CountySettings> {
  return invoke<CountySettings>('county_settings_get')
}

/** Sets the county's first year of 建档立卡 with the document it comes from (synced). */
export function firstFilingYearSet(year: number, source: string): Promise<void> {
  return invoke<void>('first_filing_year_set', { year, source })
}

/** Takes back the county's first filing year; the shipped 2014 applies again. */
export function firstFilingYearClear(): Promise<boolean> {
  return invoke<boolean>('first_filing_year_clear')
}

export function exitDocumentPath(document: ExitDocument): Promise<string> {
  return invoke<string>('exit_document_path', { document })
}

export function exitSavePdf(document: ExitDocument, path: string): Promise<string> {
  return invoke<string>('exit_save_pdf', { document, path })
}

export function exitPrint(document: ExitDocument): Promise<string> {
  return invoke<string>('exit_print', { document })
}

// ---- 帮扶联系卡 and 走访记录 printing -------------------------------------------------------------

export function cardPreview(id: string, config: CardConfig): Promise<HelpCard> {
  return invoke<HelpCard>('card_preview', { id, config })
}

export function printers(): Promise<Printers> {
  return invoke<Printers>('printers')
}

export function matchingHouseholds(query: HouseholdQuery): Promise<string[]> {
  return invoke<string[]>('matching_households', { query })
}

export function cardsPdf(job: string, request: CardRequest, destination: Destination): Promise<Delivered> {
  return invoke<Delivered>('cards_pdf', { job, request, destination })
}

export function cancelCards(job: string): Promise<void> {
  return invoke<void>('cancel_cards', { job })
}

export function visitsSheet(household: string, destination: Destination): Promise<Delivered> {
  return invoke<Delivered>('visits_sheet', { household, destination })
}

/** Calls `handler` for every page a card batch lays out; resolves to the unsubscribe function. */
export function onCardsProgress(handler: (progress: CardsProgress) => void): Promise<() => void> {
  return listen<CardsProgress>('cards-progress', (event) => handler(event.payload))
}

/** Saves a 帮扶责任人; refused with kind 'invalid' and what to fix. */
export function fileHelper(helper: Helper): Promise<FilingOutcome> {
  return invoke<FilingOutcome>('file_helper', { helper })
}

// ---- Ledgers (台帐) and reports ---------------------------------------------------------------------

/** `year`: incomes, measures and visits of that work year only (the other ledgers ignore it). */
/** The seven ledgers with their titles, in the county's order. */
export function ledgerTitles(): Promise<LedgerTitle[]> {
  return invoke<LedgerTitle[]>('ledger_titles')
}

export function exportLedger(kind: LedgerKind, scope: Scope, year: number | null, path: string): Promise<LedgerExport> {
  return invoke<LedgerExport>('export_ledger', { kind, scope, year, path })
}

export function previewImport(path: string): Promise<ImportPreview> {
  return invoke<ImportPreview>('preview_import', { path })
}

export function importRoll(path: string): Promise<ImportOutcome> {
  return invoke<ImportOutcome>('import_roll', { path })
}

export function scopeStats(scope: Scope, year: number | null): Promise<StatsReport> {
  return invoke<StatsReport>('scope_stats', { scope, year })
}

export function scopeExitReadiness(scope: Scope, year: number | null): Promise<Readiness> {
  return invoke<Readiness>('scope_exit_readiness', { scope, year })
}

export function exportScopeReport(
  scope: Scope,
  visitYear: number | null,
  exitYear: number | null,
  path: string,
): Promise<ReportSummary> {
  return invoke<ReportSummary>('export_scope_report', { scope, visitYear, exitYear, path })
}

// ---- County hub and this device (设置 page, status line) -----------------------------------------

export function hubStatus(): Promise<HubView> {
  return invoke<HubView>('hub_status')
}

export function renameDevice(name: string): Promise<void> {
  return invoke<void>('rename_device', { name })
}

/** Spends the county's one-time code; resolves to the sync scope (village, township or county code). */
export function enrolHub(url: string, code: string): Promise<string> {
  return invoke<string>('enrol_hub', { url, code })
}

export function forgetHub(): Promise<void> {
  return invoke<void>('forget_hub')
}

export function syncNow(): Promise<void> {
  return invoke<void>('sync_now')
}

/** The background sync's events: the status changed, or data arrived from the hub. */
export type HubEvent = 'hub-status' | 'hub-data'

/** Calls `callback` on each `event`; resolves to the function that stops listening. */
export async function onHubEvent(event: HubEvent, callback: () => void): Promise<() => void> {
  const { listen } = await import('@tauri-apps/api/event')
  return listen(event, () => callback())
}

// ── 设置 → 备份 ──

export function backups(): Promise<BackupInfo[]> {
  return invoke<BackupInfo[]>('backups')
}

/** Takes a backup now; resolves to the new list. */
export function backupNow(): Promise<BackupInfo[]> {
  return invoke<BackupInfo[]>('backup_now')
}

/** Records the restore and restarts the app (the promise never resolves when it works). */
export function restoreFromBackup(path: string): Promise<void> {
  return invoke<void>('restore_from_backup', { path })
}

// ---- 设置 → 更新 ---------------------------------------------------------------------------

export function appVersion(): Promise<string> {
  return invoke<string>('app_version')
}

/** A new version on a U 盘: resolves only when its signature and package verify. */
export function updateFromFolder(folder: string): Promise<VerifiedUpdate> {
  return invoke<VerifiedUpdate>('update_from_folder', { folder })
}

/** The version the county hub offers, downloaded and verified. */
export function updateFromHub(): Promise<VerifiedUpdate> {
  return invoke<VerifiedUpdate>('update_from_hub')
}

/** 备份到 U 盘: resolves to the backup file written in `folder`. */
export function backupToMedia(folder: string): Promise<string> {
  return invoke<string>('backup_to_media', { folder })
}

export function mediaBackups(folder: string): Promise<BackupInfo[]> {
  return invoke<BackupInfo[]>('media_backups', { folder })
}

/** 从 U 盘恢复: when it works the program restarts and this never returns. */
export function restoreFromMedia(path: string): Promise<void> {
  return invoke<void>('restore_from_media', { path })
}

// ---- Files and U 盘 (issue #22): the sticks mounted now, the last folder per kind of file,
// showing a saved file in its folder. ----

/** A removable drive mounted now. */
export function removableDrives(): Promise<RemovableDrive[]> {
  return invoke<RemovableDrive[]>('removable_drive_list')
}

/** Opens the file manager on the file's folder, the file selected. */
export function revealInFolder(path: string): Promise<void> {
  return invoke<void>('reveal_in_folder', { path })
}

/** The folder this kind of file was last saved to or read from, if it still exists. */
export function lastFolder(kind: string): Promise<string | null> {
  return invoke<string | null>('last_folder', { kind })
}

export function rememberFolder(kind: string, folder: string): Promise<void> {
  return invoke<void>('remember_folder', { kind, folder })
}

/** A village's 驻村工作队, serving members first, past members kept. */
export function teamList(villageId: string): Promise<TeamEntry[]> {
  return invoke<TeamEntry[]>('team_list', { villageId })
}

/** Adds a member to a village's 驻村工作队; resolves to the new member's id. */
export function teamAdd(member: NewTeamMember): Promise<string> {
  return invoke<string>('team_add', { member })
}

/** Every device this copy knows (安全码, 待确认设备, village limits, held files). */
export function devicesList(): Promise<DevicesView> {
  return invoke<DevicesView>('devices_list')
}

/** Confirms a device by its 安全码, limited to a village code when given; the lines to show. */
export function deviceConfirm(fingerprint: string, village: string | null): Promise<string[]> {
  return invoke<string[]>('device_confirm', { fingerprint, village })
}

/** Confirms the county's 安全码: the devices the county certified are confirmed with it; the lines to show. */
export function deviceConfirmCounty(fingerprint: string, replace = false): Promise<string[]> {
  return invoke<string[]>('device_confirm_county', { fingerprint, replace })
}

/** Merges what a device did outside its village, once a person checked it with the team. */
export function deviceMergeHeld(fingerprint: string): Promise<string[]> {
  return invoke<string[]>('device_merge_held', { fingerprint })
}

/** Declines what waits for a device (held files holding only its changes are removed). */
export function deviceDropHeld(fingerprint: string): Promise<string[]> {
  return invoke<string[]>('device_drop_held', { fingerprint })
}

/** Changes the village a confirmed device is limited to; null: not limited. */
export function deviceSetVillage(fingerprint: string, village: string | null): Promise<string[]> {
  return invoke<string[]>('device_set_village', { fingerprint, village })
}

/** Takes back a device's confirmation (confirmed by mistake: the hub brings another 安全码). */
export function deviceUnconfirm(fingerprint: string): Promise<string[]> {
  return invoke<string[]>('device_unconfirm', { fingerprint })
}

/** Whether ops of devices not confirmed yet wait for a person. */
export function devicesRequireConfirmation(on: boolean): Promise<void> {
  return invoke<void>('devices_require_confirmation', { on })
}

/** Records the day a team member left the village (the record stays). */
export function teamEnd(memberId: string, endDate: string): Promise<void> {
  return invoke<void>('team_end', { memberId, endDate })
}

/** A team member with the heads of its fields, for the 修改 dialog. */
export function teamMemberSheet(memberId: string): Promise<TeamMemberSheet> {
  return invoke<TeamMemberSheet>('team_member_sheet', { memberId })
}

/** Saves the 修改 dialog: the fields changed, over the heads loaded. */
export function teamSet(edit: TeamMemberEdit): Promise<void> {
  return invoke<void>('team_set', { edit })
}

/** Records a member's training (kind, days, certificate); resolves to the measure's id. */
export function trainingAdd(input: NewTraining): Promise<string> {
  return invoke<string>('training_add', { input })
}

/** The household's 易地扶贫搬迁: 安置点, stages recorded, the next one, whether it may be recorded. */
export function householdRelocation(householdId: string): Promise<HouseholdRelocation> {
  return invoke<HouseholdRelocation>('household_relocation', { householdId })
}

/** Records a stage of the household's new house; resolves to the box as it now stands and, at
 *  入住 at a 安置点 in another village, the move to offer (not made). */
export function relocationStageAdd(input: NewStage): Promise<StageSaved> {
  return invoke<StageSaved>('relocation_stage_add', { input })
}

/** Names the village of the household's 安置点 on its 入住 stage (recorded before it was asked). */
export function relocationSiteVillageSet(householdId: string, villageCode: string): Promise<StageSaved> {
  return invoke<StageSaved>('relocation_site_village_set', { householdId, villageCode })
}

/** Moves a household to the village with this 12-digit code (所属村 and a new 户编号 there). */
export function householdMove(householdId: string, villageCode: string): Promise<Moved> {
  return invoke<Moved>('household_move', { householdId, villageCode })
}

/** The household's measures with their payments (paid above the amount due flagged). */
export function householdMeasures(householdId: string): Promise<MeasurePayments[]> {
  return invoke<MeasurePayments[]>('household_measures', { householdId })
}

/** The policies in force in a year (the county's catalogue over the shipped one). */
export function policiesInForce(year: number): Promise<PolicyEntry[]> {
  return invoke<PolicyEntry[]>('policies_in_force', { year })
}

/** Records a structured measure naming its policy and beneficiary; resolves to its id. */
export function policyMeasureAdd(input: PolicyMeasure): Promise<string> {
  return invoke<string>('policy_measure_add', { input })
}

/** Records a payment of a measure; resolves to its id. */
export function paymentAdd(input: NewPayment): Promise<string> {
  return invoke<string>('payment_add', { input })
}
