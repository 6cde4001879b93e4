// The 驻村工作队 form's arithmetic: a blank member, a member loaded for the 修改 dialog, the
// first problem to show before saving (the core checks the same and more), and the line a
// member is listed under.
import type { NewTeamMember, TeamEntry } from '../api'

export function blankMember(villageId: string, today: string): NewTeamMember {
  return {
    village_id: villageId,
    name: '',
    sex: '',
    role: '',
    unit: '',
    unit_level: '',
    post: '',
    phone: '',
    start_date: today,
    note: '',
  }
}

const MOBILE = /^1[3-9]\d{9}$/
// Office lines with their area code, as the core asks: 0879-1234567, 08791234567.
const LANDLINE = /^0\d{2,3}-?\d{7,8}(-\d{1,5})?$/

/** The first thing missing or wrong, in the words of the form; `null` when it may be saved. */
export function memberProblem(m: NewTeamMember, today: string): string | null {
  if (!m.village_id) return '请先选择村。'
  if (!m.name.trim()) return '请填写姓名。'
  if (!m.role.trim()) return '请选择队内职务。'
  if (!m.unit.trim()) return '请填写派出单位。'
  if (!m.start_date) return '请填写驻村日期。'
  if (m.start_date > today) return `驻村日期 ${m.start_date} 晚于今天。`
  const phone = m.phone.trim()
  if (phone && !MOBILE.test(phone) && !LANDLINE.test(phone)) return `联系电话“${phone}”不是手机号或座机号。`
  return null
}

/** The 修改 dialog's form of a listed member: its values as the forms say them (the core
 *  takes labels or codes). */
export function memberForm(m: TeamEntry): NewTeamMember {
  return {
    village_id: m.village_id,
    name: m.name,
    sex: m.sex,
    role: m.role,
    unit: m.unit,
    unit_level: m.unit_level,
    post: m.post,
    phone: m.phone,
    start_date: m.start_date,
    note: m.note,
  }
}

/** The 修改 dialog's first problem: the member's own, then its 离村日期 (empty: still serving). */
export function editProblem(m: NewTeamMember, end: string | null, today: string): string | null {
  const own = memberProblem(m, today)
  if (own) return own
  if (!end) return null
  if (end > today) return `离村日期 ${end} 晚于今天。`
  if (m.start_date && end < m.start_date) return `离村日期 ${end} 早于驻村日期 ${m.start_date}。`
  return null
}

/** The problem with a 离村日期 for `member`; `null` when it may be recorded. */
export function endProblem(member: TeamEntry, end: string, today: string): string | null {
  if (!end) return '请填写离村日期。'
  if (end > today) return `离村日期 ${end} 晚于今天。`
  if (member.start_date && end < member.start_date) return `离村日期 ${end} 早于驻村日期 ${member.start_date}。`
  return null
}

/** `2024-03-01 起` or `2022-01-01 至 2024-02-29`. */
export function servingText(m: TeamEntry): string {
  if (m.start_date && m.end_date) return `${m.start_date} 至 ${m.end_date}`
  if (m.start_date) return `${m.start_date} 起`
  if (m.end_date) return `至 ${m.end_date}`
  return ''
}

/** Today as the forms write dates (local time, not UTC: a laptop in 云南 at 07:00 is still today). */
export function todayText(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}
