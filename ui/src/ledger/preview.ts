// How the import preview is shown: which rows, with what label, and what the import button says.
import type { ImportPreview, RollRow, RollRowStatus } from '../api'

export const STATUS_LABELS: Record<RollRowStatus, string> = {
  ready: '可导入',
  error: '有错误',
  blocked: '同户有错误',
  existing: '已在数据文件中',
}

export type RowFilter = 'problems' | 'errors' | 'all'

/** Rows with something to read: any issue, or not imported because of another row. */
export function rowsToShow(preview: ImportPreview, filter: RowFilter): RollRow[] {
  switch (filter) {
    case 'all':
      return preview.rows
    case 'errors':
      return preview.rows.filter((r) => r.status === 'error' || r.status === 'blocked')
    case 'problems':
      return preview.rows.filter((r) => r.issues.length > 0 || r.status !== 'ready')
  }
}

/** The sentence above the table: what will happen if the user goes on. */
export function previewSentence(preview: ImportPreview): string {
  const s = preview.summary
  const parts = [`共 ${s.rows} 行 ${s.households} 户：可导入 ${s.households_ready} 户 ${s.members_ready} 人`]
  if (s.households_with_errors > 0) parts.push(`有错误不导入 ${s.households_with_errors} 户`)
  if (s.households_existing > 0) parts.push(`已在数据文件中 ${s.households_existing} 户`)
  parts.push(`错误 ${s.errors} 处，提醒 ${s.warnings} 处`)
  let sentence = parts.join('；') + '。'
  if (s.new_villages.length > 0) sentence += `将新建村：${s.new_villages.join('、')}。`
  return sentence
}

/** Columns of the roll that nothing reads, so the user knows what is left behind. */
export function unmatchedColumns(preview: ImportPreview): string[] {
  return preview.columns.filter((c) => c.field === null && c.header.trim() !== '').map((c) => c.header)
}
