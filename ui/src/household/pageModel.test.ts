import { describe, expect, it } from 'vitest'
import type { Catalog, LocatedIssue, PageReview, RecordRow } from '../api'
import {
  addMember,
  applySuggestion,
  addRow,
  blankRecord,
  defaultYear,
  draftKey,
  draftTitle,
  errorsOf,
  generalIssues,
  hasLeft,
  issuesFor,
  joinCodes,
  newHouseholdFile,
  parseDraft,
  parseNumber,
  recordLeave,
  removeRow,
  sameFile,
  serializeDraft,
  setHead,
  splitCodes,
  undoLeave,
  uuidv7,
} from './pageModel'

const RELATION_HEAD = '01'
const catalog: Catalog = {
  code_lists: [],
  relation_head: RELATION_HEAD,
  tables: [
    {
      table: 'household',
      label: '贫困户',
      fields: [
        { name: 'village_id', label: '所属村', kind: 'ref', multi: false },
        { name: 'code', label: '户编号', kind: 'text', multi: false },
        { name: 'arable_area', label: '耕地面积(亩)', kind: 'real', multi: false },
      ],
    },
    {
      table: 'member',
      label: '家庭成员',
      fields: [
        { name: 'household_id', label: '所属户', kind: 'ref', multi: false },
        { name: 'name', label: '姓名', kind: 'text', multi: false },
        { name: 'relation', label: '与户主关系', kind: 'text', multi: false },
        { name: 'medical_insurance', label: '参加城乡居民基本医疗保险', kind: 'bool', multi: false },
      ],
    },
    {
      table: 'income',
      label: '收入',
      fields: [
        { name: 'household_id', label: '所属户', kind: 'ref', multi: false },
        { name: 'year', label: '年度', kind: 'int', multi: false },
      ],
    },
  ],
}

describe('uuidv7', () => {
  it('puts the milliseconds first and marks version and variant', () => {
    const id = uuidv7(0x0190_1234_5678, new Uint8Array(10).fill(0xff))
    expect(id).toBe('01901234-5678-7fff-bfff-ffffffffffff')
  })

  it('sorts by creation time', () => {
    expect(uuidv7(1000) < uuidv7(2000)).toBe(true)
  })
})

describe('new records', () => {
  it('fill every field with the empty value serde expects', () => {
    expect(blankRecord(catalog, 'member', 'H', 'M')).toEqual({
      id: 'M',
      household_id: 'H',
      name: '',
      relation: '',
      medical_insurance: null,
    })
  })

  it('make the first member the head and later ones not', () => {
    const file = newHouseholdFile(catalog, 'V')
    expect(file.household.village_id).toBe('V')
    const head = addMember(file, catalog, 'a')
    const second = addMember(file, catalog, 'b')
    expect(head.relation).toBe(RELATION_HEAD)
    expect(second.relation).toBe('')
    expect(second.household_id).toBe(file.household.id)
  })
})

describe('member table rows', () => {
  it('moves the head and clears the former head rather than guessing', () => {
    const file = newHouseholdFile(catalog, null)
    addMember(file, catalog, 'a')
    addMember(file, catalog, 'b').relation = '03'
    addMember(file, catalog, 'c')
    setHead(file, catalog, 'c')
    expect(file.members.map((m) => m.relation)).toEqual(['', '03', RELATION_HEAD])
  })

  it('removes only the chosen row', () => {
    const file = newHouseholdFile(catalog, null)
    addMember(file, catalog, 'a')
    addMember(file, catalog, 'b')
    addRow(file, catalog, 'incomes', 'i')
    removeRow(file, 'members', 'a')
    expect(file.members.map((m) => m.id)).toEqual(['b'])
    expect(file.incomes).toHaveLength(1)
  })
})

describe('findings on the page', () => {
  const review: PageReview = {
    members: [],
    incomes: [],
    evaluation: null,
    evaluation_note: null,
    issues: [
      { table: 'member', row_id: 'b', field: 'id_number', severity: 'error', rule: 'resident_id.checksum', message: '校验位错误' },
      { table: 'household', row_id: null, field: 'relation', severity: 'error', rule: 'household.head_missing', message: '没有户主' },
      { table: 'household', row_id: null, field: 'road_distance_km', severity: 'warning', rule: 'x', message: '疑点' },
    ],
  }

  it('go to the record and field they are about', () => {
    expect(issuesFor(review, 'member', 'b', 'id_number').map((i) => i.rule)).toEqual(['resident_id.checksum'])
    expect(issuesFor(review, 'member', 'a')).toEqual([])
    expect(issuesFor(null, 'member', 'b')).toEqual([])
  })

  it('without an input of their own are shown at the top', () => {
    const general = generalIssues(review, new Set(['road_distance_km']))
    expect(general.map((i) => i.rule)).toEqual(['household.head_missing'])
  })

  it('count errors only as what blocks a save', () => {
    expect(errorsOf(review)).toHaveLength(2)
  })
})

