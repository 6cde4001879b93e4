// What the sign-in screen and 设置 → 人员 show about people: role names and the PIN's shape.
// The core checks both again (a PIN of 4 to 8 digits, the roles it knows); this only answers
// sooner, before a round trip.
import type { Actor, Role } from '../api'

/** The roles in the order the add form offers them, with the names people know them by. */
export const ROLES: [Role, string][] = [
  ['member', '队员'],
  ['leader', '第一书记/队长'],
  ['township_admin', '乡镇管理员'],
  ['read_only', '只读'],
]

export function roleLabel(role: Role): string {
  return ROLES.find(([r]) => r === role)?.[1] ?? role
}

/** What is wrong with a new PIN typed twice, or null. */
export function pinProblem(pin: string, again: string): string | null {
  if (!/^[0-9]{4,8}$/.test(pin)) return 'PIN 码要由 4 到 8 位数字组成。'
  if (pin !== again) return '两次输入的 PIN 码不一样，请重新输入。'
  return null
}

/** The header's line about who is signed in. */
export function actorLine(actor: Actor): string {
  return `${actor.name}（${roleLabel(actor.role)}）`
}
