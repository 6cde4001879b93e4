import { describe, expect, it } from 'vitest'
import type { MeasurePayments, PolicyEntry } from '../api'
import { measurePolicies, measureProblem, measureTitle, overDueWarning, paymentProblem } from './measurePayments'

function policy(code: string, who: 'member' | 'household' | 'township', inForce = true): PolicyEntry {
  const rule =
    who === 'member'
      ? { who, when: [], household: [] }
      : who === 'household'
        ? { who, when: [] }
        : { who, fund: { base: 500000, per_relocated: 100, per_poor_person: 100 } as never }
  return {
    year: 2025,
    code,
    name: code === 'edu_high_school' ? '普通高中教育资助' : '产业扶持',
    path: '04',
    amount: 3000,
    cap: null,
    once: false,
    rule: rule as PolicyEntry['rule'],
    parts: [],
    in_force: inForce,
    source: '',
    edited: false,
  }
}

function measure(due: number | null, paid: number): MeasurePayments {
  return {
    measure_id: 'm1',
    year: 2025,
    path: '教育支持',
    policy_code: 'edu_high_school',
    policy_name: '普通高中教育资助',
    description: '王小明：普通高中教育资助',
    member_name: '王小明',
    amount_due: due,
    paid,
    over_by: 0,
    status: '实施中',
    training: '',
    payments: [],
  }
}

const TODAY = '2025-06-15'

describe('measureProblem', () => {
  const student = policy('edu_high_school', 'member')
  const industry = policy('industry_2355', 'household')
  const cases: [string, Parameters<typeof measureProblem>[0], PolicyEntry | undefined, string | null][] = [
    ['no policy', { policy_code: '', member_id: null, amount_due: null }, undefined, '请选择政策。'],
    ['member policy without member', { policy_code: 'edu_high_school', member_id: null, amount_due: null }, student, '“普通高中教育资助”是按人享受的政策，请选择享受的家庭成员。'],
    ['member policy with member', { policy_code: 'edu_high_school', member_id: 'p1', amount_due: null }, student, null],
    ['household policy', { policy_code: 'industry_2355', member_id: null, amount_due: 6000 }, industry, null],
    ['zero due', { policy_code: 'industry_2355', member_id: null, amount_due: 0 }, industry, '应发金额必须大于0（不填则按政策标准）。'],
  ]
  for (const [name, form, p, expected] of cases) {
    it(name, () => expect(measureProblem(form, p)).toBe(expected))
  }
  it('offers only policies in force that a household can receive', () => {
    const offered = measurePolicies([student, industry, policy('incentive', 'township'), policy('old', 'household', false)])
    expect(offered.map((p) => p.code)).toEqual(['edu_high_school', 'industry_2355'])
  })
})

describe('paymentProblem', () => {
  const cases: [string, Parameters<typeof paymentProblem>[0], string | null][] = [
    ['complete', { pay_date: '2025-06-01', amount: 1500, channel: '1' }, null],
    ['today', { pay_date: TODAY, amount: 1500, channel: '1' }, null],
    ['future', { pay_date: '2025-06-16', amount: 1500, channel: '1' }, '发放日期 2025-06-16 晚于今天。'],
    ['no date', { pay_date: '', amount: 1500, channel: '1' }, '请填写发放日期。'],
    ['no amount', { pay_date: '2025-06-01', amount: null, channel: '1' }, '请填写发放金额。'],
    ['zero', { pay_date: '2025-06-01', amount: 0, channel: '1' }, '发放金额必须大于0。'],
    ['negative', { pay_date: '2025-06-01', amount: -5, channel: '1' }, '发放金额必须大于0。'],
    ['no channel', { pay_date: '2025-06-01', amount: 1500, channel: '' }, '请选择发放渠道。'],
  ]
  for (const [name, form, expected] of cases) {
    it(name, () => expect(paymentProblem(form, TODAY)).toBe(expected))
  }
})

describe('overDueWarning', () => {
  it('flags a payment that takes the total above the amount due, and only that', () => {
    expect(overDueWarning(measure(3000, 1500), 1500)).toBeNull()
    expect(overDueWarning(measure(3000, 1500), 2000)).toBe('本次发放后累计 3500 元，超出应发金额 3000 元 500 元，请核实。')
    expect(overDueWarning(measure(null, 1500), 9000)).toBeNull()
    expect(overDueWarning(measure(3000, 0), null)).toBeNull()
  })
  it('titles a measure by its year, member and policy', () => {
    expect(measureTitle(measure(3000, 0))).toBe('2025年 王小明：普通高中教育资助')
  })
  it('names a training by its kind, days and certificate', () => {
    const skills = { ...measure(null, 0), policy_code: '', policy_name: '', description: '王小明：技能培训15天', training: '技能培训 15天，证书：电工证' }
    expect(measureTitle(skills)).toBe('2025年 王小明：技能培训 15天，证书：电工证')
  })
})
