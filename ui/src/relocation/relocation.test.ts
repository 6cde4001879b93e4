import { describe, expect, it } from 'vitest'
import type { HouseholdRelocation } from '../api'
import {
  asksSiteVillage,
  moveQuestion,
  moveReminder,
  nextStageForm,
  siteVillageAsk,
  siteVillagePreset,
  siteVillageText,
  stageNote,
  stageProblem,
  stageSteps,
  type StageForm,
} from './relocation'

const TODAY = '2025-06-15'

function box(stages: [string, string, string, number | null][]): HouseholdRelocation {
  return {
    relevant: true,
    site: stages.length ? '勐康镇集镇安置点' : '',
    stages: stages.map(([stage, label, date, loan], i) => ({
      id: `s${i}`,
      stage,
      label,
      site: '勐康镇集镇安置点',
      stage_date: date,
      loan,
      note: '',
    })),
    next_stage: ['1', '2', '3', '4', '5'].find((c) => !stages.some(([s]) => s === c)) ?? null,
    loans: stages.reduce((sum, [, , , loan]) => sum + (loan ?? 0), 0),
    editable: true,
    site_village: null,
    move_offer: null,
    site_village_missing: false,
    site_village_hint: null,
  }
}

const started = box([
  ['1', '开工', '2025-03-10', 30000],
  ['2', '基础', '2025-05-20', null],
])

describe('stageProblem', () => {
  const form = (edit: Partial<StageForm>): StageForm => ({ ...nextStageForm(started, TODAY), ...edit })
  const cases: [string, StageForm, string | null][] = [
    ['next stage today', form({}), null],
    ['no site', form({ site: ' ' }), '请填写安置点。'],
    ['no stage', form({ stage: '' }), '请选择建设进度。'],
    ['repeat', form({ stage: '2' }), '本户已登记过“基础”（2025-05-20），同一进度不能重复登记。'],
    ['future', form({ stage_date: '2025-07-01' }), '日期 2025-07-01 晚于今天。'],
    ['before an earlier stage', form({ stage_date: '2025-05-01' }), '“主体”的日期 2025-05-01 早于已登记的“基础”（2025-05-20）。'],
    [
      'a later stage already recorded',
      { ...nextStageForm(box([['3', '主体', '2025-04-01', null]]), TODAY), stage: '1', stage_date: '2025-05-01' },
      '“开工”的日期 2025-05-01 晚于已登记的“主体”（2025-04-01）。',
    ],
    ['negative loan', form({ loan: -1 }), '贷款金额不能为负数。'],
  ]
  for (const [name, f, expected] of cases) {
    it(name, () => {
      const against = name === 'a later stage already recorded' ? box([['3', '主体', '2025-04-01', null]]) : started
      expect(stageProblem(f, against, TODAY)).toBe(expected)
    })
  }
})

describe('stages and the next form', () => {
  it('lists every stage in order with what is recorded', () => {
    expect(stageSteps(started).map((s) => [s.label, s.line?.stage_date ?? null])).toEqual([
      ['开工', '2025-03-10'],
      ['基础', '2025-05-20'],
      ['主体', null],
      ['竣工', null],
      ['入住', null],
    ])
  })
  it('offers the next stage at the same site', () => {
    expect(nextStageForm(started, TODAY)).toEqual({
      site: '勐康镇集镇安置点',
      stage: '3',
      stage_date: TODAY,
      loan: null,
      note: '',
      site_village: '',
    })
  })
  it('keeps the 安置点\'s village already named', () => {
    const named = { ...started, site_village: { code: '530826103202', name: '勐康村' } }
    expect(nextStageForm(named, TODAY).site_village).toBe('530826103202')
  })
  it('starts a relocation with 开工 and no site', () => {
    expect(nextStageForm(box([]), TODAY)).toMatchObject({ site: '', stage: '1' })
  })
})

describe('stageNote', () => {
  const line = { ...started.stages[0]!, note: '第一批' }
  it('is the note at the household\'s site', () => expect(stageNote(line, '勐康镇集镇安置点')).toBe('第一批'))
  it('names another site', () => expect(stageNote(line, '新址')).toBe('安置点：勐康镇集镇安置点；第一批'))
  it('is empty for a stage ahead', () => expect(stageNote(null, '新址')).toBe(''))
})

describe('moving into a 安置点 of another village', () => {
  it('asks for the 安置点\'s village at 入住 only', () => {
    const at = (stage: string) => asksSiteVillage({ ...nextStageForm(started, TODAY), stage })
    expect(at('5')).toBe(true)
    expect(['1', '2', '3', '4'].map(at)).toEqual([false, false, false, false])
  })
  it('asks before moving, naming both villages, the 安置点 and the new 户编号', () => {
    const offer = {
      household_id: 'h1',
      household_code: '530826103201007',
      from_village: '新文村',
      to_village_code: '530826103202',
      to_village_name: '勐康村',
      new_code: '530826103202003',
      site: '勐康镇集镇安置点',
    }
    expect(moveQuestion(offer)).toBe(
      '户 530826103201007 已入住勐康村的安置点（勐康镇集镇安置点），本户现属新文村。是否把本户迁入勐康村？迁入后户编号改为 530826103202003。',
    )
    expect(moveQuestion({ ...offer, from_village: '' })).toContain('本户仍在原村。')
  })
  it('keeps saying where the household lives while it is filed elsewhere', () => {
    const offer = {
      household_id: 'h1',
      household_code: '530826103201007',
      from_village: '新文村',
      to_village_code: '530826103202',
      to_village_name: '勐康村',
      new_code: '530826103202003',
      site: '勐康镇集镇安置点',
    }
    expect(moveReminder(offer)).toBe('本户已入住勐康村的安置点，仍在新文村建档。')
    expect(moveReminder({ ...offer, from_village: '' })).toBe('本户已入住勐康村的安置点，尚未迁入。')
  })
  it('names the 安置点\'s village, or its code when this file lacks it', () => {
    expect(siteVillageText({ code: '530826103202', name: '勐康村' })).toBe('勐康村（530826103202）')
    expect(siteVillageText({ code: '530826103299', name: '' })).toBe('村代码 530826103299（本数据文件中没有该村）')
  })
})

describe('a 安置点 village missing on an old 入住', () => {
  const movedIn = box([
    ['1', '开工', '2017-03-10', null],
    ['5', '入住', '2017-10-01', null],
  ])
  it('is not asked while the box names it or before 入住', () => {
    expect(siteVillageAsk(movedIn)).toBeNull()
    expect(siteVillagePreset(movedIn)).toBe('')
  })
  it('says 未填 and asks for it, with no village chosen when nothing hints one', () => {
    const missing = { ...movedIn, site_village_missing: true }
    expect(siteVillageAsk(missing)).toBe('未填：本户入住时没有登记安置点所在村，请补填。')
    expect(siteVillagePreset(missing)).toBe('')
  })
  it('names the village the other households of the site named, chosen but not saved', () => {
    const hinted = {
      ...movedIn,
      site_village_missing: true,
      site_village_hint: { village: { code: '530826103202', name: '勐康村' }, households: 3 },
    }
    expect(siteVillageAsk(hinted)).toBe(
      '未填：本户入住时没有登记安置点所在村，请补填。同一安置点“勐康镇集镇安置点”的其他 3 户填的是勐康村（530826103202），请核对。',
    )
    expect(siteVillagePreset(hinted)).toBe('530826103202')
  })
})
