import { describe, expect, it } from 'vitest'
import type { ExitStepName, ExitVocabulary } from '../api'
import { batchOf, blankForm, exceptionNotes, isoDay, missingDate, noticeDays, recordAction, signerRolesOf, signersOf, stepFields } from './stepForm'

/** The vocabulary as the core's exit_vocabulary command sends it (crates/bangfu-core/src/exit/forms.rs). */
const own: [ExitStepName, string, string[], string[]][] = [
  ['survey', '入户调查', ['household_signed', 'food_secure', 'clothing_secure'], []],
  ['deliberation', '村两委商议', ['vote_type', 'vote_result', 'work_team_present'], []],
  [
    'public_notice',
    '村评议公示',
    ['review_date', 'review_attendance', 'review_agreed', 'notice_start', 'notice_end', 'objections', 'objection_handling'],
    ['村党总支书记', '村主任', '第一书记', '入户核查人员'],
  ],
  ['township_check', '乡镇核查公告', ['vote_result'], ['乡镇党委书记', '乡镇长', '分管领导', '扶贫工作站站长或扶贫专干']],
  ['county_approval', '县审定销号', ['vote_result'], ['县委书记', '县长', '分管领导', '扶贫办主任', '统计局长']],
]
const V: ExitVocabulary = {
  steps: own.map(([step, label, fields, roles]) => ({
    step,
    label,
    fields: ['step_date', 'people', ...fields, 'signatures', 'notes'],
    signers: `${label}的签字人`,
    signer_roles: roles,
  })),
  notice_days_offset: 1,
}

describe('stepFields', () => {
  it.each<[ExitStepName, string[]]>([
    ['survey', ['household_signed', 'food_secure', 'clothing_secure']],
    ['deliberation', ['vote_type', 'vote_result', 'work_team_present']],
    ['public_notice', ['review_date', 'review_attendance', 'review_agreed', 'notice_start', 'notice_end', 'objections', 'objection_handling']],
    ['township_check', ['vote_result']],
    ['county_approval', ['vote_result']],
  ])('%s asks for its own fields between date/people and signatures/notes', (step, own) => {
    expect(stepFields(V, step)).toEqual(['step_date', 'people', ...own, 'signatures', 'notes'])
  })
})

