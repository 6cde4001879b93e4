import { describe, expect, it } from 'vitest'
import type { VillageProgress } from '../api'
import { daysSince, incidenceText, sinceText } from './progress'

const today = new Date(2017, 8, 19) // 2017-09-19

describe('since when', () => {
  it('counts whole days to today', () => {
    expect(daysSince('2017-08-05', today)).toBe(45)
    expect(daysSince('2017-09-19', today)).toBe(0)
    expect(daysSince(null, today)).toBeNull()
    expect(daysSince('not a date', today)).toBeNull()
  })

  it('says it as people read it', () => {
    expect(sinceText('2017-08-05', today)).toBe('2017-08-05（45 天前）')
    expect(sinceText('2017-09-19', today)).toBe('2017-09-19（今天）')
    expect(sinceText(null, today)).toBe('—')
  })
})

const village: NonNullable<VillageProgress['village']> = {
  village_id: 'v', code: '530826103201', name: '新文村', year: 2017, rural_population: 1000,
  poor_people: 29, incidence_percent: 2.9, checks: [], meets: true,
}

describe('incidenceText', () => {
  it('shows the rate with the people it is made of', () => {
    expect(incidenceText(village)).toBe('贫困发生率 2.90%（剩余贫困人口 29 人 / 农村人口 1000 人）')
  })
  it('says why there is no rate without a rural population', () => {
    expect(incidenceText({ ...village, rural_population: null, incidence_percent: null })).toBe(
      '剩余贫困人口 29 人；未填农村人口，无法计算贫困发生率',
    )
    expect(incidenceText(null)).toBe('')
  })
})
