// The 退出 tab's forms as pure functions over the core's exit vocabulary (the exit_vocabulary
// command: each step's fields, named as the catalog names them, its signers and how notice days
// count), and the actions sent to the core. The core checks everything; nothing here decides what is
// allowed.
import type { BatchOutcome, BatchStep, ExitAction, ExitStepName, ExitVocabulary, FieldValue, StepRecord } from '../api'

/** The catalog fields (table exit_step) the form of `step` shows, in order, as the core says. */
export function stepFields(vocabulary: ExitVocabulary, step: ExitStepName): string[] {
  return vocabulary.steps.find((s) => s.step === step)?.fields ?? []
}

/** Who usually signs `step`, as a hint for the 签字 field. */
export function signersOf(vocabulary: ExitVocabulary, step: ExitStepName): string {
  return vocabulary.steps.find((s) => s.step === step)?.signers ?? ''
}

/** The roles that must each sign `step`, by the forms' titles (empty: signed as typed). */
export function signerRolesOf(vocabulary: ExitVocabulary, step: ExitStepName): string[] {
  return vocabulary.steps.find((s) => s.step === step)?.signer_roles ?? []
}

/** The form's values, keyed by catalog field name. */
export type StepForm = Record<string, FieldValue>

const TEXT_FIELDS = ['people', 'signatures', 'notes', 'vote_type', 'vote_result', 'objections', 'objection_handling']

/** An empty form for `step`, dated `today` ('YYYY-MM-DD'). */
export function blankForm(vocabulary: ExitVocabulary, step: ExitStepName, today: string): StepForm {
  const form: StepForm = {}
  for (const name of stepFields(vocabulary, step)) form[name] = TEXT_FIELDS.includes(name) ? '' : null
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
function count(value: FieldValue | undefined): number | null {
  return typeof value === 'number' ? value : null
}

/** 村两委商议 agreeing for a household that fails the standard or refused to sign: why, and who decided. */
export type StepException = { reason: string; by: string }

/** The record the core receives: the step's own fields from the form, the rest empty. */
export function recordAction(
  vocabulary: ExitVocabulary,
  step: ExitStepName,
  form: StepForm,
  exception?: StepException,
  signerNames?: Record<string, string>,
): ExitAction {
  const asked = new Set(stepFields(vocabulary, step))
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
  // 村评议公示's 民主评议, sent only by the step that asks for it.
  if (asked.has('review_date')) {
    record.review_date = date(form.review_date) ?? undefined
    record.review_attendance = count(form.review_attendance) ?? undefined
    record.review_agreed = count(form.review_agreed) ?? undefined
  }
  const roles = signerRolesOf(vocabulary, step)
  if (roles.length) {
    record.signers = roles.map((role) => ({ role, name: (signerNames?.[role] ?? '').trim() }))
  }
  if (step === 'deliberation' && exception && exception.reason.trim() !== '') {
    record.exception_reason = exception.reason.trim()
    record.exception_by = exception.by.trim()
  }
  return { action: 'record', ...record }
}

/** What is missing before the form can be sent at all (the core says the rest). */
export function missingDate(form: StepForm): string | null {
  return date(form.step_date) ? null : '请填写日期。'
}

/** Days of a notice counted as the core counts them (its offset: both ends), or null. */
export function noticeDays(
  vocabulary: ExitVocabulary,
  start: FieldValue | undefined,
  end: FieldValue | undefined,
): number | null {
  const s = date(start)
  const e = date(end)
  if (!s || !e) return null
  const days = Math.round((Date.parse(e) - Date.parse(s)) / 86_400_000) + vocabulary.notice_days_offset
  return Number.isFinite(days) ? days : null
}

/** Today in the local calendar as 'YYYY-MM-DD'. */
export function isoDay(day: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`
}

/**
 * One step for the chosen households (`skipFailing`: the others go through when some fail).
 * `exceptions`: at 村两委商议, each failing household's reason and person deciding, by household
 * id; only chosen households with something typed are sent (a blank half is the core's to name).
 * `checkOnly`: the core checks every household and writes nothing.
 */
export function batchOf(
  action: ExitAction,
  households: string[],
  skipFailing: boolean,
  exceptions: Record<string, StepException> = {},
  checkOnly = false,
): BatchStep | null {
  if (action.action !== 'record') return null
  const { action: _record, ...record } = action
  const given =
    record.step === 'deliberation'
      ? households
          .filter((id) => exceptions[id] && (exceptions[id].reason.trim() !== '' || exceptions[id].by.trim() !== ''))
          .map((id) => ({ household_id: id, reason: exceptions[id]!.reason.trim(), by: exceptions[id]!.by.trim() }))
      : []
  return { households, record: record as StepRecord, skip_failing: skipFailing, exceptions: given, check_only: checkOnly }
}

/** What to tell the person about exception reasons given to households that did not need one
 *  (they meet the standard and signed): the core took the step for them without the reason. */
export function exceptionNotes(outcome: Pick<BatchOutcome, 'exceptions_not_needed'>): string[] {
  return outcome.exceptions_not_needed.map((code) => `户 ${code} 达到标准且已签字认可，不需要例外理由，例外理由未记录。`)
}
