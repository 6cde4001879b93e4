import { describe, expect, it } from 'vitest'
import type { Village } from '../api'
import { choiceOf, defaultFileName, scopeChoices, targetPath } from './scope'

function village(code: string, name: string, township: string): Village {
  return {
    id: code,
    code,
    name,
    township,
    county: '',
    province: '云南省',
    rural_population: null,
    hardened_road: null,
    power_grid: null,
    broadcast_coverage: null,
    broadband: null,
    safe_water: null,
    standard_clinic: null,
    public_venue: null,
    school_access: null,
    poor_village: null,
    exit_year: null,
    road_date: null,
    road_evidence: '',
    power_date: null,
    power_evidence: '',
    broadcast_date: null,
    broadcast_evidence: '',
    broadband_date: null,
    broadband_evidence: '',
    water_date: null,
    water_evidence: '',
    clinic_date: null,
    clinic_evidence: '',
    venue_date: null,
    venue_evidence: '',
    school_date: null,
    school_evidence: '',
  }
}

const VILLAGES = [
  village('530826103202', '大寨村', '勐康镇'),
  village('530826104201', '河口村', '勐腊乡'),
  village('530826103201', '新寨村', '勐康镇'),
  village('530826999999', '无乡镇村', ''),
]

describe('scopeChoices', () => {
  it('offers everything, then each township followed by its villages in code order', () => {
    expect(scopeChoices(VILLAGES).map((c) => [c.key, c.unit])).toEqual([
      ['all', '全部'],
      ['t:勐康镇', '勐康镇'],
      ['v:530826103201', '新寨村'],
      ['v:530826103202', '大寨村'],
      ['t:勐腊乡', '勐腊乡'],
      ['v:530826104201', '河口村'],
      ['v:530826999999', '无乡镇村'],
    ])
  })

  it('gives the core the scope it takes', () => {
    const choices = scopeChoices(VILLAGES)
    expect(choiceOf(choices, 't:勐腊乡').scope).toEqual({ by: 'township', value: '勐腊乡' })
    expect(choiceOf(choices, 'v:530826103202').scope).toEqual({ by: 'village', value: '530826103202' })
    expect(choiceOf(choices, 'v:gone').scope).toEqual({ by: 'all' })
  })
})

describe('file names', () => {
  const day = new Date(2025, 5, 15)

  it('names the unit, the ledger and the date', () => {
    expect(defaultFileName('新寨村', '贫困户台帐', day)).toBe('新寨村贫困户台帐-20250615.xlsx')
  })

  it('replaces characters a Windows file name cannot hold', () => {
    expect(defaultFileName('一/二:村', '收入台帐', day)).toBe('一_二_村收入台帐-20250615.xlsx')
  })

  const cases: [typed: string, expected: string | null][] = [
    ['', null],
    ['   ', null],
    ['/media/usb', '/media/usb/a.xlsx'],
    ['/media/usb/', '/media/usb/a.xlsx'],
    ['  /media/usb  ', '/media/usb/a.xlsx'],
    ['D:\\台帐', 'D:\\台帐\\a.xlsx'],
    ['D:\\台帐\\', 'D:\\台帐\\a.xlsx'],
    ['/media/usb/自己起的名.XLSX', '/media/usb/自己起的名.XLSX'],
    ['/', '/a.xlsx'],
  ]
  it.each(cases)('folder %j writes %j', (typed, expected) => {
    expect(targetPath(typed, 'a.xlsx')).toBe(expected)
  })
})
