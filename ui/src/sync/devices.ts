// The 设备 box's words: each device's state as the station clerk says it, what waits for it,
// and which actions the box offers. Kept apart from the component so that it is tested.
import type { DeviceEntry } from '../bindings/DeviceEntry'

/** Whether another 安全码 of the same device is confirmed: this one is then not the device's
 * (a file under it may be 冒充), and cannot be confirmed. */
export function rivalOfConfirmed(d: DeviceEntry, all: DeviceEntry[]): boolean {
  return !d.confirmed && all.some((o) => o !== d && o.device === d.device && o.confirmed)
}

/** 本机, 已确认, 待确认设备, or 安全码不符 when another key of the device is confirmed. */
export function deviceState(d: DeviceEntry, all: DeviceEntry[] = []): string {
  if (d.own) return '本机'
  if (rivalOfConfirmed(d, all)) return '安全码不符（疑似冒充）'
  if (!d.confirmed) return '待确认设备'
  // On the county's word: 改认 of the county's 安全码 takes it back until the new one vouches.
  return d.county_vouched ? '已确认（县里担保）' : '已确认'
}

/** The village a confirmed device is limited to, or that it is not limited. */
export function villageLimit(d: DeviceEntry, names: Map<string, string>): string {
  if (d.own) return ''
  if (!d.village) return d.confirmed ? '不限村' : ''
  const name = names.get(d.village)
  return name ? `限 ${name}（${d.village}）` : `限 ${d.village} 村`
}

/** What waits for the device, in words; empty when nothing does. */
export function waiting(d: DeviceEntry, all: DeviceEntry[] = []): string {
  if (d.held_files === 0 || (d.confirmed && d.village === null)) return ''
  if (rivalOfConfirmed(d, all)) return `暂存同步文件 ${d.held_files} 个：签名与已确认的安全码不符，核实不是那台设备后选“不合并”`
  return d.confirmed
    ? `暂存同步文件 ${d.held_files} 个：有超出本村的修改，核实后可合并`
    : `暂存同步文件 ${d.held_files} 个：确认后合并`
}

/** What the box offers for a device: confirming one not confirmed yet; merging what a
 * village-limited device did outside its village; declining what waits (不合并); changing the
 * village a confirmed device is limited to; taking a confirmation back (取消确认: confirmed by
 * mistake, the hub brings another 安全码 for it). */
export function actions(
  d: DeviceEntry,
  all: DeviceEntry[] = [],
): { confirm: boolean; merge: boolean; drop: boolean; village: boolean; unconfirm: boolean } {
  if (d.own) return { confirm: false, merge: false, drop: false, village: false, unconfirm: false }
  const waits = waiting(d, all) !== ''
  return {
    // A person's confirmation only: the county's would come back with the next sync.
    unconfirm: d.confirmed && !d.county_vouched,
    // A second 安全码 of a device whose key is confirmed is only declined (不合并).
    confirm: !d.confirmed && !rivalOfConfirmed(d, all),
    // Merging what waits outside a village is for a device limited to one.
    merge: d.confirmed && d.village !== null && d.held_files > 0,
    drop: waits,
    village: d.confirmed,
  }
}

/** Devices waiting first, then the unconfirmed, then by name; this copy's own last. */
export function ordered(list: DeviceEntry[]): DeviceEntry[] {
  const rank = (d: DeviceEntry) => (d.own ? 3 : d.held_files > 0 ? 0 : d.confirmed ? 2 : 1)
  return [...list].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'zh'))
}

/** Whether a typed 安全码 is the device's: digits compared, spaces and dashes ignored. */
export function sameFingerprint(typed: string, fingerprint: string): boolean {
  const digits = (s: string) => s.replace(/[^0-9]/g, '')
  return digits(typed).length > 0 && digits(typed) === digits(fingerprint)
}
