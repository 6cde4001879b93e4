// Typed wrappers over the desktop shell's Tauri commands; the only place the UI calls invoke.
import { invoke } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'

/** Mirrors bangfu_core::query::HouseholdQuery (field names as serde spells them). */
export interface HouseholdQuery {
  text: string
  village_code: string | null
  group_name: string | null
  poverty_status: string | null
  attribute: string | null
  main_cause: string | null
  not_visited_days: number | null
  sort: string | null
  descending: boolean
  offset: number
  limit: number
}

/** One line of the household list; code-valued fields arrive as their Chinese labels. */
export interface HouseholdRow {
  id: string
  code: string
  village_name: string
  group_name: string
  head_name: string
  head_id_number: string
  members: number
  attribute: string
  poverty_status: string
  main_cause: string
  last_visit: string | null
}

export interface HouseholdPage {
  /** Households matching; with `capped`, only a lower bound (a broad search stops counting). */
  total: number
  capped: boolean
  rows: HouseholdRow[]
}

export interface AppInfo {
  db_path: string
  device_name: string
  /** Set while a file of an older version is upgraded; the window waits for it to go. */
  upgrading: Upgrading | null
  /** Set when this laptop's date stands behind the latest change in its data file. */
  clock_warning: string | null
}

export interface Upgrading {
  from: number
  to: number
  rows_done: number
  rows_total: number
}

/** One value list of the filing forms: stable codes with the labels the paper form prints. */
export interface CodeList {
  key: string
  title: string
  entries: [code: string, label: string][]
}

/** The shell's single error shape; `message` is Chinese and meant for the user. */
export interface ApiError {
  kind: string
  message: string
}

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

export function codeLists(): Promise<CodeList[]> {
  return invoke<CodeList[]>('code_lists')
}

export function villageGroups(): Promise<string[]> {
  return invoke<string[]>('village_groups')
}

// ---- The household page ----------------------------------------------------------------------

/** A field's value kind in the core's catalog. */
export type FieldKind = 'text' | 'int' | 'real' | 'bool' | 'date' | 'ref'

export interface FieldSpec {
  name: string
  label: string
  kind: FieldKind
  codes?: CodeList
  multi: boolean
}

export interface TableCatalog {
  table: string
  label: string
  fields: FieldSpec[]
}

export interface Catalog {
  tables: TableCatalog[]
  code_lists: CodeList[]
}

/**
 * A record as serde spells the core's entities: strings are '' when empty, optional numbers,
 * flags, dates ('YYYY-MM-DD') and references (UUID text) are null when empty.
 */
export type FieldValue = string | number | boolean | null
export interface RecordRow {
  id: string
  [field: string]: FieldValue
}

/** Mirrors bangfu_core::filing::HouseholdFile. */
export interface HouseholdFile {
  household: RecordRow
  members: RecordRow[]
  incomes: RecordRow[]
  pairings: RecordRow[]
  measures: RecordRow[]
  visits: RecordRow[]
}

export type Severity = 'error' | 'warning'

/** A finding of the page with the record it is about (row_id null: the household). */
export interface LocatedIssue {
  table: string
  row_id: string | null
  field: string
  severity: Severity
  rule: string
  message: string
}

export interface MemberFacts {
  row_id: string
  birth: string | null
  age: number | null
  sex: string | null
  sex_label: string | null
}

export interface IncomeSummary {
  total: number
  net: number
  per_capita: number | null
  transfer: number
  property: number
}

export interface IncomeFacts {
  row_id: string
  year: number | null
  family_size: number
  summary: IncomeSummary
  income_line: number | null
  above_line: boolean | null
}

export interface CheckResult {
  code: string
  label: string
  status: 'met' | 'not_met' | 'unknown'
  status_label: string
  reason: string
  data: { label: string; value: string }[]
}

export interface HouseholdEvaluation {
  year: number
  checks: CheckResult[]
  meets: boolean
  summary: string
  standard: { income_line: number; year: number }
}

export interface PageReview {
  issues: LocatedIssue[]
  members: MemberFacts[]
  incomes: IncomeFacts[]
  evaluation: HouseholdEvaluation | null
  evaluation_note: string | null
}

export interface FilingOutcome {
  ops: number
  warnings: { field: string; severity: Severity; rule: string; message: string }[]
}

export interface Village extends RecordRow {
  code: string
  name: string
  province: string
}

