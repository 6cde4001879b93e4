// The household page's state as pure functions: new rows, the member table's row operations,
// which findings belong to which field, and drafts. No rule here decides what is valid: the
// core does, through review_household; these only shape what the page holds and shows.
import type {
  Catalog,
  FieldSpec,
  FieldValue,
  HouseholdFile,
  LocatedIssue,
  PageBase,
  PageReview,
  RecordRow,
} from '../api'

export type ChildTable = 'members' | 'incomes' | 'pairings' | 'measures' | 'visits'

/** The catalog's table name of each list of the page. */
export const CHILD_TABLE: Record<ChildTable, string> = {
  members: 'member',
  incomes: 'income',
  pairings: 'pairing',
  measures: 'measure',
  visits: 'visit',
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so rows created on this
 * laptop sort by creation time like the core's own ids.
 */
export function uuidv7(now: number = Date.now(), random: Uint8Array = randomBytes(10)): string {
  const bytes = new Uint8Array(16)
  let ms = Math.max(0, Math.floor(now))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes.set(random.subarray(0, 10), 6)
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f)
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n)
  crypto.getRandomValues(bytes)
  return bytes
}

export function fieldsOf(catalog: Catalog, table: string): FieldSpec[] {
  return catalog.tables.find((t) => t.table === table)?.fields ?? []
}

/** The empty value of a field as serde expects it: '' for text, null for everything else. */
export function emptyValue(field: FieldSpec): FieldValue {
  return field.kind === 'text' ? '' : null
}

/** A new record of `table` with every field empty, belonging to `householdId` if it has one. */
export function blankRecord(
  catalog: Catalog,
  table: string,
  householdId: string | null,
  id: string = uuidv7(),
): RecordRow {
  const row: RecordRow = { id }
  for (const field of fieldsOf(catalog, table)) row[field.name] = emptyValue(field)
  if ('household_id' in row) row.household_id = householdId
  return row
}

export function newHouseholdFile(catalog: Catalog, villageId: string | null): HouseholdFile {
  const household = blankRecord(catalog, 'household', null)
  household.village_id = villageId
  return { household, members: [], incomes: [], pairings: [], measures: [], visits: [] }
}

/** Adds a member after the others; the first member of a household is its 户主. */
export function addMember(file: HouseholdFile, catalog: Catalog, id?: string): RecordRow {
  const member = blankRecord(catalog, 'member', file.household.id, id)
  if (file.members.length === 0) member.relation = catalog.relation_head
  file.members.push(member)
  return member
}

/** Adds a record to one of the page's lists. */
export function addRow(file: HouseholdFile, catalog: Catalog, list: ChildTable, id?: string): RecordRow {
  if (list === 'members') return addMember(file, catalog, id)
  const row = blankRecord(catalog, CHILD_TABLE[list], file.household.id, id)
  file[list].push(row)
  return row
}

export function removeRow(file: HouseholdFile, list: ChildTable, id: string) {
  file[list] = file[list].filter((row) => row.id !== id)
}

/**
 * Makes one member the 户主. The former 户主's relation is cleared rather than guessed: only the
 * family knows whether he is now 之父 or 配偶.
 */
export function setHead(file: HouseholdFile, catalog: Catalog, memberId: string) {
  const head = catalog.relation_head
  for (const member of file.members) {
    if (member.id === memberId) member.relation = head
    else if (member.relation === head) member.relation = ''
  }
}

/** A member who left the household (减员): the row stays, with its reason and date. */
export function hasLeft(member: RecordRow): boolean {
  return Boolean(member.leave_date || member.leave_reason)
}

/**
 * Records a 减员 on the page (saved with it): the member keeps the row, relation included; when
 * the 户主 leaves, `newHeadId` names the current member who becomes 户主.
 */
export function recordLeave(
  file: HouseholdFile,
  catalog: Catalog,
  memberId: string,
  reason: string,
  date: string,
  newHeadId?: string,
) {
  const member = file.members.find((m) => m.id === memberId)
  if (!member) return
  member.leave_reason = reason
  member.leave_date = date
  const successor = file.members.find((m) => m.id === newHeadId && !hasLeft(m))
  if (successor && successor.id !== memberId) successor.relation = catalog.relation_head
}

/** Takes back a 减员 typed by mistake. */
export function undoLeave(member: RecordRow) {
  member.leave_reason = ''
  member.leave_date = null
}

/** The 户主 of the page: the member whose relation is the catalog's 户主 code. */
export function headOf(file: HouseholdFile, catalog: Catalog): RecordRow | undefined {
  return file.members.find((m) => m.relation === catalog.relation_head)
}

/** Findings about one field of one record (`rowId` null: the household's own fields). */
export function issuesFor(
  review: PageReview | null,
  table: string,
  rowId: string | null,
  field?: string,
): LocatedIssue[] {
  if (!review) return []
  return review.issues.filter(
    (i) => i.table === table && i.row_id === rowId && (field === undefined || i.field === field),
  )
}

