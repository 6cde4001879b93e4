// What 设置 → 备份 says: a backup's size, and the confirmation shown before a restore.
import type { BackupInfo } from '../api'

/** A file size as people read it: `12.3 MB`, `456 KB` (never `0 KB` for a non-empty file). */
export function sizeText(bytes: number): string {
  const mb = bytes / (1024 * 1024)
  if (mb >= 1) return `${mb.toFixed(1)} MB`
  if (bytes <= 0) return '0 KB'
  return `${Math.max(1, Math.round(bytes / 1024))} KB`
}

/**
 * The confirmation before restoring `backup`: what is kept, what is lost, that the program
 * restarts. `opsWaiting` is the number of this laptop's changes not yet uploaded to the county
 * hub (null when the laptop is not enrolled).
 */
export function restoreWarning(backup: BackupInfo, dataFile: string, opsWaiting: number | null): string {
  const waiting =
    opsWaiting === null
      ? '本机没有加入县同步中心：'
      : opsWaiting > 0
        ? `本机还有 ${opsWaiting} 条修改没有上传到县同步中心：`
        : '本机的修改都已上传到县同步中心；仍请注意：'
  return [
    `将用 ${backup.taken_at} 的${backup.kind_zh}替换现在的数据文件，程序随后自动重新启动。`,
    `现在的数据文件会另存为“${dataFile}.before-restore”，不会删除。`,
    `${waiting}这份备份之后录入、且还没有同步或导出的修改，恢复后将不在本机的台账中。如需保留，请先取消，到“同步”页导出同步文件，或先立即同步。`,
  ].join('\n')
}
