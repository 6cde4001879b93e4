import { describe, expect, it } from 'vitest'
import type { Entitlement } from '../api'
import { needsAction, stateLabel, yuan } from './entitlements'

const line = (state: Entitlement['state']): Entitlement => ({
  household_id: 'h',
  household_code: '530826103201001',
  head_name: '李发',
  member_id: null,
  member_name: '',
  policy_code: 'industry_2355',
  policy_name: '产业扶持（2355）',
  path: '发展产业',
  qualifies: true,
  allowed: 6000,
  received: 5000,
  measures: 1,
  owed: 1000,
  excess: 0,
  state,
})

describe('entitlements', () => {
  it('words each state as the core does and flags all but received', () => {
    const cases: [Entitlement['state'], string, boolean][] = [
      ['due', '应享未享', true],
      ['short', '未足额', true],
      ['over', '超标准', true],
      ['not_qualified', '不符合条件', true],
      ['received', '已享受', false],
    ]
    for (const [state, label, action] of cases) {
      expect([stateLabel(state), needsAction(line(state))]).toEqual([label, action])
    }
  })

  it('writes amounts in yuan, a dash for none', () => {
    expect([yuan(6000), yuan(1234.5), yuan(null)]).toEqual(['6000', '1234.50', '—'])
  })
})