/** Findings about the household's fields that no input shows (e.g. 户主 missing). */
export function generalIssues(review: PageReview | null, shownFields: Set<string>): LocatedIssue[] {
  if (!review) return []
  return review.issues.filter(
    (i) => i.table === 'household' && i.row_id === null && !shownFields.has(i.field),
  )
}

export function errorsOf(review: PageReview | null): LocatedIssue[] {
  return review?.issues.filter((i) => i.severity === 'error') ?? []
}

/** The year the page evaluates by default: the latest income year, else this year. */
export function defaultYear(file: HouseholdFile, today: Date = new Date()): number {
  const years = file.incomes.map((i) => i.year).filter((y): y is number => typeof y === 'number')
  return years.length > 0 ? Math.max(...years) : today.getFullYear()
}

/** What the user typed into a number field: null when empty, undefined when not a number yet. */
export function parseNumber(text: string, integer: boolean): number | null | undefined {
  const trimmed = text.trim().replace(/，/g, '.').replace(/,/g, '')
  if (trimmed === '') return null
  if (!/^-?\d*(\.\d*)?$/.test(trimmed) || trimmed === '-' || trimmed === '.') return undefined
  const value = Number(trimmed)
  if (!Number.isFinite(value)) return undefined
  if (integer && !Number.isInteger(value)) return undefined
  return value
}

/** A multi-code field is stored as codes joined by commas. */
export function splitCodes(value: FieldValue): string[] {
  return typeof value === 'string' && value !== '' ? value.split(',') : []
}

export function joinCodes(codes: string[]): string {
  return codes.filter((c) => c !== '').join(',')
}

// ---- Drafts ----------------------------------------------------------------------------------

const DRAFT_VERSION = 1

/** What a draft keeps: the page as typed, whether the household was ever saved, and the base
 *  the page was loaded from (null for a new household), so a restored draft is saved against
 *  what it was typed over and never reverts what arrived since. */
export interface PageDraft {
  file: HouseholdFile
  isNew: boolean
  base: PageBase | null
}

export function draftKey(householdId: string): string {
  return `household:${householdId}`
}

export function draftTitle(file: HouseholdFile, catalog: Catalog, isNew: boolean): string {
  const head = headOf(file, catalog)?.name
  const code = typeof file.household.code === 'string' ? file.household.code : ''
  const who = head ? `户主 ${head}` : code ? `户编号 ${code}` : '未填户主'
  return isNew ? `新建贫困户（${who}）` : `${who} 的贫困户信息`
}

export function serializeDraft(draft: PageDraft): string {
  return JSON.stringify({ version: DRAFT_VERSION, ...draft })
}

function isRecord(value: unknown): value is RecordRow {
  return typeof value === 'object' && value !== null && typeof (value as RecordRow).id === 'string'
}

/** The draft in `content`, or null when it is not one this page wrote. */
export function parseDraft(content: string): PageDraft | null {
  let value: unknown
  try {
    value = JSON.parse(content)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const draft = value as {
    version?: unknown
    isNew?: unknown
    file?: Partial<HouseholdFile>
    base?: unknown
  }
  const file = draft.file
  if (draft.version !== DRAFT_VERSION || !file || !isRecord(file.household)) return null
  const lists: ChildTable[] = ['members', 'incomes', 'pairings', 'measures', 'visits']
  if (!lists.every((list) => Array.isArray(file[list]) && file[list].every(isRecord))) return null
  const base = isBase(draft.base) ? draft.base : null
  return { file: file as HouseholdFile, isNew: draft.isNew === true, base }
}

function isBase(value: unknown): value is PageBase {
  if (typeof value !== 'object' || value === null) return false
  const base = value as Partial<PageBase>
  const lists: ChildTable[] = ['members', 'incomes', 'pairings', 'measures', 'visits']
  return isRecord(base.household) && lists.every((list) => Array.isArray(base[list]))
}

/** A deep copy of the page that shares nothing with it (works on Vue's reactive proxies too). */
export function cloneFile(file: HouseholdFile): HouseholdFile {
  return JSON.parse(JSON.stringify(file)) as HouseholdFile
}

/** Whether two states of the page differ in anything that would be saved. */
export function sameFile(a: HouseholdFile | null, b: HouseholdFile | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * Takes the value a finding offers for its field (a 15-digit ID's 18-digit form) into the row,
 * only when the person clicks it; the page is checked again like after any typing.
 */
export function applySuggestion(row: RecordRow, issue: LocatedIssue): boolean {
  if (issue.suggestion === undefined || !issue.field) return false
  // A finding of a value since retyped offers nothing: its message names the value it was about.
  const current = String(row[issue.field] ?? '')
  if (!current || current === issue.suggestion || !issue.message.includes(current)) return false
  row[issue.field] = issue.suggestion
  return true
}
