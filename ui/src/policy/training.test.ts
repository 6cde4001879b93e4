import { describe, expect, it } from 'vitest'
import { blankTraining, trainingInput, trainingProblem, type TrainingForm } from './training'

describe('trainingProblem', () => {
  const form = (edit: Partial<TrainingForm>): TrainingForm => ({ ...blankTraining(), member_id: 'p1', ...edit })
  const cases: [string, TrainingForm, string | null][] = [
    ['guided, two days', form({}), null],
    ['no member', form({ member_id: null }), '请选择参加培训的家庭成员。'],
    ['no kind', form({ kind: '' }), '请选择培训类别。'],
    ['no days', form({ days: null }), '请填写培训天数。'],
    ['zero days', form({ days: 0 }), '培训天数应在 1 到 366 天之间的整数。'],
    ['half a day', form({ days: 1.5 }), '培训天数应在 1 到 366 天之间的整数。'],
    ['a year and more', form({ days: 400 }), '培训天数应在 1 到 366 天之间的整数。'],
    ['skills with certificate', form({ kind: '2', days: 15, certificate: '中式烹调师五级' }), null],
  ]
  for (const [name, f, expected] of cases) {
    it(name, () => expect(trainingProblem(f)).toBe(expected))
  }
})

describe('trainingInput', () => {
  it('keeps a certificate only for a 技能培训', () => {
    const guided = { ...blankTraining(), member_id: 'p1', certificate: '证书' }
    expect(trainingInput(guided, 'h1', 2025)).toEqual({
      household_id: 'h1',
      member_id: 'p1',
      year: 2025,
      kind: '1',
      days: 2,
      certificate: '',
    })
    expect(trainingInput({ ...guided, kind: '2', days: 10, certificate: ' 电工证 ' }, 'h1', 2025).certificate).toBe('电工证')
  })
})
