// The 易地扶贫搬迁 box's arithmetic: the stages in their order with what is recorded of each,
// the next stage's blank form, and the first problem to show before saving (the core checks
// the same: a 安置点, a day not in the future and not out of order with the stages recorded,
// a loan not negative, a stage not recorded twice).
import type { HouseholdRelocation, MoveOffer, SiteVillage, StageLine } from '../api'

/** 建设进度, in order, as the forms say them (the core's `relocation_stage` list). */
export const STAGES: [string, string][] = [
  ['1', '开工'],
  ['2', '基础'],
  ['3', '主体'],
  ['4', '竣工'],
  ['5', '入住'],
]

export function stageLabel(code: string): string {
  return STAGES.find(([c]) => c === code)?.[1] ?? code
}

export interface StageForm {
  site: string
  stage: string
  stage_date: string
  loan: number | null
  note: string
  /** 12-digit code of the 安置点's village ('' : not said); asked at 入住. */
  site_village: string
}

/** The stage at which the household lives at its 安置点: the move to its village is offered then. */
export const MOVED_IN = '5'

/** Whether the form asks for the 安置点's village (at 入住 only). */
export function asksSiteVillage(form: StageForm): boolean {
  return form.stage === MOVED_IN
}

/** What the person is asked before the household is moved to the 安置点's village; the move is
 *  made only when they accept (the core offered it: 入住 in another village). */
export function moveQuestion(offer: MoveOffer): string {
  const from = offer.from_village ? `现属${offer.from_village}` : '仍在原村'
  return (
    `户 ${offer.household_code} 已入住${offer.to_village_name}的安置点（${offer.site}），本户${from}。` +
    `是否把本户迁入${offer.to_village_name}？迁入后户编号改为 ${offer.new_code}。`
  )
}

/** The 安置点's village as the box names it: its name and 村代码, or only the code when this
 *  data file holds no village of that code. */
export function siteVillageText(village: SiteVillage): string {
  return village.name ? `${village.name}（${village.code}）` : `村代码 ${village.code}（本数据文件中没有该村）`
}

/** What the box says of a household at 入住 whose stages name no village of the 安置点 (recorded
 *  before the box asked for it): 未填, asked for, with the village the other households of the
 *  same 安置点 all named as a hint to check; null when the village is named or not due yet. */
export function siteVillageAsk(box: HouseholdRelocation): string | null {
  if (!box.site_village_missing) return null
  const ask = '未填：本户入住时没有登记安置点所在村，请补填。'
  const hint = box.site_village_hint
  if (!hint) return ask
  return `${ask}同一安置点“${box.site}”的其他 ${hint.households} 户填的是${siteVillageText(hint.village)}，请核对。`
}

/** The village the fill-in starts on: the hint's, or none; saved only when the person says so. */
export function siteVillagePreset(box: HouseholdRelocation): string {
  return box.site_village_missing ? (box.site_village_hint?.village.code ?? '') : ''
}

/** The line the box keeps showing while the household lives at a 安置点 of another village and
 *  is still filed in its own (暂不迁移 at 入住). */
export function moveReminder(offer: MoveOffer): string {
  const from = offer.from_village ? `仍在${offer.from_village}建档` : '尚未迁入'
  return `本户已入住${offer.to_village_name}的安置点，${from}。`
}

/** One step of the progress line: recorded (with its day and loan) or still ahead. */
export interface StageStep {
  code: string
  label: string
  line: StageLine | null
}

/** Every stage in order with its recorded line, if any. */
export function stageSteps(box: HouseholdRelocation): StageStep[] {
  return STAGES.map(([code, label]) => ({
    code,
    label,
    line: box.stages.find((s) => s.stage === code) ?? null,
  }))
}

/** A stage's 备注, naming its 安置点 when it is not the household's current one. */
export function stageNote(line: StageLine | null, site: string): string {
  if (!line) return ''
  const other = line.site && line.site !== site ? `安置点：${line.site}` : ''
  return [other, line.note].filter(Boolean).join('；')
}

/** The form for the next stage: the 安置点 and its village of the stages so far, today. */
export function nextStageForm(box: HouseholdRelocation, today: string): StageForm {
  return {
    site: box.site,
    stage: box.next_stage ?? '',
    stage_date: today,
    loan: null,
    note: '',
    site_village: box.site_village?.code ?? '',
  }
}

/** The first thing missing or wrong, in the words of the form; `null` when it may be saved. */
export function stageProblem(form: StageForm, box: HouseholdRelocation, today: string): string | null {
  if (!form.site.trim()) return '请填写安置点。'
  if (!form.stage) return '请选择建设进度。'
  const label = stageLabel(form.stage)
  const same = box.stages.find((s) => s.stage === form.stage)
  if (same) return `本户已登记过“${label}”（${same.stage_date ?? ''}），同一进度不能重复登记。`
  if (!form.stage_date) return '请填写日期。'
  if (form.stage_date > today) return `日期 ${form.stage_date} 晚于今天。`
  for (const s of box.stages) {
    if (!s.stage_date) continue
    if (s.stage < form.stage && form.stage_date < s.stage_date)
      return `“${label}”的日期 ${form.stage_date} 早于已登记的“${s.label}”（${s.stage_date}）。`
    if (s.stage > form.stage && form.stage_date > s.stage_date)
      return `“${label}”的日期 ${form.stage_date} 晚于已登记的“${s.label}”（${s.stage_date}）。`
  }
  if (form.loan !== null && !(form.loan >= 0)) return '贷款金额不能为负数。'
  return null
}