export interface Helper extends RecordRow {
  name: string
  unit: string
  phone: string
}

export function catalog(): Promise<Catalog> {
  return invoke<Catalog>('catalog')
}

export function householdFile(id: string): Promise<HouseholdFile> {
  return invoke<HouseholdFile>('household_file', { id })
}

export function reviewHousehold(file: HouseholdFile, year: number): Promise<PageReview> {
  return invoke<PageReview>('review_household', { file, year })
}

/** Mirrors bangfu_core::page_base::RowBase: one row's field heads as the page loaded them. */
export interface RowBase {
  id: string
  heads: Record<string, { origin: string; seq: number }[]>
}

/** Mirrors bangfu_core::page_base::PageBase: what a household page was loaded from. */
export interface PageBase {
  household: RowBase
  members: RowBase[]
  incomes: RowBase[]
  pairings: RowBase[]
  measures: RowBase[]
  visits: RowBase[]
}

/** Mirrors bangfu_core::page_base::LoadedPage. */
export interface LoadedPage {
  page: HouseholdFile
  base: PageBase | null
}

/** The household page with the base it was loaded from. */
export function householdPage(id: string): Promise<LoadedPage> {
  return invoke<LoadedPage>('household_page', { id })
}

/** Whether data arrived under an open page since its base was loaded. */
export function householdChangedSince(base: PageBase): Promise<boolean> {
  return invoke<boolean>('household_changed_since', { base })
}

/** Saves the page against its base (null: a new household, saved whole). */
export function fileHousehold(file: HouseholdFile, base: PageBase | null): Promise<FilingOutcome> {
  return invoke<FilingOutcome>('file_household', { file, base })
}

export function villages(): Promise<Village[]> {
  return invoke<Village[]>('villages')
}

export function helpers(): Promise<Helper[]> {
  return invoke<Helper[]>('helpers')
}

// ---- Drafts -------------------------------------------------------------------------------------

export interface Draft {
  key: string
  title: string
  content: string
  updated_ms: number
}

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

/** The data file's default work year (工作年度) and the years to choose from, from the core. */
export interface WorkYears {
  default_year: number
  current_year: number
  years: number[]
}

export function workYearChoices(): Promise<WorkYears> {
  return invoke<WorkYears>('work_year_choices')
}

export interface Overview {
  /** The work year it answers for. */
  year: number
  /** The day the days without a visit are counted to (YYYY-MM-DD). */
  as_of: string
  households: number
  people: number
  by_status: { status: string; label: string; households: number; people: number }[]
  villages: {
    code: string
    name: string
    rural_population: number | null
    poor_people: number
    incidence_percent: number | null
  }[]
  not_visited_days: number
  not_visited_total: number
  not_visited: HouseholdRow[]
}

export interface QualityItem {
  household_id: string
  household_code: string
  head_name: string
  severity: Severity
  rule: string
  message: string
}

export function villageOverview(year: number | null, days: number): Promise<Overview> {
  return invoke<Overview>('village_overview', { year, days })
}

export function dataQuality(): Promise<QualityItem[]> {
  return invoke<QualityItem[]>('data_quality_items')
}

// ---- Sync and review ------------------------------------------------------------------------------

export interface ExportResult {
  path: string
  summary: { ops: number; bytes: number; whole: boolean }
}

export interface ImportResult {
  message: string
  applied: number
}

export interface ReviewItem {
  kind: 'conflict' | 'edit_of_deleted' | 'clock_ahead'
  table: string
  row_id: string
  household_code: string
  field: string
  field_label: string
  values: { value: string; device: string; written_at: string; shown: boolean; clock_ahead: boolean }[]
}

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

/** Mirrors bangfu_core::exit::HouseholdEvaluation. */
export interface ExitEvaluation {
  household_id: string
  household_code: string
  head_name: string
  year: number
  standard: { year: number; province: string; income_line: number; notice_days: number }
  checks: CheckResult[]
  meets: boolean
  summary: string
}

export type ExitStepName = 'survey' | 'deliberation' | 'public_notice' | 'township_check' | 'county_approval'

export interface StepChoice {
  step: ExitStepName
  label: string
}

export type ExitPhase = 'not_started' | 'in_progress' | 'sent_back' | 'exited' | 'blocked'

