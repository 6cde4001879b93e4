// The 帮扶措施与发放 box's checks and wording: a structured measure names a policy in force
// and, for a member's policy, the member; a payment has a day not in the future, an amount
// above 0 and a channel; a payment that takes the total above the amount due is flagged
// before it is saved (the core records it, and the box keeps showing it as 超出应发).
import type { MeasurePayments, PolicyEntry } from '../api'
import { yuan } from './entitlements'

export interface MeasureForm {
  policy_code: string
  member_id: string | null
  amount_due: number | null
}

export interface PaymentForm {
  pay_date: string
  amount: number | null
  channel: string
}

/** Whether the policy is for one member (a student, a trainee) rather than the household. */
export function forMember(policy: PolicyEntry | undefined): boolean {
  return policy?.rule.who === 'member'
}

/** Policies a household's measure may name: in force, not a township's fund. */
export function measurePolicies(policies: PolicyEntry[]): PolicyEntry[] {
  return policies.filter((p) => p.in_force && p.rule.who !== 'township')
}

export function measureProblem(form: MeasureForm, policy: PolicyEntry | undefined): string | null {
  if (!form.policy_code || !policy) return '请选择政策。'
  if (forMember(policy) && !form.member_id) return `“${policy.name}”是按人享受的政策，请选择享受的家庭成员。`
  if (form.amount_due !== null && !(form.amount_due > 0)) return '应发金额必须大于0（不填则按政策标准）。'
  return null
}

export function paymentProblem(form: PaymentForm, today: string): string | null {
  if (!form.pay_date) return '请填写发放日期。'
  if (form.pay_date > today) return `发放日期 ${form.pay_date} 晚于今天。`
  if (form.amount === null || !Number.isFinite(form.amount)) return '请填写发放金额。'
  if (!(form.amount > 0)) return '发放金额必须大于0。'
  if (!form.channel) return '请选择发放渠道。'
  return null
}

/** The flag shown before a payment that takes the measure's total above its amount due;
 *  `null` when it stays within it (or the measure has no amount due). */
export function overDueWarning(measure: MeasurePayments, amount: number | null): string | null {
  if (measure.amount_due === null || amount === null || !(amount > 0)) return null
  const total = measure.paid + amount
  if (total <= measure.amount_due + 1e-9) return null
  return `本次发放后累计 ${yuan(total)} 元，超出应发金额 ${yuan(measure.amount_due)} 元 ${yuan(total - measure.amount_due)} 元，请核实。`
}

/** `王小明：普通高中教育资助`, `李强：技能培训 15天，证书：电工证` / the free-text description,
 *  with the year. */
export function measureTitle(m: MeasurePayments): string {
  const named = m.training || m.policy_name
  const what = named ? (m.member_name ? `${m.member_name}：${named}` : named) : m.description
  return m.year ? `${m.year}年 ${what}` : what
}
