// The 脱贫标准 page's 首次建档年度: the county's first year of 建档立卡 (a 建档日期 before it is
// asked about on every laptop), its form and checks before saving, as the core checks them.
import type { FirstFilingYear } from '../api'

/** The earliest year the core accepts: the national poverty programme of 1986. */
const EARLIEST = 1986

export type FirstFilingYearForm = {
  year: number | null
  source: string
}

/** The form over the year in force; a shipped source is not the county's, so it starts empty. */
export function firstFilingYearForm(current: FirstFilingYear): FirstFilingYearForm {
  return { year: current.year, source: current.edited ? current.source : '' }
}

/** What is missing or wrong, in the words of the page; null when the form can be saved. */
export function firstFilingYearProblem(f: FirstFilingYearForm, thisYear: number): string | null {
  if (f.year === null || !Number.isInteger(f.year) || f.year < EARLIEST || f.year > thisYear) {
    return `首次建档年度应在 ${EARLIEST}—${thisYear} 年之间。`
  }
  if (f.source.trim() === '') return '请填写依据（县里的文件名称或文号），全县各台电脑都会看到。'
  return null
}

/** The line the page shows for the year in force. */
export function firstFilingYearText(current: FirstFilingYear): string {
  // The table's 来源 words, without a second pair of brackets inside the first.
  const origin = current.edited ? '县里设定，已同步' : '程序自带'
  return `${current.year} 年（${origin}）：建档日期早于 ${current.year} 年的户在核对中提示“请核对”，不拒绝保存。`
}
