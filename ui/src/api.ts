// Typed wrappers over the desktop shell's Tauri commands; the only place the UI calls invoke.
import { invoke } from '@tauri-apps/api/core'

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

export function fileHousehold(file: HouseholdFile): Promise<FilingOutcome> {
  return invoke<FilingOutcome>('file_household', { file })
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

export interface Overview {
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

export function villageOverview(days: number): Promise<Overview> {
  return invoke<Overview>('village_overview', { days })
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
  kind: 'conflict' | 'edit_of_deleted'
  table: string
  row_id: string
  household_code: string
  field: string
  field_label: string
  values: { value: string; device: string; written_at: string; shown: boolean }[]
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
