// The household list's filter, paging and sort state, and how it becomes a HouseholdQuery.
// Pure functions only, so the rules of what gets sent to the core are tested without a window.
import type { HouseholdQuery } from '../api'

/** What the user chose in the filter bar; `null` means "all". */
export interface HouseholdFilter {
  text: string
  groupName: string | null
  povertyStatus: string | null
  attribute: string | null
  mainCause: string | null
}

export interface Paging {
  /** 1-based, as el-pagination counts. */
  page: number
  pageSize: number
}

export type SortOrder = 'ascending' | 'descending'

/** The column the table is sorted by, named by its row property. */
export interface SortState {
  prop: string
  order: SortOrder
}

export const PAGE_SIZES = [50, 100, 200] as const

/** Longest search text sent; a resident ID has 18 characters, names are shorter. */
export const MAX_SEARCH_LENGTH = 40

/**
 * Row properties the table may sort by, and the sort key the core knows them by. A column missing
 * here is not sortable, so the UI never asks the core for an order it does not offer.
 */
export const SORT_KEYS: Readonly<Record<string, string>> = {
  code: 'code',
  head_name: 'head_name',
  group_name: 'group_name',
  members: 'members',
  attribute: 'attribute',
  poverty_status: 'poverty_status',
  main_cause: 'main_cause',
  last_visit: 'last_visit',
}

export function emptyFilter(): HouseholdFilter {
  return { text: '', groupName: null, povertyStatus: null, attribute: null, mainCause: null }
}

/**
 * Search text as the core should see it: Chinese input methods type full-width spaces, and
 * pasted ID numbers carry stray whitespace, so all whitespace runs collapse to one space.
 */
export function normalizeSearchText(text: string): string {
  return text.replace(/[\s\u3000]+/g, ' ').trim().slice(0, MAX_SEARCH_LENGTH)
}

/** An empty select (`''` from el-select's clear button, or `undefined`) means no filter. */
function choice(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value
}

export function isFilterActive(filter: HouseholdFilter): boolean {
  return (
    normalizeSearchText(filter.text) !== '' ||
    choice(filter.groupName) !== null ||
    choice(filter.povertyStatus) !== null ||
    choice(filter.attribute) !== null ||
    choice(filter.mainCause) !== null
  )
}

export function buildHouseholdQuery(
  filter: HouseholdFilter,
  paging: Paging,
  sort: SortState | null,
): HouseholdQuery {
  const pageSize = Math.max(1, Math.floor(paging.pageSize))
  const page = Math.max(1, Math.floor(paging.page))
  const sortKey = sort === null ? undefined : SORT_KEYS[sort.prop]
  return {
    text: normalizeSearchText(filter.text),
    village_code: null,
    group_name: choice(filter.groupName),
    poverty_status: choice(filter.povertyStatus),
    attribute: choice(filter.attribute),
    main_cause: choice(filter.mainCause),
    not_visited_days: null,
    sort: sortKey ?? null,
    descending: sortKey !== undefined && sort?.order === 'descending',
    offset: (page - 1) * pageSize,
    limit: pageSize,
  }
}

/** The last page that still has rows, for when a narrower filter shrinks the total. */
export function lastPage(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, pageSize)))
}

/**
 * The household count as the toolbar shows it. A broad search (a surname, two initials) stops
 * counting at the core's cap, so its total is a lower bound: "1000+".
 */
export function countLabel(total: number, capped: boolean): string {
  return capped ? `${total}+` : String(total)
}

/** How the 最近走访 column shows a household never visited. */
export function lastVisitLabel(lastVisit: string | null): string {
  return lastVisit === null || lastVisit === '' ? '从未走访' : lastVisit
}
