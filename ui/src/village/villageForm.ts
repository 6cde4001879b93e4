// The 村情 page's form: a village's 农村人口, 贫困村 status and checklist items as typed, the
// checks made before saving (the core makes them again and refuses in the same words), and
// the village to save.
import type { ChecklistItem, Village, VillageSheet } from '../api'

/** The longest 佐证材料, in characters (the core's EVIDENCE_MAX_CHARS). */
export const EVIDENCE_MAX_CHARS = 500

export type ItemForm = {
  code: string
  label: string
  /** Met by a coverage rate (广播电视) rather than 是/否. */
  rate: boolean
  met: boolean | null
  coverage: number | null
  /** 达标日期 as YYYY-MM-DD, null when not filled. */
  date: string | null
  evidence: string
}

export type VillageForm = {
  rural_population: number | null
  poor_village: boolean | null
  exit_year: number | null
  items: ItemForm[]
}

type VillageRecord = Record<string, unknown>

function field<T>(v: Village, name: string): T {
  return (v as unknown as VillageRecord)[name] as T
}

/** The form of a loaded sheet. */
export function formOf(sheet: VillageSheet): VillageForm {
  const v = sheet.village
  return {
    rural_population: v.rural_population,
    poor_village: v.poor_village,
    exit_year: v.exit_year,
    items: sheet.checklist.map((item: ChecklistItem) => ({
      code: item.code,
      label: item.label,
      rate: item.rate,
      met: item.rate ? null : field<boolean | null>(v, item.met_field),
      coverage: item.rate ? field<number | null>(v, item.met_field) : null,
      date: field<string | null>(v, item.date_field),
      evidence: field<string>(v, item.evidence_field) ?? '',
    })),
  }
}

/** What is wrong with the form, in the page's words; empty when it can be saved. `today` is YYYY-MM-DD. */
export function formProblems(f: VillageForm, sheet: VillageSheet, today: string): string[] {
  const problems: string[] = []
  const p = f.rural_population
  if (p !== null) {
    if (!Number.isInteger(p) || p < 0) problems.push('农村人口应是不小于 0 的整数。')
    else if (p < sheet.filed_people)
      problems.push(
        `农村人口 ${p} 人少于本村已建档的 ${sheet.filed_people} 人（${sheet.filed_households} 户）：农村人口包括全部建档立卡人口，请核对。`,
      )
  }
  const thisYear = Number(today.slice(0, 4))
  if (f.exit_year !== null) {
    if (f.poor_village !== true) problems.push('只有贫困村才有退出年度：请先把“是否贫困村”填为“是”，或清空退出年度。')
    else if (!Number.isInteger(f.exit_year) || f.exit_year < 2013) problems.push(`退出年度 ${f.exit_year} 不合理。`)
    else if (f.exit_year > thisYear) problems.push(`退出年度 ${f.exit_year} 晚于今年（${thisYear}年），还没有到。`)
  }
  for (const item of f.items) {
    if (item.rate && item.coverage !== null && !(item.coverage >= 0 && item.coverage <= 100))
      problems.push(`${item.label}率 ${item.coverage} 不合理：应在 0 至 100 之间。`)
    if (item.date !== null && item.date !== '') {
      if (item.date > today) problems.push(`${item.label}达标日期 ${item.date} 晚于今天（${today}），请核对。`)
      if (item.met === false) problems.push(`${item.label}填的是“否”（未达标），不能有达标日期。`)
    }
    if ([...item.evidence].length > EVIDENCE_MAX_CHARS)
      problems.push(`${item.label}佐证材料最多 ${EVIDENCE_MAX_CHARS} 个字。`)
  }
  return problems
}

/** The village to save: the loaded one with the form's values over it. */
export function villageOf(f: VillageForm, sheet: VillageSheet): Village {
  const out: VillageRecord = { ...(sheet.village as unknown as VillageRecord) }
  out.rural_population = f.rural_population
  out.poor_village = f.poor_village
  out.exit_year = f.exit_year
  for (const item of sheet.checklist) {
    const typed = f.items.find((i) => i.code === item.code)
    if (!typed) continue
    out[item.met_field] = item.rate ? typed.coverage : typed.met
    out[item.date_field] = typed.date === '' ? null : typed.date
    out[item.evidence_field] = typed.evidence.trim()
  }
  return out as unknown as Village
}

/** Whether the form differs from what was loaded (the page asks before leaving). */
export function formChanged(f: VillageForm, sheet: VillageSheet): boolean {
  return JSON.stringify(f) !== JSON.stringify(formOf(sheet))
}

/** 是 / 否 / 未填, as the list shows a flag. */
export function yesNo(value: boolean | null): string {
  return value === true ? '是' : value === false ? '否' : '未填'
}
