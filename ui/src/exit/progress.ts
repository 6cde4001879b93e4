// The 退出进度 page's wording as pure functions: how long a household has waited, and the
// 贫困发生率 as people read it.
import type { VillageProgress } from '../api'

/** Whole days from `date` ('YYYY-MM-DD') to `today`, or null without a date. */
export function daysSince(date: string | null, today: Date = new Date()): number | null {
  if (!date) return null
  const then = Date.parse(`${date}T00:00:00`)
  if (!Number.isFinite(then)) return null
  const now = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime()
  return Math.max(0, Math.round((now - then) / 86_400_000))
}

/** "2017-08-05（45 天前）", "2017-08-05（今天）", or "—". */
export function sinceText(date: string | null, today: Date = new Date()): string {
  const days = daysSince(date, today)
  if (date === null || days === null) return '—'
  return `${date}（${days === 0 ? '今天' : `${days} 天前`}）`
}

/** 贫困发生率 with two decimals, or why it cannot be shown. */
export function incidenceText(village: VillageProgress['village']): string {
  if (!village) return ''
  if (village.incidence_percent === null) return `剩余贫困人口 ${village.poor_people} 人；未填农村人口，无法计算贫困发生率`
  return `贫困发生率 ${village.incidence_percent.toFixed(2)}%（剩余贫困人口 ${village.poor_people} 人 / 农村人口 ${village.rural_population} 人）`
}
