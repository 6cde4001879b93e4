// The 政策享受 box's wording of the core's entitlements: the state labels (the core's
// `DueState::label`), which lines need action, and amounts in 元.
import type { DueState, Entitlement } from '../api'

const LABELS: Record<DueState, string> = {
  due: '应享未享',
  short: '未足额',
  over: '超标准',
  not_qualified: '不符合条件',
  received: '已享受',
}

export function stateLabel(state: DueState): string {
  return LABELS[state]
}

export function needsAction(line: Entitlement): boolean {
  return line.state !== 'received'
}

export function yuan(value: number | null): string {
  if (value === null) return '—'
  return Number.isInteger(value) ? String(value) : value.toFixed(2)
}
