import { describe, expect, it } from 'vitest'
import type { HouseholdQuery } from '../api'
import {
  buildHouseholdQuery,
  countLabel,
  emptyFilter,
  isFilterActive,
  lastPage,
  type HouseholdFilter,
  type Paging,
  type SortState,
} from './listQuery'

const firstPage: Paging = { page: 1, pageSize: 50 }

const unfiltered: HouseholdQuery = {
  text: '',
  village_code: null,
  group_name: null,
  poverty_status: null,
  attribute: null,
  main_cause: null,
  not_visited_days: null,
  sort: null,
  descending: false,
  offset: 0,
  limit: 50,
}

interface Case {
  name: string
  filter: Partial<HouseholdFilter>
  paging?: Paging
  sort?: SortState | null
  expected: Partial<HouseholdQuery>
}

const cases: Case[] = [
  { name: 'nothing chosen sends an unfiltered first page', filter: {}, expected: {} },
  {
    name: 'search text loses full-width and repeated spaces',
    filter: { text: '\u3000 张  三\u3000' },
    expected: { text: '张 三' },
  },
  {
    name: 'pinyin initials pass through unchanged',
    filter: { text: 'zs' },
    expected: { text: 'zs' },
  },
  {
    name: 'an overlong paste is cut to the search limit',
    filter: { text: '4'.repeat(60) },
    expected: { text: '4'.repeat(40) },
  },
  {
    name: 'cleared selects mean no filter',
    filter: { groupName: '', povertyStatus: '', attribute: '', mainCause: '' },
    expected: {},
  },
  {
    name: 'every select becomes its query field',
    filter: { groupName: '三组', povertyStatus: '1', attribute: '2', mainCause: '01' },
    expected: { group_name: '三组', poverty_status: '1', attribute: '2', main_cause: '01' },
  },
  {
    name: 'third page of 100 starts at row 200',
    filter: {},
    paging: { page: 3, pageSize: 100 },
    expected: { offset: 200, limit: 100 },
  },
  {
    name: 'a page below 1 is read as the first page',
    filter: {},
    paging: { page: 0, pageSize: 50 },
    expected: { offset: 0 },
  },
  {
    name: 'descending sort on a sortable column',
    filter: {},
    sort: { prop: 'last_visit', order: 'descending' },
    expected: { sort: 'last_visit', descending: true },
  },
  {
    name: 'a column the core cannot sort by is sent unsorted',
    filter: {},
    sort: { prop: 'head_id_number', order: 'descending' },
    expected: { sort: null, descending: false },
  },
]

describe('buildHouseholdQuery', () => {
  it.each(cases)('$name', ({ filter, paging, sort, expected }) => {
    const query = buildHouseholdQuery(
      { ...emptyFilter(), ...filter },
      paging ?? firstPage,
      sort ?? null,
    )
    expect(query).toEqual({ ...unfiltered, ...expected })
  })
})

describe('isFilterActive', () => {
  it.each([
    [{}, false],
    [{ text: '   ' }, false],
    [{ text: 'wj' }, true],
    [{ groupName: '' }, false],
    [{ mainCause: '03' }, true],
  ] as [Partial<HouseholdFilter>, boolean][])('%o -> %s', (filter, active) => {
    expect(isFilterActive({ ...emptyFilter(), ...filter })).toBe(active)
  })
})

describe('lastPage', () => {
  it.each([
    [0, 50, 1],
    [300, 50, 6],
    [301, 50, 7],
    [12, 100, 1],
  ])('%i rows at %i a page end on page %i', (total, pageSize, page) => {
    expect(lastPage(total, pageSize)).toBe(page)
  })
})

describe('countLabel', () => {
  it.each([
    [0, false, '0'],
    [37, false, '37'],
    [1000, false, '1000'],
    [1000, true, '1000+'],
  ])('%i households, capped %s, read "%s"', (total, capped, label) => {
    expect(countLabel(total, capped)).toBe(label)
  })
})
