import { describe, expect, it } from 'vitest'
import type { ImportPreview, RollRow } from '../api'
import { previewSentence, rowsToShow, unmatchedColumns } from './preview'

function row(n: number, status: RollRow['status'], issues: RollRow['issues'] = []): RollRow {
  return { row: n, household_code: `H${n}`, name: `人${n}`, id_number: '', status, issues }
}

const warning = { column: '致贫原因', severity: 'warning' as const, rule: 'r', message: '未知的致贫原因' }
const error = { column: '证件号码', severity: 'error' as const, rule: 'r', message: '校验码不对' }

const PREVIEW: ImportPreview = {
  file: '/tmp/roll.xlsx',
  sheet: 'Sheet1',
  header_row: 3,
  columns: [
    { column: 'A', header: '序号', field: null },
    { column: 'B', header: '户编号', field: '户编号' },
    { column: 'C', header: '  ', field: null },
    { column: 'D', header: '备注栏', field: null },
  ],
  rows: [row(4, 'ready'), row(5, 'ready', [warning]), row(6, 'error', [error]), row(7, 'blocked'), row(8, 'existing')],
  summary: {
    rows: 5,
    households: 4,
    households_ready: 1,
    households_with_errors: 1,
    households_existing: 1,
    members_ready: 2,
    errors: 1,
    warnings: 1,
    new_villages: ['530826103299'],
  },
}

describe('rowsToShow', () => {
  const numbers = (filter: Parameters<typeof rowsToShow>[1]) => rowsToShow(PREVIEW, filter).map((r) => r.row)
  it('problems: any issue, or not imported', () => expect(numbers('problems')).toEqual([5, 6, 7, 8]))
  it('errors: the rows whose household is left out for an error', () => expect(numbers('errors')).toEqual([6, 7]))
  it('all rows', () => expect(numbers('all')).toEqual([4, 5, 6, 7, 8]))
})

describe('previewSentence', () => {
  it('says what an import would do, and which villages it adds', () => {
    expect(previewSentence(PREVIEW)).toBe(
      '共 5 行 4 户：可导入 1 户 2 人；有错误不导入 1 户；已在数据文件中 1 户；错误 1 处，提醒 1 处。将新建村：530826103299。',
    )
  })

  it('leaves out what is zero', () => {
    const clean = {
      ...PREVIEW,
      summary: { ...PREVIEW.summary, households_with_errors: 0, households_existing: 0, new_villages: [] },
    }
    expect(previewSentence(clean)).toBe('共 5 行 4 户：可导入 1 户 2 人；错误 1 处，提醒 1 处。')
  })
})

describe('unmatchedColumns', () => {
  it('lists headers nothing reads, skipping blank ones', () => {
    expect(unmatchedColumns(PREVIEW)).toEqual(['序号', '备注栏'])
  })
})
