import { describe, expect, it } from 'vitest'
import type { AttachableRecord, AttachmentEntry } from '../api'
import { groupByRecord, saveName, sizeLabel } from './archive'

function entry(id: string, target: string | null, label: string, fileName = ''): AttachmentEntry {
  return {
    id,
    household_id: 'h',
    target_table: 'visit',
    target_id: target,
    target_label: label,
    kind: '签字表',
    caption: '',
    file_name: fileName,
    media_type: 'application/pdf',
    size: 1000,
    sha256: 'ab'.repeat(32),
    held: true,
  }
}

const records: AttachableRecord[] = [
  { target: 'exit_step', id: 's1', label: '入户调查 2025-05-02' },
  { target: 'visit', id: 'v1', label: '走访记录 2025-06-01' },
  { target: 'visit', id: 'v2', label: '走访记录 2025-07-01' },
]

describe('groupByRecord', () => {
  it('puts attachments under their records in the records order, gone records last', () => {
    const groups = groupByRecord(
      [entry('a', 'v2', '走访记录 2025-07-01'), entry('b', 's1', 'x'), entry('c', 'gone', '走访记录（已删除）'), entry('d', 'v2', 'y')],
      records,
    )
    expect(groups.map((g) => [g.label, g.entries.map((e) => e.id)])).toEqual([
      ['入户调查 2025-05-02', ['b']],
      ['走访记录 2025-07-01', ['a', 'd']],
      ['走访记录（已删除）', ['c']],
    ])
  })
})

describe('sizeLabel', () => {
  it.each([
    [830, '830 字节'],
    [1024, '1 KB'],
    [12_000, '12 KB'],
    [3_000_004, '2.9 MB'],
  ])('%d → %s', (bytes, text) => expect(sizeLabel(bytes)).toBe(text))
})

describe('saveName', () => {
  it('keeps the picked name, else names the kind and hash', () => {
    expect(saveName(entry('a', 'v1', '', '签字表.pdf'))).toBe('签字表.pdf')
    expect(saveName(entry('a', 'v1', ''))).toBe('签字表-abababab.pdf')
  })
})
