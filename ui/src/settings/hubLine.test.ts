import { describe, expect, it } from 'vitest'
import type { HubView } from '../api'
import { hubLine, whenText, withdrawnNotice } from './hubLine'

const NOW = new Date(2024, 4, 20, 15, 30).getTime()

function view(over: { enrolled?: boolean; online?: boolean | null; syncing?: boolean; last?: number | null; waiting?: number; error?: string | null }): HubView {
  return {
    device_name: '新文村-笔记本1',
    device_unnamed: false,
    hub: {
      enrolled: over.enrolled ?? true,
      hub_url: 'http://127.0.0.1:8717',
      scope: '530826103201',
      last_sync_ms: over.last === undefined ? null : over.last,
      ops_waiting: over.waiting ?? 0,
    },
    link: { online: over.online ?? null, syncing: over.syncing ?? false, error: over.error ?? null, error_kind: null, last_report: null, failures: 0 },
    review_items: 0,
  }
}

describe('hubLine', () => {
  it.each([
    [{ enrolled: false }, '未加入县同步中心', 'none', null, null],
    [{ online: null }, '连接中…', 'busy', '尚未同步', '待上传 0 条修改'],
    [{ online: true, last: NOW - 30_000, waiting: 0 }, '在线', 'online', '上次同步 刚刚', '待上传 0 条修改'],
    [{ online: false, last: NOW - 5 * 60_000, waiting: 7 }, '离线', 'offline', '上次同步 5 分钟前', '待上传 7 条修改'],
    [{ online: false, syncing: true, last: NOW - 3 * 3600_000 }, '同步中…', 'busy', '上次同步 今天 12:30', '待上传 0 条修改'],
  ] as const)('%o says %s', (over, state, tone, lastSync, waiting) => {
    const line = hubLine(view(over), NOW)
    expect([line.state, line.tone, line.lastSync, line.waiting]).toEqual([state, tone, lastSync, waiting])
  })

  it('keeps the last error for the tooltip', () => {
    expect(hubLine(view({ online: false, error: '无法连接县同步中心' }), NOW).error).toBe('无法连接县同步中心')
  })
})

describe('whenText', () => {
  it('names an earlier day by month and day', () => {
    expect(whenText(new Date(2024, 4, 18, 9, 5).getTime(), NOW)).toBe('5月18日 09:05')
  })
})

describe('withdrawnNotice', () => {
  const report = (withdrawn: number) => ({
    pushed: 0, pulled: 3, applied: 3, requests: 1, position: 3, held: 0, hub_reset: false,
    files_pushed: 0, files_pulled: 0, unsigned: 0, held_merged: 0, county_key_differs: false, withdrawn,
  })
  it('says nothing without a report or when nothing was taken out', () => {
    expect(withdrawnNotice(view({}))).toBeNull()
    const v = view({})
    v.link.last_report = report(0)
    expect(withdrawnNotice(v)).toBeNull()
  })
  it('says how many changes the last sync took out and where to look', () => {
    const v = view({})
    v.link.last_report = report(2)
    const said = withdrawnNotice(v)
    expect(said).toContain('撤下了 2 条修改')
    expect(said).toContain('操作记录')
  })
})
