import { describe, expect, it } from 'vitest'
import type { ExitStepName, TrailRecord } from '../api'
import { blankForm, isoDay, missingDate, noticeDays, recordAction, recordDetails, stepFields } from './stepForm'

describe('stepFields', () => {
  it.each<[ExitStepName, string[]]>([
    ['survey', ['household_signed', 'food_secure', 'clothing_secure']],
    ['deliberation', ['vote_type', 'vote_result', 'work_team_present']],
    ['public_notice', ['notice_start', 'notice_end', 'objections', 'objection_handling']],
    ['township_check', ['vote_result']],
    ['county_approval', ['vote_result']],
  ])('%s asks for its own fields between date/people and signatures/notes', (step, own) => {
    expect(stepFields(step)).toEqual(['step_date', 'people', ...own, 'signatures', 'notes'])
  })
})

describe('recordAction', () => {
  it('sends the survey with the household refusing to sign', () => {
    const form = blankForm('survey', '2017-08-01')
    Object.assign(form, { people: ' 村委会 王村长 ', household_signed: false, food_secure: true, clothing_secure: true })
    expect(recordAction('survey', form)).toEqual({
      action: 'record',
      step: 'survey',
      date: '2017-08-01',
      people: '村委会 王村长',
      signatures: '',
      notes: '',
      household_signed: false,
      food_secure: true,
      clothing_secure: true,
      vote_type: '',
      result: '',
      work_team_present: null,
      notice_start: null,
      notice_end: null,
      objections: '',
      objection_handling: '',
    })
  })

  it('maps the catalog name vote_result to the record result, and drops what the step does not ask', () => {
    const form = blankForm('deliberation', '2017-08-05')
    Object.assign(form, { vote_type: '2', vote_result: '1', work_team_present: true, notice_start: '2017-08-06', household_signed: true })
    const action = recordAction('deliberation', form)
    expect(action).toMatchObject({ action: 'record', step: 'deliberation', vote_type: '2', result: '1', work_team_present: true })
    expect(action).toMatchObject({ notice_start: null, household_signed: null })
  })

  it('keeps the notice dates of the public notice and empties blank dates', () => {
    const form = blankForm('public_notice', '2017-08-11')
    Object.assign(form, { notice_start: '2017-08-06', notice_end: '' })
    expect(recordAction('public_notice', form)).toMatchObject({ notice_start: '2017-08-06', notice_end: null })
  })
})

describe('form helpers', () => {
  it('a blank form is dated today with empty text and no flags', () => {
    const form = blankForm('township_check', '2017-08-20')
    expect(form).toEqual({ step_date: '2017-08-20', people: '', vote_result: '', signatures: '', notes: '' })
    expect(missingDate(form)).toBeNull()
    expect(missingDate({ ...form, step_date: null })).toBe('请填写日期。')
  })

  it('counts notice days with both ends, as the core does', () => {
    expect(noticeDays('2017-08-06', '2017-08-10')).toBe(5)
    expect(noticeDays('2017-08-06', '2017-08-06')).toBe(1)
    expect(noticeDays('2017-08-06', null)).toBeNull()
  })

  it('formats a day in the local calendar', () => {
    expect(isoDay(new Date(2017, 7, 1))).toBe('2017-08-01')
  })
})

function record(over: Partial<TrailRecord>): TrailRecord {
  return {
    id: 'r', household_id: null, seq: 1, round: 1, action: '1', step: '1', step_date: '2017-08-01', people: '', signatures: '',
    household_signed: null, food_secure: null, clothing_secure: null, vote_type: '', vote_result: '',
    work_team_present: null, notice_start: null, notice_end: null, objections: '', objection_handling: '',
    reason: '', notes: '', action_label: '办理', step_label: '入户调查', vote_type_label: '', result_label: '',
    irregular: null, ...over,
  }
}

describe('recordDetails', () => {
  it.each<[string, Partial<TrailRecord>, string[]]>([
    ['a refused survey', { household_signed: false, food_secure: true, clothing_secure: false },
      ['贫困户拒绝签字（出具《贫困户帮扶情况认定表》）', '不愁吃：是；不愁穿：否']],
    ['a deliberation', { step: '2', vote_type_label: '举手表决', result_label: '同意', work_team_present: true },
      ['举手表决，同意；驻村工作队参加：是']],
    ['a notice with objections', { step: '3', notice_start: '2017-08-06', notice_end: '2017-08-10', objections: '邻居反映收入不实', objection_handling: '复核属实后维持' },
      ['公示 2017-08-06 至 2017-08-10', '异议：邻居反映收入不实；处理：复核属实后维持']],
    ['a send-back', { action: '2', step: '2', reason: '材料不全', notes: '不显示' }, ['退回原因：材料不全']],
    ['a return to poverty', { action: '3', reason: '因病返贫' }, ['返贫原因：因病返贫']],
    ['a county approval with notes', { step: '5', result_label: '同意', notes: '已销号' }, ['结果：同意', '备注：已销号']],
  ])('%s', (_, over, lines) => {
    expect(recordDetails(record(over))).toEqual(lines)
  })
})
