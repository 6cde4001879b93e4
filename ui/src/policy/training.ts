// The 登记培训 dialog's checks: a training names the member who attended, its kind (引导性培训
// / 技能培训, the core's `training_kind` list), whole days from 1 to 366 (引导性培训: 2 days), and
// for a 技能培训 the certificate obtained, if any. The core checks the same before writing.
import type { NewTraining } from '../api'

export const TRAINING_KINDS: [string, string][] = [
  ['1', '引导性培训'],
  ['2', '技能培训'],
]

/** 引导性培训 lasts two days (the county report's rule). */
export const GUIDED_DAYS = 2

export interface TrainingForm {
  member_id: string | null
  kind: string
  days: number | null
  certificate: string
}

export function blankTraining(): TrainingForm {
  return { member_id: null, kind: '1', days: GUIDED_DAYS, certificate: '' }
}

export function trainingProblem(form: TrainingForm): string | null {
  if (!form.member_id) return '请选择参加培训的家庭成员。'
  if (!TRAINING_KINDS.some(([code]) => code === form.kind)) return '请选择培训类别。'
  if (form.days === null) return '请填写培训天数。'
  if (!Number.isInteger(form.days) || form.days < 1 || form.days > 366) return '培训天数应在 1 到 366 天之间的整数。'
  return null
}

/** What is sent to the core; a certificate only with a 技能培训. */
export function trainingInput(form: TrainingForm, householdId: string, year: number): NewTraining {
  return {
    household_id: householdId,
    member_id: form.member_id ?? '',
    year,
    kind: form.kind,
    days: form.days ?? 0,
    certificate: form.kind === '2' ? form.certificate.trim() : '',
  }
}
