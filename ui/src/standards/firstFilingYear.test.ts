import { describe, expect, it } from 'vitest'
import type { FirstFilingYear } from '../api'
import { firstFilingYearForm, firstFilingYearProblem, firstFilingYearText } from './firstFilingYear'

const shipped: FirstFilingYear = { year: 2014, source: '国开办发〔2014〕24号', edited: false }
const county: FirstFilingYear = { year: 2013, source: '县试点方案', edited: true }

describe('the 首次建档年度 of the 脱贫标准 page', () => {
  it('starts from the year in force, with the county source only when the county set it', () => {
    expect(firstFilingYearForm(shipped)).toEqual({ year: 2014, source: '' })
    expect(firstFilingYearForm(county)).toEqual({ year: 2013, source: '县试点方案' })
  })

  it('asks for a year the core accepts and for the source', () => {
    const cases: [number | null, string, string | null][] = [
      [2013, '县试点方案', null],
      [1986, '县文件', null],
      [1985, '县文件', '首次建档年度应在 1986—2026 年之间。'],
      [2027, '县文件', '首次建档年度应在 1986—2026 年之间。'],
      [null, '县文件', '首次建档年度应在 1986—2026 年之间。'],
      [2013.5, '县文件', '首次建档年度应在 1986—2026 年之间。'],
      [2013, '  ', '请填写依据（县里的文件名称或文号），全县各台电脑都会看到。'],
    ]
    for (const [year, source, problem] of cases) {
      expect(firstFilingYearProblem({ year, source }, 2026), `${year} ${source}`).toBe(problem)
    }
  })

  it('says where the year comes from', () => {
    expect(firstFilingYearText(shipped)).toContain('2014 年（程序自带）')
    expect(firstFilingYearText(county)).toContain('2013 年（县里设定，已同步）')
  })
})
