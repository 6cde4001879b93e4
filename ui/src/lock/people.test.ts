import { describe, expect, it } from 'vitest'
import { actorLine, pinProblem, roleLabel } from './people'

describe('people', () => {
  it.each([
    ['2468', '2468', null],
    ['12345678', '12345678', null],
    ['123', '123', 'PIN 码要由 4 到 8 位数字组成。'],
    ['123456789', '123456789', 'PIN 码要由 4 到 8 位数字组成。'],
    ['12a4', '12a4', 'PIN 码要由 4 到 8 位数字组成。'],
    ['2468', '2469', '两次输入的 PIN 码不一样，请重新输入。'],
  ])('PIN %s / %s', (pin, again, problem) => {
    expect(pinProblem(pin, again)).toBe(problem)
  })

  it('names roles as people know them', () => {
    expect(roleLabel('leader')).toBe('第一书记/队长')
    expect(actorLine({ person_id: 1, name: '王队员', role: 'member' })).toBe('王队员（队员）')
  })
})
