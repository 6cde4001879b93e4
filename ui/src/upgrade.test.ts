import { describe, expect, it } from 'vitest'
import { upgradePercent, upgradeText } from './upgrade'

describe('the upgrade waiting screen', () => {
  it('names both data versions and waits while there is nothing to count', () => {
    const u = { from: 4, to: 5, rows_done: 0, rows_total: 0, encrypting: false }
    expect(upgradeText(u)).toBe('这个数据文件由旧版本的帮扶台账建立（数据版本 4），正在升级到数据版本 5，请稍候……')
    expect(upgradePercent(u)).toBeNull()
  })

  it('counts the rows rebuilt, in whole percent', () => {
    const u = { from: 3, to: 5, rows_done: 1_035_924, rows_total: 2_071_848, encrypting: false }
    expect(upgradeText(u)).toContain('已完成 1,035,924 / 2,071,848 条记录')
    expect(upgradePercent(u)).toBe(50)
    expect(upgradePercent({ ...u, rows_done: 2_071_847 })).toBe(99)
    expect(upgradePercent({ ...u, rows_done: u.rows_total })).toBe(100)
  })

  it('says an upgrade cut off last time is being finished', () => {
    const u = { from: 5, to: 5, rows_done: 10, rows_total: 300, encrypting: false }
    expect(upgradeText(u)).toMatch(/^这个数据文件上次升级没有完成，正在接着升级，并按修改记录重建各表/)
  })

  it('says a file in the clear is being encrypted, in megabytes', () => {
    const u = { from: 7, to: 7, rows_done: 3 * 1048576, rows_total: 12 * 1048576, encrypting: true }
    expect(upgradeText(u)).toContain('正在用新设置的口令加密数据文件和它的备份：已完成 3.0 / 12.0 MB。')
    expect(upgradePercent(u)).toBe(25)
  })
})
