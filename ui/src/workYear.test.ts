import { describe, expect, it } from 'vitest'
import { initialYear, notVisitedHeading, yearOptions } from './workYear'

describe('the work year in the header', () => {
  const choices = { default_year: 2026, current_year: 2026, years: [2016, 2017, 2025, 2026] }

  it('opens with the core default unless a year offered by the file was chosen before', () => {
    expect(initialYear(choices, null)).toBe(2026)
    expect(initialYear(choices, 2017)).toBe(2017)
    // A year the file has no records for (another file was open before) falls back.
    expect(initialYear(choices, 2019)).toBe(2026)
  })

  it('lists the latest year first and marks the current one', () => {
    expect(yearOptions(choices.years, 2026)).toEqual([
      { value: 2026, label: '2026年度（本年）' },
      { value: 2025, label: '2025年度' },
      { value: 2017, label: '2017年度' },
      { value: 2016, label: '2016年度' },
    ])
  })

  it('says a past year counts days without a visit to its end, the current year to today', () => {
    expect(notVisitedHeading(60, 12, 2017, '2017-12-31', 2026)).toBe('2017年度 超过 60 天未走访（截至 2017 年底，共 12 户）')
    expect(notVisitedHeading(60, 30, 2026, '2026-12-04', 2026)).toBe('2026年度 超过 60 天未走访（截至今天 2026-12-04，共 30 户）')
  })
})
