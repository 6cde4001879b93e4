// What the person signed in may not do, as the core said it when they signed in (`signed_in`'s
// refusals): a box disables the buttons of an act the core would refuse and shows why, before
// anyone tries. The core refuses the act again whatever the window shows.
import { reactive } from 'vue'
import type { Permission, SignedIn } from '../api'

const state = reactive<{ refusals: Map<Permission, string> }>({ refusals: new Map() })

/** Takes who is signed in (null: nobody yet, or the file could not say). */
export function setSignedIn(signedIn: SignedIn | null): void {
  state.refusals = new Map((signedIn?.refusals ?? []).map((r) => [r.permission, r.message]))
}

/** The core's refusal of `permission` for the person signed in; null when they may. */
export function refusalOf(permission: Permission): string | null {
  return state.refusals.get(permission) ?? null
}

/** The refusal's first sentence (只有…可以录入或修改户的信息。), short enough beside a button. */
export function shortRefusal(permission: Permission): string | null {
  const message = refusalOf(permission)
  if (message === null) return null
  const end = message.indexOf('。')
  return end < 0 ? message : message.slice(0, end + 1)
}
