import { describe, expect, it } from 'vitest'
import type { Village, VillageSheet } from '../api'
import { formChanged, formOf, formProblems, villageOf } from './villageForm'

const checklist = [
  { code: 'road', label: '通硬化路', met_field: 'hardened_road', date_field: 'road_date', evidence_field: 'road_evidence', rate: false },
  {
    code: 'broadcast',
    label: '广播电视覆盖',
    met_field: 'broadcast_coverage',
    date_field: 'broadcast_date',
    evidence_field: 'broadcast_evidence',
    rate: true,
  },
]

function sheet(over: Partial<Village> = {}): VillageSheet {
  const village = {
    id: '0190f0a0-0000-7000-8000-000000000001',
    code: '530826103201',
    name: '新文村',
    township: '勐康镇',
    county: '澜江县',
    province: '云南省',
    rural_population: 1200,
    poor_village: true,
    exit_year: null,
    hardened_road: true,
    road_date: '2018-10-01',
    road_evidence: '县交通局验收单',
    broadcast_coverage: 99.5,
    broadcast_date: null,
    broadcast_evidence: '',
    ...over,
  } as unknown as Village
  return {
    village,
    base: { id: village.id, heads: {} },
    filed_households: 300,
    filed_people: 1100,
    checklist,
    editable: true,
  }
}

const TODAY = '2019-07-01'

describe('村情 form', () => {
  it('reads the loaded village into the form and back unchanged', () => {
    const s = sheet()
    const f = formOf(s)
    expect(f.items.map((i) => [i.code, i.met, i.coverage, i.date])).toEqual([
      ['road', true, null, '2018-10-01'],
      ['broadcast', null, 99.5, null],
    ])
    expect(formChanged(f, s)).toBe(false)
    expect(villageOf(f, s)).toEqual(s.village)
    expect(formProblems(f, s, TODAY)).toEqual([])
  })

  it('writes what was typed into the village fields', () => {
    const s = sheet()
    const f = formOf(s)
    f.rural_population = 1300
    f.items[0]!.evidence = '  验收单 17 号 '
    f.items[1]!.coverage = 100
    f.items[1]!.date = '2019-05-01'
    const v = villageOf(f, s) as unknown as Record<string, unknown>
    expect(v.rural_population).toBe(1300)
    expect(v.road_evidence).toBe('验收单 17 号')
    expect(v.broadcast_coverage).toBe(100)
    expect(v.broadcast_date).toBe('2019-05-01')
    expect(formChanged(f, s)).toBe(true)
  })

  const cases: [string, (f: ReturnType<typeof formOf>) => void, string][] = [
    ['农村人口 below the filed people', (f) => (f.rural_population = 1000), '农村人口 1000 人少于本村已建档的 1100 人（300 户）'],
    ['negative 农村人口', (f) => (f.rural_population = -1), '农村人口应是不小于 0 的整数'],
    ['退出年度 of a village not 贫困村', (f) => ((f.poor_village = false), (f.exit_year = 2018)), '只有贫困村才有退出年度'],
    ['退出年度 next year', (f) => (f.exit_year = 2020), '退出年度 2020 晚于今年（2019年）'],
    ['达标日期 in the future', (f) => (f.items[0]!.date = '2019-07-02'), '通硬化路达标日期 2019-07-02 晚于今天'],
    ['达标日期 on an item marked 否', (f) => (f.items[0]!.met = false), '通硬化路填的是“否”（未达标），不能有达标日期'],
    ['coverage over 100', (f) => (f.items[1]!.coverage = 101), '广播电视覆盖率 101 不合理'],
    ['佐证材料 too long', (f) => (f.items[0]!.evidence = '文'.repeat(501)), '通硬化路佐证材料最多 500 个字'],
  ]
  for (const [name, edit, message] of cases) {
    it(`refuses ${name}`, () => {
      const s = sheet()
      const f = formOf(s)
      edit(f)
      const problems = formProblems(f, s, TODAY)
      expect(problems).toHaveLength(1)
      expect(problems[0]).toContain(message)
    })
  }
})