describe('typed values', () => {
  it.each([
    ['', false, null],
    [' 3.5 ', false, 3.5],
    ['3.', false, 3],
    ['1,200', false, 1200],
    ['abc', false, undefined],
    ['-', false, undefined],
    ['2.5', true, undefined],
    ['2016', true, 2016],
  ])('%j (integer %s) is %j', (text, integer, expected) => {
    expect(parseNumber(text, integer)).toBe(expected)
  })

  it('keep multi-code fields as codes joined by commas', () => {
    expect(splitCodes('')).toEqual([])
    expect(splitCodes('2,4')).toEqual(['2', '4'])
    expect(joinCodes(['2', '', '4'])).toBe('2,4')
  })

  it('evaluate the latest income year by default', () => {
    const file = newHouseholdFile(catalog, null)
    expect(defaultYear(file, new Date(2019, 5, 1))).toBe(2019)
    addRow(file, catalog, 'incomes').year = 2016
    addRow(file, catalog, 'incomes').year = 2017
    expect(defaultYear(file)).toBe(2017)
  })
})

describe('drafts', () => {
  it('round-trip the page and whether it was ever saved', () => {
    const file = newHouseholdFile(catalog, 'V')
    addMember(file, catalog).name = '王大山'
    const restored = parseDraft(serializeDraft({ file, isNew: true, base: null }))
    expect(restored?.isNew).toBe(true)
    expect(restored?.base).toBeNull()
    expect(sameFile(restored?.file ?? null, file)).toBe(true)
  })

  it('keep the base the page was loaded from, so a restored draft saves against it', () => {
    const file = newHouseholdFile(catalog, 'V')
    const row = (id: string) => ({ id, heads: { phone: [{ origin: 'device-b', seq: 7 }] } })
    const base = { household: row(file.household.id), members: [row('m1')], incomes: [], pairings: [],
      measures: [], visits: [] }
    const restored = parseDraft(serializeDraft({ file, isNew: false, base }))
    expect(restored?.base).toEqual(base)
    // A draft written before pages carried a base is restored as a fresh page.
    const old = JSON.parse(serializeDraft({ file, isNew: false, base })) as Record<string, unknown>
    delete old.base
    expect(parseDraft(JSON.stringify(old))?.base).toBeNull()
  })

  it.each(['', 'not json', '{}', '{"version":1}', '{"version":2,"file":{"household":{"id":"x"}}}',
    '{"version":1,"file":{"household":{"id":"x"},"members":[{}],"incomes":[],"pairings":[],"measures":[],"visits":[]}}'])(
    'refuse content they did not write: %j',
    (content) => {
      expect(parseDraft(content)).toBeNull()
    },
  )

  it('are keyed by household and titled by its head', () => {
    const file = newHouseholdFile(catalog, null)
    expect(draftKey(file.household.id)).toBe(`household:${file.household.id}`)
    expect(draftTitle(file, catalog, true)).toBe('新建贫困户（未填户主）')
    addMember(file, catalog).name = '李秀英'
    expect(draftTitle(file, catalog, false)).toBe('户主 李秀英 的贫困户信息')
  })
})

describe('减员 on the page', () => {
  it('keeps the row with reason and date, and hands 户主 over', () => {
    const file = newHouseholdFile(catalog, null)
    const head = addMember(file, catalog)
    const wife = addMember(file, catalog)
    wife.relation = '02'
    recordLeave(file, catalog, head.id, '1', '2019-03-01', wife.id)
    expect(file.members).toHaveLength(2)
    expect([head.leave_reason, head.leave_date, head.relation]).toEqual(['1', '2019-03-01', RELATION_HEAD])
    expect(wife.relation).toBe(RELATION_HEAD)
    expect(file.members.filter((m) => !hasLeft(m))).toEqual([wife])
    undoLeave(head)
    expect(hasLeft(head)).toBe(false)
  })

  it('never makes a member who left the new 户主', () => {
    const file = newHouseholdFile(catalog, null)
    const head = addMember(file, catalog)
    const son = addMember(file, catalog)
    son.relation = '03'
    recordLeave(file, catalog, son.id, '2', '2018-05-01')
    recordLeave(file, catalog, head.id, '1', '2019-03-01', son.id)
    expect(son.relation).toBe('03')
  })
})

describe('a finding that offers the right value', () => {
  const issue = (suggestion?: string): LocatedIssue => ({
    table: 'member',
    row_id: 'm1',
    field: 'id_number',
    severity: 'error',
    rule: 'resident_id.old_form',
    message: '证件号码 530826900101123 是15位的旧证件号码，应换为18位：530826199001011230',
    suggestion,
  })

  it('takes the 18-digit form of an old ID into the row when clicked', () => {
    const row: RecordRow = { id: 'm1', id_number: '530826900101123' }
    expect(applySuggestion(row, issue('530826199001011230'))).toBe(true)
    expect(row.id_number).toBe('530826199001011230')
  })

  it('offers nothing once the number was retyped since the page was checked', () => {
    const row: RecordRow = { id: 'm1', id_number: '530826199001011230' }
    expect(applySuggestion(row, issue('530826199001011230'))).toBe(false)
    row.id_number = '530826900101124'
    expect(applySuggestion(row, issue('530826199001011230'))).toBe(false)
    expect(row.id_number).toBe('530826900101124')
  })

  it('changes nothing for a finding without an offer', () => {
    const row: RecordRow = { id: 'm1', id_number: '53082619900101123' }
    expect(applySuggestion(row, issue())).toBe(false)
    expect(row.id_number).toBe('53082619900101123')
  })
})
