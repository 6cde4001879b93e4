// Which page the window shows, and the one rule of moving between pages: a page with unsaved
// changes is asked first. No router library: five pages and one guard do not need one.
import { reactive } from 'vue'

export type Route =
  | { name: 'list' }
  | { name: 'household'; id: string | null; draft?: string }
  | { name: 'overview' }
  | { name: 'sync' }
  | { name: 'review' }
  | { name: 'exit' }
  | { name: 'standards' }
  | { name: 'team' }
  | { name: 'village' }
  | { name: 'ledger' }
  | { name: 'settings' }

export const route = reactive<{ current: Route }>({ current: { name: 'list' } })

/** Resolves to true when the page may be left. */
type LeaveGuard = () => Promise<boolean>
let guard: LeaveGuard | null = null

export function setLeaveGuard(next: LeaveGuard | null) {
  guard = next
}

/** Goes to `to` unless the current page's guard says no; resolves to whether it went. */
export async function navigate(to: Route): Promise<boolean> {
  if (guard && !(await guard())) return false
  route.current = to
  return true
}
