import { describe, expect, it } from 'vitest'
import type { ExitStandard } from '../api'
import { formOf, formProblem, nextYearForm, standardOf } from './standardForm'

const s2020: ExitStandard = {
  year: 2020,
  province: '',
  income_line: 4000,
  school_age_from: 6,
  school_age_to: 15,
  check_safe_water: true,
  check_pension: false,
  pension_age_from: 16,
  notice_days: 5,
  incidence_limit: 3,
  broadcast_min: 99,
  village_checklist: [],
  source: '国家统计局',
  edited: false,
}

describe('the 脱贫标准 form', () => {
  it('offers the year after the latest national one, its figures carried and no source', () => {
    const f = nextYearForm([s2020, { ...s2020, year: 2017, province: '云南省' }])
    expect(f.year).toBe(2021)
    expect(f.income_line).toBe(4000)
    expect(f.source).toBe('')
    expect(formProblem(f)).toContain('依据')
  })

  it('refuses a missing line and keeps a shipped source out of a county setting', () => {
    const f = formOf(s2020)
    expect(f.source).toBe('')
    f.source = '县扶贫办文件'
    expect(formProblem(f)).toBeNull()
    f.income_line = null
    expect(formProblem(f)).toContain('贫困线')
  })

  it('saves the typed figures over the standard in force', () => {
    const f = { ...formOf(s2020), income_line: 4200, source: ' 县文件 ', province: ' 云南省 ' }
    const out = standardOf(f, s2020)
    expect(out).toMatchObject({ year: 2020, province: '云南省', income_line: 4200, source: '县文件', edited: true })
  })
})
