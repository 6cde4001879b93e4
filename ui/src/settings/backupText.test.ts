import { describe, expect, it } from 'vitest'
import type { BackupInfo } from '../api'
import { restoreWarning, sizeText } from './backupText'

const backup: BackupInfo = { path: '/d/村.sqlite.backups/x.sqlite', taken_at: '2026-12-03 08:15', kind_zh: '每日备份', bytes: 5 }

describe('sizeText', () => {
  it('shows megabytes past one MB and kilobytes below, never 0 KB for a non-empty file', () => {
    expect(sizeText(12.34 * 1024 * 1024)).toBe('12.3 MB')
    expect(sizeText(1024 * 1024)).toBe('1.0 MB')
    expect(sizeText(456 * 1024)).toBe('456 KB')
    expect(sizeText(10)).toBe('1 KB')
    expect(sizeText(0)).toBe('0 KB')
  })
})

describe('restoreWarning', () => {
  it('names the backup, the kept file, the restart and what may be lost', () => {
    const text = restoreWarning(backup, '/d/村.sqlite', 7)
    expect(text).toContain('2026-12-03 08:15 的每日备份')
    expect(text).toContain('/d/村.sqlite.before-restore')
    expect(text).toContain('重新启动')
    expect(text).toContain('还有 7 条修改没有上传')
    expect(text).toContain('导出')
  })
  it('says so when the laptop is not enrolled or has nothing waiting', () => {
    expect(restoreWarning(backup, 'f', null)).toContain('没有加入县同步中心')
    expect(restoreWarning(backup, 'f', 0)).toContain('都已上传')
  })
})
