// The 脱贫标准 page's form: a standard as typed, its checks before saving, and the words the
// table shows for where a figure comes from.
import type { ExitStandard } from '../api'

export type StandardForm = {
  year: number | null
  province: string
  income_line: number | null
  notice_days: number
  incidence_limit: number
  broadcast_min: number
  village_checklist: string[]
  /** 养老有保障 checked among the household's exit checks (the report's 五保障). */
  check_pension: boolean
  source: string
}

/** A form for a new year: the latest standard in force carried to the next year. */
export function nextYearForm(all: ExitStandard[]): StandardForm {
  const latest = all.filter((s) => s.province === '').sort((a, b) => b.year - a.year)[0]
  return {
    year: latest ? latest.year + 1 : new Date().getFullYear(),
    province: '',
    income_line: latest?.income_line ?? null,
    notice_days: latest?.notice_days ?? 5,
    incidence_limit: latest?.incidence_limit ?? 3,
    broadcast_min: latest?.broadcast_min ?? 99,
    village_checklist: latest?.village_checklist ?? [],
    check_pension: latest?.check_pension ?? false,
    source: '',
  }
}

/** The form of an existing standard, to change it. */
export function formOf(s: ExitStandard): StandardForm {
  return {
    year: s.year,
    province: s.province,
    income_line: s.income_line,
    notice_days: s.notice_days,
    incidence_limit: s.incidence_limit,
    broadcast_min: s.broadcast_min,
    village_checklist: [...s.village_checklist],
    check_pension: s.check_pension,
    source: s.edited ? s.source : '',
  }
}

/** What is missing or wrong, in the words of the page; null when the form can be saved. */
export function formProblem(f: StandardForm): string | null {
  if (f.year === null || !Number.isInteger(f.year) || f.year < 1978 || f.year > 2100) return '请填写年度（如 2020）。'
  if (f.income_line === null || !(f.income_line > 0)) return '请填写贫困线（元/人·年，大于 0）。'
  if (!Number.isInteger(f.notice_days) || f.notice_days < 1 || f.notice_days > 60) return '公示天数应在 1 到 60 天之间。'
  if (f.incidence_limit < 0 || f.incidence_limit > 100) return '贫困发生率上限应在 0 到 100 之间。'
  if (f.source.trim() === '') return '请填写依据（文件名称或文号），以后核对时知道数字从哪里来。'
  return null
}

/** The standard to save from a form that passed `formProblem`, over the one in force. */
export function standardOf(f: StandardForm, base: ExitStandard | null): ExitStandard {
  return {
    year: f.year ?? 0,
    province: f.province.trim(),
    income_line: f.income_line ?? 0,
    school_age_from: base?.school_age_from ?? 6,
    school_age_to: base?.school_age_to ?? 15,
    check_safe_water: base?.check_safe_water ?? true,
    check_pension: f.check_pension,
    pension_age_from: base?.pension_age_from ?? 16,
    notice_days: f.notice_days,
    incidence_limit: f.incidence_limit,
    broadcast_min: f.broadcast_min,
    village_checklist: f.village_checklist,
    source: f.source.trim(),
    edited: true,
  }
}

export function provinceText(p: string): string {
  return p === '' ? '全国（各省通用）' : p
}

export function originText(s: ExitStandard): string {
  return s.edited ? '县里设定（已同步）' : '程序自带'
}
