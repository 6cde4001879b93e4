// What the status line in the window header says about the county hub, from the shell's
// HubView: pure, so the wording is tested without the app.
import type { HubView } from '../api'

export type LinkTone = 'online' | 'offline' | 'busy' | 'none'

export interface HubLine {
  /** 在线 / 离线 / 同步中… / 未加入县同步中心 */
  state: string
  tone: LinkTone
  /** 上次同步 …, or null when never synced (or not enrolled). */
  lastSync: string | null
  /** 待上传 N 条修改, or null when not enrolled. */
  waiting: string | null
  /** The last error, in Chinese, for the tooltip. */
  error: string | null
}

/** 刚刚 / N 分钟前 / 今天 HH:MM / M月D日 HH:MM, counted from `now`. */
export function whenText(ms: number, now: number): string {
  const minutes = Math.floor((now - ms) / 60_000)
  if (minutes < 1) return '刚刚'
  if (minutes < 60) return `${minutes} 分钟前`
  const d = new Date(ms)
  const n = new Date(now)
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
  if (d.toDateString() === n.toDateString()) return `今天 ${hm}`
  return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`
}

export function hubLine(view: HubView, now: number): HubLine {
  if (!view.hub.enrolled) {
    return { state: '未加入县同步中心', tone: 'none', lastSync: null, waiting: null, error: null }
  }
  const { link, hub } = view
  let state = '连接中…'
  let tone: LinkTone = 'busy'
  if (link.syncing) {
    state = '同步中…'
  } else if (link.online === true) {
    state = '在线'
    tone = 'online'
  } else if (link.online === false) {
    state = '离线'
    tone = 'offline'
  }
  return {
    state,
    tone,
    lastSync: hub.last_sync_ms === null ? '尚未同步' : `上次同步 ${whenText(hub.last_sync_ms, now)}`,
    waiting: `待上传 ${hub.ops_waiting} 条修改`,
    error: link.error,
  }
}

/**
 * What 设置 says when the last sync took ops out of the data (the county's key for a device
 * replaced one this copy had learnt from a file, and only that one signed them), or null.
 */
export function withdrawnNotice(view: HubView): string | null {
  const n = view.link.last_report?.withdrawn ?? 0
  if (n <= 0) return null
  return `上次同步撤下了 ${n} 条修改：它们是用某台设备先前记下的安全码签名的，而县里确认的是这台设备的另一个安全码，这些修改不是它的。各户已恢复为没有这些修改时的样子；撤下的修改另存备查，设备、旧安全码和条数见“操作记录”。`
}
