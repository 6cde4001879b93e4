// The work year (工作年度) chosen in the header: every page that shows a year's figures reads
// it here and follows it. Which year a file opens with is the core's answer (work_year_choices);
// this module only keeps the choice and says it in words.
import { reactive } from 'vue'
import { workYearChoices, type WorkYears } from './api'

export interface WorkYearState {
  /** Null until the core has answered. */
  year: number | null
  currentYear: number | null
  years: number[]
}

export const workYear = reactive<WorkYearState>({ year: null, currentYear: null, years: [] })

/** The header's choice after the core's answer: the year chosen before if the file still offers
 *  it (a reload keeps the user's choice), else the file's default. */
export function initialYear(choices: WorkYears, chosenBefore: number | null): number {
  return chosenBefore !== null && choices.years.includes(chosenBefore) ? chosenBefore : choices.default_year
}

/** The header's options, latest year first, the current year marked. */
export function yearOptions(years: number[], currentYear: number | null): { value: number; label: string }[] {
  return [...years]
    .sort((a, b) => b - a)
    .map((y) => ({ value: y, label: y === currentYear ? `${y}年度（本年）` : `${y}年度` }))
}

/** What "超过 N 天未走访" is counted to: today in the current year, the year's last day when the
 *  year is past (the core decided the day; this says it). */
export function notVisitedHeading(days: number, total: number, year: number, asOf: string, currentYear: number | null): string {
  const counted = year === currentYear ? `截至今天 ${asOf}` : `截至 ${year} 年底`
  return `${year}年度 超过 ${days} 天未走访（${counted}，共 ${total} 户）`
}

const KEY = 'bangfu.workYear'

/** Asks the core for the file's years and sets the work year. */
export async function loadWorkYear(): Promise<void> {
  const choices = await workYearChoices()
  const stored = sessionStorage.getItem(KEY)
  workYear.years = choices.years
  workYear.currentYear = choices.current_year
  workYear.year = initialYear(choices, stored === null ? null : Number(stored))
}

export function chooseYear(year: number): void {
  workYear.year = year
  sessionStorage.setItem(KEY, String(year))
}
