// The 退出 tab's forms as pure data: which fields of the procedure record each step asks for
// (named as the core's catalog names them, so labels, value lists and kinds come from there),
// and the actions sent to the core. The core checks everything; nothing here decides what is
// allowed.
import type {
  ExitAction,
  ExitStepName,
  FieldValue,
  StepRecord,
  TrailRecord,
} from '../api'

/** What every step records, around the step's own fields. */
const BEFORE = ['step_date', 'people']
const AFTER = ['signatures', 'notes']

const OWN: Record<ExitStepName, string[]> = {
  survey: ['household_signed', 'food_secure', 'clothing_secure'],
  deliberation: ['vote_type', 'vote_result', 'work_team_present'],
  public_notice: ['notice_start', 'notice_end', 'objections', 'objection_handling'],
  township_check: ['vote_result'],
  county_approval: ['vote_result'],
}

/** The catalog fields (table exit_step) the form of `step` shows, in order. */
export function stepFields(step: ExitStepName): string[] {
  return [...BEFORE, ...OWN[step], ...AFTER]
}

/** Who usually signs each step, as a hint for the 签字 field. */
export const SIGNERS: Record<ExitStepName, string> = {
  survey: '贫困户、村委会、驻村工作队',
  deliberation: '村两委成员、驻村工作队',
  public_notice: '村委会',
  township_check: '书记、乡镇长、分管领导、工作站站长',
  county_approval: '县扶贫开发领导小组',
}

/** The form's values, keyed by catalog field name. */
export type StepForm = Record<string, FieldValue>

const TEXT_FIELDS = ['people', 'signatures', 'notes', 'vote_type', 'vote_result', 'objections', 'objection_handling']

/** An empty form for `step`, dated `today` ('YYYY-MM-DD'). */
export function blankForm(step: ExitStepName, today: string): StepForm {
  const form: StepForm = {}
  for (const name of stepFields(step)) form[name] = TEXT_FIELDS.includes(name) ? '' : null
  form.step_date = today
  return form
}

function text(value: FieldValue | undefined): string {
  return typeof value === 'string' ? value.trim() : ''
}
function flag(value: FieldValue | undefined): boolean | null {
  return typeof value === 'boolean' ? value : null
}
function date(value: FieldValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/** The record the core receives: the step's own fields from the form, the rest empty. */
export function recordAction(step: ExitStepName, form: StepForm): ExitAction {
  const asked = new Set(stepFields(step))
  const pick = <T>(name: string, read: (v: FieldValue | undefined) => T, empty: T): T =>
    asked.has(name) ? read(form[name]) : empty
  const record: StepRecord = {
    step,
    date: date(form.step_date) ?? '',
    people: text(form.people),
    signatures: text(form.signatures),
    notes: text(form.notes),
    household_signed: pick('household_signed', flag, null),
    food_secure: pick('food_secure', flag, null),
    clothing_secure: pick('clothing_secure', flag, null),
    vote_type: pick('vote_type', text, ''),
    result: pick('vote_result', text, ''),
    work_team_present: pick('work_team_present', flag, null),
    notice_start: pick('notice_start', date, null),
    notice_end: pick('notice_end', date, null),
    objections: pick('objections', text, ''),
    objection_handling: pick('objection_handling', text, ''),
  }
  return { action: 'record', ...record }
}

/** What is missing before the form can be sent at all (the core says the rest). */
export function missingDate(form: StepForm): string | null {
  return date(form.step_date) ? null : '请填写日期。'
}

/** Days of a notice, both ends counted (as the core counts them), or null. */
export function noticeDays(start: FieldValue | undefined, end: FieldValue | undefined): number | null {
  const s = date(start)
  const e = date(end)
  if (!s || !e) return null
  const days = Math.round((Date.parse(e) - Date.parse(s)) / 86_400_000) + 1
  return Number.isFinite(days) ? days : null
}

function yesNo(value: boolean | null): string {
  return value === true ? '是' : value === false ? '否' : '未填'
}

/** The details of a trail record worth reading in one cell, per what it records. */
export function recordDetails(r: TrailRecord): string[] {
  if (r.action === '2') return [`退回原因：${r.reason}`]
  if (r.action === '3') return [`返贫原因：${r.reason}`]
  const lines: string[] = []
  if (r.step === '1') {
    lines.push(
      r.household_signed === false
        ? '贫困户拒绝签字（出具《贫困户帮扶情况认定表》）'
        : `贫困户签字认可：${yesNo(r.household_signed)}`,
    )
    lines.push(`不愁吃：${yesNo(r.food_secure)}；不愁穿：${yesNo(r.clothing_secure)}`)
  }
  if (r.step === '2') {
    lines.push(`${r.vote_type_label || '表决方式未填'}，${r.result_label || '结果未填'}；驻村工作队参加：${yesNo(r.work_team_present)}`)
  }
  if (r.step === '3') {
    lines.push(`公示 ${r.notice_start ?? '?'} 至 ${r.notice_end ?? '?'}`)
    lines.push(r.objections ? `异议：${r.objections}；处理：${r.objection_handling}` : '无异议')
  }
  if ((r.step === '4' || r.step === '5') && r.result_label) lines.push(`结果：${r.result_label}`)
  if (r.notes) lines.push(`备注：${r.notes}`)
  return lines
}

/** Today in the local calendar as 'YYYY-MM-DD'. */
export function isoDay(day: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`
}
