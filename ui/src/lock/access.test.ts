import { describe, expect, it } from 'vitest'
import type { SignedIn } from '../api'
import { refusalOf, setSignedIn, shortRefusal } from './access'

const FILING = '只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。您的角色是只读。请让有权限的人登录后再办理。'

function signedIn(refusals: SignedIn['refusals']): SignedIn {
  return { people_defined: true, actor: { person_id: 1, name: '陈检查', role: 'read_only' }, names: ['陈检查'], refusals }
}

describe('what the signed-in person may not do', () => {
  it('a 只读 inspector is refused filing with the core’s words, short beside a button', () => {
    setSignedIn(signedIn([{ permission: 'file_households', message: FILING }]))
    expect(refusalOf('file_households')).toBe(FILING)
    expect(shortRefusal('file_households')).toBe('只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。')
    expect(refusalOf('export_ledgers')).toBeNull()
  })

  it('a file without people, or a 队员, is refused nothing here', () => {
    setSignedIn({ people_defined: false, actor: null, names: [], refusals: [] })
    expect(refusalOf('file_households')).toBeNull()
    setSignedIn(signedIn([{ permission: 'exit_steps', message: '只有第一书记或队长可以办理退出步骤。' }]))
    expect(shortRefusal('file_households')).toBeNull()
    expect(shortRefusal('exit_steps')).toBe('只有第一书记或队长可以办理退出步骤。')
    setSignedIn(null)
    expect(refusalOf('exit_steps')).toBeNull()
  })
})
