import { describe, expect, it } from 'vitest'
import type { Readiness, StatsReport } from '../api'
import { coverageText, incidenceChart, incidenceName, measuresChart, readinessChart, shortCheckLabel, statusChart, visitsChart } from './charts'

const REPORT: StatsReport = {
  year: 2019,
  by_status: [
    { status: '未脱贫', households: 10, people: 35 },
    { status: '已脱贫(享受政策)', households: 5, people: 20 },
  ],
  incidence: [
    { township: '勐康镇', village_code: '530826103201', village_name: '新寨村', rural_population: 1000, poor_people: 35, incidence_pct: 3.5 },
    { township: '勐康镇', village_code: '530826103202', village_name: '大寨村', rural_population: 0, poor_people: 4, incidence_pct: null },
    { township: '勐康镇', village_code: '', village_name: '', rural_population: 1000, poor_people: 39, incidence_pct: 3.9 },
  ],
  by_path: [
    { path: '发展生产脱贫一批', measures: 3, households: 2, amount: 125000 },
    { path: '易地扶贫搬迁脱贫一批', measures: 0, households: 0, amount: 0 },
  ],
  visits: [
    { township: '勐康镇', village_code: '530826103201', village_name: '新寨村', households: 15, visited_ever: 12, visited_in_year: 9, visits_in_year: 20, coverage_pct: 60 },
  ],
  training: [],
}

// The options are plain objects; the tests read them as ECharts would.
type Option = Record<string, any>

describe('report charts', () => {
  it('draws households and people for every status', () => {
    const o = statusChart(REPORT) as Option
    expect(o.xAxis.data).toEqual(['未脱贫', '已脱贫(享受政策)'])
    expect(o.series.map((s: Option) => [s.name, s.data])).toEqual([
      ['户数', [10, 5]],
      ['人数', [35, 20]],
    ])
  })

  it('draws each village and the township total, a village without population as a gap', () => {
    const o = incidenceChart(REPORT) as Option
    expect(o.xAxis.data).toEqual(['新寨村', '大寨村', '勐康镇（合计）'])
    expect(o.series[0].data.map((d: Option) => d.value)).toEqual([3.5, null, 3.9])
    const colours = o.series[0].data.map((d: Option) => d.itemStyle.color)
    expect(colours[0]).toBe(colours[1])
    expect(colours[2]).not.toBe(colours[0])
  })

  it('names the total of villages filed without a township', () => {
    const total = REPORT.incidence.find((l) => l.village_code === '')
    if (!total) throw new Error('the fixture has a township total')
    expect(incidenceName({ ...total, township: '' })).toBe('未填乡镇（合计）')
    expect(incidenceName(total)).toBe('勐康镇（合计）')
  })

  it('draws amounts in 万元 and counts on the second axis', () => {
    const o = measuresChart(REPORT) as Option
    expect(o.title.text).toBe('2019年帮扶措施（七个一批）')
    expect(o.series[0].data).toEqual([12.5, 0])
    expect(o.series[1]).toMatchObject({ type: 'line', yAxisIndex: 1, data: [3, 0] })
  })

  it('says coverage and readiness in words, with their year', () => {
    expect(coverageText(REPORT)).toBe('2019年走访覆盖：9 / 15 户（60%）')
    expect(coverageText({ ...REPORT, visits: [] })).toBe('2019年走访覆盖：0 / 0 户（无户）')
  })

  it('draws visit coverage of the year', () => {
    const o = visitsChart(REPORT) as Option
    expect(o.title.text).toContain('2019年')
    expect(o.series[0].data).toEqual([60])
  })

  it('stacks met, not met and unknown per check, and titles how many meet all', () => {
    const readiness: Readiness = {
      year: 2019,
      years: [2019, 2020],
      households: 3,
      meeting: 1,
      by_check: [
        { code: 'income', label: '一超：人均纯收入稳定超过当年标准', met: 2, not_met: 1, unknown: 0 },
        { code: 'housing', label: '住房安全有保障', met: 1, not_met: 0, unknown: 2 },
      ],
      rows: [],
    }
    const o = readinessChart(readiness) as Option
    expect(o.title.text).toBe('2019年退出标准：1 / 3 户全部达标')
    expect(o.yAxis.data).toEqual(['一超：人均纯收入稳定超…', '住房安全有保障'])
    expect(o.series.map((s: Option) => [s.name, s.stack, s.data])).toEqual([
      ['达标', 'households', [2, 1]],
      ['未达标', 'households', [1, 0]],
      ['待核实', 'households', [0, 2]],
    ])
    expect(o.series[0].label.formatter({ value: 0 })).toBe('')
    expect(o.series[0].label.formatter({ value: 2 })).toBe('2')
  })

  it('keeps short check labels whole', () => {
    expect(shortCheckLabel('三保障：住房安全有保障')).toBe('三保障：住房安全有保障')
  })
})