/** Mirrors bangfu_core::exit::ProcedureState. */
export interface ProcedureState {
  household_id: string
  round: number
  phase: ExitPhase
  phase_label: string
  done: ExitStepName | null
  next: ExitStepName | null
  last_date: string | null
  sent_back: [ExitStepName, string] | null
  blocked: string | null
  irregular: { seq: number; message: string }[]
  records: number
}

/** One record of the trail (an ExitStep row with the labels of its codes). */
export interface TrailRecord {
  id: string
  seq: number | null
  round: number | null
  action: string
  step: string
  step_date: string | null
  people: string
  signatures: string
  household_signed: boolean | null
  food_secure: boolean | null
  clothing_secure: boolean | null
  vote_type: string
  vote_result: string
  work_team_present: boolean | null
  notice_start: string | null
  notice_end: string | null
  objections: string
  objection_handling: string
  reason: string
  notes: string
  action_label: string
  step_label: string
  vote_type_label: string
  result_label: string
  irregular: string | null
}

export interface ProcedureTrail {
  state: ProcedureState
  next: StepChoice | null
  may_send_back: StepChoice[]
  may_return: boolean
  notice_days: number | null
  records: TrailRecord[]
}

/** Mirrors bangfu_core::exit::procedure::StepRecord. */
export interface StepRecord {
  step: ExitStepName
  date: string
  people: string
  signatures: string
  notes: string
  household_signed: boolean | null
  food_secure: boolean | null
  clothing_secure: boolean | null
  vote_type: string
  result: string
  work_team_present: boolean | null
  notice_start: string | null
  notice_end: string | null
  objections: string
  objection_handling: string
}

/** Mirrors bangfu_core::exit::ExitAction. */
export type ExitAction =
  | ({ action: 'record' } & StepRecord)
  | { action: 'send_back'; step: ExitStepName; date: string; people: string; reason: string }
  | { action: 'return_to_poverty'; date: string; people: string; reason: string }

export interface HouseholdRef {
  household_id: string
  household_code: string
  head_name: string
}

/** Mirrors bangfu_core::exit::VillageProgress. */
export interface VillageProgress {
  year: number
  households: {
    year: number
    households: number
    by_step: { label: string; households: number; list: HouseholdRef[] }[]
    stuck: (HouseholdRef & { at: string; last_date: string | null; reason: string })[]
    ready_not_started: HouseholdRef[]
    irregular: number
  }
  village: {
    village_id: string
    code: string
    name: string
    year: number
    rural_population: number | null
    poor_people: number
    incidence_percent: number | null
    checks: CheckResult[]
    meets: boolean
  } | null
  village_note: string | null
}

/** A printed form of the procedure. */
export type ExitDocument =
  | { kind: 'sheet'; household_id: string; year: number }
  | { kind: 'notice'; village_code: string; year: number }

export function exitEvaluation(householdId: string, year: number): Promise<ExitEvaluation> {
  return invoke<ExitEvaluation>('exit_evaluation', { householdId, year })
}

export function exitTrail(householdId: string): Promise<ProcedureTrail> {
  return invoke<ProcedureTrail>('exit_trail', { householdId })
}

export function exitAct(householdId: string, action: ExitAction): Promise<ProcedureState> {
  return invoke<ProcedureState>('exit_act', { householdId, action })
}