describe('recordAction', () => {
  it('sends the survey with the household refusing to sign', () => {
    const form = blankForm(V, 'survey', '2017-08-01')
    Object.assign(form, { people: ' 村委会 王村长 ', household_signed: false, food_secure: true, clothing_secure: true })
    expect(recordAction(V, 'survey', form)).toEqual({
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
    const form = blankForm(V, 'deliberation', '2017-08-05')
    Object.assign(form, { vote_type: '2', vote_result: '1', work_team_present: true, notice_start: '2017-08-06', household_signed: true })
    const action = recordAction(V, 'deliberation', form)
    expect(action).toMatchObject({ action: 'record', step: 'deliberation', vote_type: '2', result: '1', work_team_present: true })
    expect(action).toMatchObject({ notice_start: null, household_signed: null })
  })

  it('keeps the notice dates of the public notice and empties blank dates', () => {
    const form = blankForm(V, 'public_notice', '2017-08-11')
    Object.assign(form, { notice_start: '2017-08-06', notice_end: '' })
    expect(recordAction(V, 'public_notice', form)).toMatchObject({ notice_start: '2017-08-06', notice_end: null })
  })
})

describe('form helpers', () => {
  it('a blank form is dated today with empty text and no flags', () => {
    const form = blankForm(V, 'township_check', '2017-08-20')
    expect(form).toEqual({ step_date: '2017-08-20', people: '', vote_result: '', signatures: '', notes: '' })
    expect(missingDate(form)).toBeNull()
    expect(missingDate({ ...form, step_date: null })).toBe('请填写日期。')
  })

  it('counts notice days with both ends, as the core does', () => {
    expect(noticeDays(V, '2017-08-06', '2017-08-10')).toBe(5)
    expect(noticeDays(V, '2017-08-06', '2017-08-06')).toBe(1)
    expect(noticeDays(V, '2017-08-06', null)).toBeNull()
  })

  it('takes the offset the core counts notice days with', () => {
    expect(noticeDays({ ...V, notice_days_offset: 0 }, '2017-08-06', '2017-08-10')).toBe(4)
  })

  it('gives the signers the core names for a step, and nothing for an unknown one', () => {
    expect(signersOf(V, 'public_notice')).toBe('村评议公示的签字人')
    expect(signersOf({ ...V, steps: [] }, 'survey')).toBe('')
    expect(stepFields({ ...V, steps: [] }, 'survey')).toEqual([])
  })

  it('formats a day in the local calendar', () => {
    expect(isoDay(new Date(2017, 7, 1))).toBe('2017-08-01')
  })

  it('sends the exception of 村两委商议 only with its reason, trimmed', () => {
    const form = blankForm(V, 'deliberation', '2017-08-05')
    const none = recordAction(V, 'deliberation', form, { reason: '  ', by: '李明' })
    expect(none).not.toHaveProperty('exception_reason')
    const given = recordAction(V, 'deliberation', form, { reason: ' 外出务工，电话确认 ', by: ' 李明 村党总支书记 ' })
    expect(given).toMatchObject({ exception_reason: '外出务工，电话确认', exception_by: '李明 村党总支书记' })
    expect(recordAction(V, 'survey', blankForm(V, 'survey', '2017-08-01'), { reason: '理由', by: '某' })).not.toHaveProperty(
      'exception_reason',
    )
  })
})

describe('村评议公示 with its 民主评议 and signers by role', () => {
  it('sends the review figures and one signer per role of the step', () => {
    const form = blankForm(V, 'public_notice', '2017-08-11')
    Object.assign(form, {
      people: '村委会',
      review_date: '2017-08-05',
      review_attendance: 40,
      review_agreed: 36,
      notice_start: '2017-08-06',
      notice_end: '2017-08-10',
    })
    const names = { 村党总支书记: '张书记', 村主任: ' 李主任 ', 第一书记: '王书记', 入户核查人员: '赵核查' }
    const action = recordAction(V, 'public_notice', form, undefined, names)
    expect(action).toMatchObject({
      review_date: '2017-08-05',
      review_attendance: 40,
      review_agreed: 36,
      signers: [
        { role: '村党总支书记', name: '张书记' },
        { role: '村主任', name: '李主任' },
        { role: '第一书记', name: '王书记' },
        { role: '入户核查人员', name: '赵核查' },
      ],
    })
    expect(signerRolesOf(V, 'survey')).toEqual([])
    expect('signers' in recordAction(V, 'survey', blankForm(V, 'survey', '2017-08-01'))).toBe(false)
  })

  it('leaves an unnamed role empty for the core to refuse', () => {
    const form = blankForm(V, 'county_approval', '2017-09-01')
    const action = recordAction(V, 'county_approval', form, undefined, { 县长: '孙县长' })
    expect(action).toMatchObject({ signers: expect.arrayContaining([{ role: '县委书记', name: '' }, { role: '县长', name: '孙县长' }]) })
  })
})

describe('one step for a list of households', () => {
  it('sends the step record without its action, for the chosen households', () => {
    const form = blankForm(V, 'public_notice', '2017-08-11')
    form.people = '村委会'
    form.notice_start = '2017-08-06'
    form.notice_end = '2017-08-10'
    const action = recordAction(V, 'public_notice', form)
    const batch = batchOf(action, ['a', 'b'], false)
    expect(batch).not.toBeNull()
    expect(batch!.households).toEqual(['a', 'b'])
    expect(batch!.skip_failing).toBe(false)
    expect(batch!.record).not.toHaveProperty('action')
    expect(batch!.record).toMatchObject({ step: 'public_notice', date: '2017-08-11', people: '村委会', notice_end: '2017-08-10' })
    expect(batchOf(action, ['a'], true)!.skip_failing).toBe(true)
  })

  it('carries the exception reasons of chosen households at 村两委商议 only', () => {
    const form = blankForm(V, 'deliberation', '2017-08-05')
    form.people = '村两委'
    const exceptions = {
      b: { reason: ' 因病住院，已落实医疗救助 ', by: '王五（村党总支书记）' },
      c: { reason: '未选中的户', by: '王五' },
      d: { reason: '', by: '' },
    }
    const batch = batchOf(recordAction(V, 'deliberation', form), ['a', 'b', 'd'], false, exceptions, true)!
    expect(batch.exceptions).toEqual([{ household_id: 'b', reason: '因病住院，已落实医疗救助', by: '王五（村党总支书记）' }])
    expect(batch.check_only).toBe(true)
    const notice = blankForm(V, 'public_notice', '2017-08-11')
    expect(batchOf(recordAction(V, 'public_notice', notice), ['b'], false, exceptions)!.exceptions).toEqual([])
  })

  it('has nothing to send for a send-back or 返贫', () => {
    expect(batchOf({ action: 'return_to_poverty', date: '2019-03-01', people: '工作队', reason: '因病' }, ['a'], false)).toBeNull()
  })
})

describe('exception reasons a household did not need', () => {
  it('names each such household: the step went through without its reason', () => {
    expect(exceptionNotes({ exceptions_not_needed: ['530826103201001'] })).toEqual([
      '户 530826103201001 达到标准且已签字认可，不需要例外理由，例外理由未记录。',
    ])
    expect(exceptionNotes({ exceptions_not_needed: [] })).toEqual([])
  })
})
