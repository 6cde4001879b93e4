import { describe, expect, it } from 'vitest'
import type { NewTeamMember, TeamEntry } from '../api'
import { blankMember, editProblem, endProblem, memberForm, memberProblem, servingText, todayText } from './teamForm'

const TODAY = '2025-06-15'

function filled(edit: Partial<NewTeamMember> = {}): NewTeamMember {
  return {
    ...blankMember('v1', '2024-03-01'),
    name: '王明',
    role: '第一书记',
    unit: '县农业农村局',
    phone: '13987654321',
    ...edit,
  }
}

function entry(start: string | null, end: string | null): TeamEntry {
  return {
    id: 'm1',
    village_id: 'v1',
    name: '王明',
    sex: '男',
    role: '第一书记',
    role_code: '1',
    unit: '县农业农村局',
    unit_level: '县直',
    post: '',
    phone: '',
    start_date: start,
    end_date: end,
    note: '',
    serving: end === null,
  }
}

describe('memberProblem', () => {
  const cases: [string, Partial<NewTeamMember>, string | null][] = [
    ['complete', {}, null],
    ['no village', { village_id: '' }, '请先选择村。'],
    ['no name', { name: ' ' }, '请填写姓名。'],
    ['no role', { role: '' }, '请选择队内职务。'],
    ['no unit', { unit: '' }, '请填写派出单位。'],
    ['no start', { start_date: null }, '请填写驻村日期。'],
    ['future start', { start_date: '2025-06-16' }, '驻村日期 2025-06-16 晚于今天。'],
    ['start today', { start_date: TODAY }, null],
    ['short phone', { phone: '1398765' }, '联系电话“1398765”不是手机号或座机号。'],
    ['office line without area code', { phone: '3121234' }, '联系电话“3121234”不是手机号或座机号。'],
    ['bad phone', { phone: '12345678901' }, '联系电话“12345678901”不是手机号或座机号。'],
    ['office line', { phone: '0879-3121234' }, null],
    ['no phone', { phone: '' }, null],
  ]
  for (const [name, edit, expected] of cases) {
    it(name, () => expect(memberProblem(filled(edit), TODAY)).toBe(expected))
  }
})

describe('endProblem', () => {
  it('refuses a day before arriving, a future day and no day', () => {
    expect(endProblem(entry('2024-03-01', null), '2024-02-01', TODAY)).toBe('离村日期 2024-02-01 早于驻村日期 2024-03-01。')
    expect(endProblem(entry('2024-03-01', null), '2025-07-01', TODAY)).toBe('离村日期 2025-07-01 晚于今天。')
    expect(endProblem(entry('2024-03-01', null), '', TODAY)).toBe('请填写离村日期。')
    expect(endProblem(entry('2024-03-01', null), '2025-05-31', TODAY)).toBeNull()
  })
})

describe('servingText and todayText', () => {
  it('words the dates as the list shows them', () => {
    expect(servingText(entry('2024-03-01', null))).toBe('2024-03-01 起')
    expect(servingText(entry('2022-01-01', '2024-02-29'))).toBe('2022-01-01 至 2024-02-29')
    expect(servingText(entry(null, null))).toBe('')
    expect(todayText(new Date(2025, 0, 5, 7, 0))).toBe('2025-01-05')
  })
})

describe('the 修改 dialog', () => {
  it('loads a listed member as the form has it', () => {
    const form = memberForm(entry('2024-03-01', null))
    expect(form).toEqual({ ...filled({ phone: '', sex: '男', unit_level: '县直' }), village_id: 'v1' })
    expect(memberProblem(form, TODAY)).toBeNull()
  })
  const cases: [string, Partial<NewTeamMember>, string | null, string | null][] = [
    ['still serving', {}, null, null],
    ['left after arriving', {}, '2025-05-31', null],
    ['left before arriving', {}, '2024-02-01', '离村日期 2024-02-01 早于驻村日期 2024-03-01。'],
    ['arrival moved after the leave', { start_date: '2025-06-01' }, '2025-05-31', '离村日期 2025-05-31 早于驻村日期 2025-06-01。'],
    ['leave in the future', {}, '2025-07-01', '离村日期 2025-07-01 晚于今天。'],
    ['name cleared', { name: '' }, '2025-05-31', '请填写姓名。'],
  ]
  for (const [name, edit, end, expected] of cases) {
    it(name, () => expect(editProblem(filled(edit), end, TODAY)).toBe(expected))
  }
})