export function exitProgress(villageId: string | null, year: number | null): Promise<VillageProgress> {
  return invoke<VillageProgress>('exit_progress', { villageId, year })
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

/** Mirrors bangfu_core::cards::CardConfig. */
export interface CardConfig {
  county_name: string
  hotline: string
}

export type CardLayout = 'a5' | 'a4x2'

/** Mirrors bangfu_core::cards::HelpCard: everything one card shows, in its printed words. */
export interface HelpCard {
  household_id: string
  household_code: string
  head_name: string
  address: string
  place: string
  family_size: number
  attribute: string
  causes: string[]
  cadre: { name: string; unit: string; title: string; phone: string } | null
  year: number | null
  measures: { path: string; description: string; amount: string; status: string }[]
  targets: string[]
  development_intent: string
  hotline: string
  printed_on: string
  qr_text: string
  /** The QR symbol's rows, '1' dark, '0' light. */
  qr_rows: string[]
}

/** Mirrors bangfu_core::cards::CardRequest. */
export interface CardRequest {
  village: string | null
  household: string | null
  household_ids: string[]
  layout: CardLayout
  config: CardConfig
  year: number | null
}

export type Destination = { kind: 'file'; path: string } | { kind: 'printer'; printer: string | null }

/** Where a PDF went (bangfu_core::print::Delivery) and what to tell the user. */
export interface Delivered {
  route: 'saved' | 'printed' | 'no_print_system'
  path: string
  printer?: string | null
  job?: string
  reason?: string
  message: string
  cards: number
}

export interface Printers {
  available: boolean
  names: string[]
  default: string | null
}

export interface CardsProgress {
  job: string
  done: number
  total: number
}

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

/** The seven ledgers, by the key the core takes (bangfu_core::ledger::LedgerKind). */
export type LedgerKind = 'households' | 'members' | 'incomes' | 'pairings' | 'measures' | 'visits' | 'suspects'

/** Which households a ledger or report covers (bangfu_core::ledger::Scope). */
export type Scope = { by: 'all' } | { by: 'village'; value: string } | { by: 'township'; value: string }

export interface LedgerExport {
  kind: LedgerKind
  title: string
  rows: number
  path: string
}

export type RollRowStatus = 'ready' | 'error' | 'blocked' | 'existing'

export interface RollIssue {
  column: string
  severity: Severity
  rule: string
  message: string
}

export interface RollRow {
  row: number
  household_code: string
  name: string
  id_number: string
  status: RollRowStatus
  issues: RollIssue[]
}

export interface ImportPreview {
  file: string
  sheet: string
  header_row: number
  columns: { column: string; header: string; field: string | null }[]
  rows: RollRow[]
  summary: {
    rows: number
    households: number
    households_ready: number
    households_with_errors: number
    households_existing: number
    members_ready: number
    errors: number
    warnings: number
    new_villages: string[]
  }
}

export interface ImportOutcome {
  villages_created: number
  households: number
  members: number
  ops: number
  /** [household code, message] of each 疑点 the store noted while filing. */
  warnings: [string, string][]
}

export interface StatsReport {
  year: number
  by_status: { status: string; households: number; people: number }[]
  /** Villages, then one line per township (village_code ''). */
  incidence: {
    township: string
    village_code: string
    village_name: string
    rural_population: number
    poor_people: number
    incidence_pct: number | null
  }[]
  by_path: { path: string; measures: number; households: number; amount: number }[]
  visits: {
    township: string
    village_code: string
    village_name: string
    households: number
    visited_ever: number
    visited_in_year: number
    visits_in_year: number
    coverage_pct: number | null
  }[]
}

export interface Readiness {
  year: number
  years: number[]
  households: number
  meeting: number
  by_check: { code: string; label: string; met: number; not_met: number; unknown: number }[]
  rows: {
    household_id: string
    household_code: string
    head_name: string
    village_name: string
    poverty_status: string
    meets: boolean
    shortfalls: { label: string; status_label: string; reason: string }[]
  }[]
}

export interface ReportSummary {
  unit: string
  path: string
  sheets: number
}

/** `year`: incomes, measures and visits of that work year only (the other ledgers ignore it). */
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

/** Mirrors src-tauri's HubView: the data file's side of the hub link and the background sync's. */
export interface HubView {
  device_name: string
  device_unnamed: boolean
  hub: {
    enrolled: boolean
    hub_url: string | null
    scope: string | null
    last_sync_ms: number | null
    ops_waiting: number
  }
  link: {
    online: boolean | null
    syncing: boolean
    error: string | null
    error_kind: string | null
    last_report: { pushed: number; pulled: number; applied: number } | null
    failures: number
  }
  review_items: number
}

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

/** One backup of the open data file (newest first in the list). */
export interface BackupInfo {
  path: string
  /** `YYYY-MM-DD HH:MM`, Beijing time. */
  taken_at: string
  /** 每日备份 / 导入前备份 / 手动备份 / 其他 */
  kind_zh: string
  bytes: number
}

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

// ---- Files and U 盘 (issue #22): the sticks mounted now, the last folder per kind of file,
// showing a saved file in its folder. ----

/** A removable drive mounted now. */
export interface RemovableDrive {
  /** The folder files go to: `/media/li/KINGSTON`, `E:\`. */
  path: string
  label: string | null
  /** `U 盘 KINGSTON (/media/li/KINGSTON)` */
  title: string
}

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
