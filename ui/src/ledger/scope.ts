// Choosing what a ledger or report covers (the whole file, a township, a village) and naming the
// files written for it: pure functions, so the pages stay thin and the rules are tested.
import type { Scope, Village } from '../api'

export interface ScopeChoice {
  /** 'all', 't:<township name>' or 'v:<village code>': a select's value. */
  key: string
  label: string
  /** The unit as a file name says it. */
  unit: string
  scope: Scope
}

function township(v: Village): string {
  return typeof v.township === 'string' ? v.township.trim() : ''
}

export const ALL_CHOICE: ScopeChoice = { key: 'all', label: '全部村', unit: '全部', scope: { by: 'all' } }

/** 全部, then each township with its villages after it, in code order. */
export function scopeChoices(villages: Village[]): ScopeChoice[] {
  const choices: ScopeChoice[] = [ALL_CHOICE]
  const sorted = [...villages].sort((a, b) => a.code.localeCompare(b.code))
  const townships: string[] = []
  for (const v of sorted) {
    const t = township(v)
    if (t && !townships.includes(t)) townships.push(t)
  }
  for (const t of townships) {
    choices.push({ key: `t:${t}`, label: `${t}（全乡镇）`, unit: t, scope: { by: 'township', value: t } })
    for (const v of sorted.filter((v) => township(v) === t)) {
      choices.push({ key: `v:${v.code}`, label: `　${v.name}（${v.code}）`, unit: v.name, scope: { by: 'village', value: v.code } })
    }
  }
  for (const v of sorted.filter((v) => !township(v))) {
    choices.push({ key: `v:${v.code}`, label: `${v.name}（${v.code}）`, unit: v.name, scope: { by: 'village', value: v.code } })
  }
  return choices
}

/** The choice of a select's value; the whole file when the value is gone (a village deleted). */
export function choiceOf(choices: ScopeChoice[], key: string): ScopeChoice {
  return choices.find((c) => c.key === key) ?? ALL_CHOICE
}

/** 20250615 of a date, as file names carry it. */
export function compactDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`
}

/** Characters Windows refuses in a file name become '_'. */
function safeName(text: string): string {
  return text.replace(/[\\/:*?"<>|]/g, '_')
}

/** e.g. 新建村贫困户台帐-20250615.xlsx */
export function defaultFileName(unit: string, title: string, date: Date): string {
  return safeName(`${unit}${title}-${compactDate(date)}.xlsx`)
}

/**
 * Where to write: the typed folder joined with the default name, or the typed path itself when
 * it already names an .xlsx file. Null when nothing usable was typed.
 */
export function targetPath(typed: string, fileName: string): string | null {
  const folder = typed.trim()
  if (!folder) return null
  if (/\.xlsx$/i.test(folder)) return folder
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/'
  const trimmed = folder.replace(/[\\/]+$/, '')
  return `${trimmed || separator}${trimmed ? separator : ''}${fileName}`
}
