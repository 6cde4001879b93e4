// What the waiting screen says while a data file of an older version is upgraded.
import type { Upgrading } from './api'

/** The sentence under the title: which versions, and how many rows are rebuilt so far. */
export function upgradeText(u: Upgrading): string {
  if (u.encrypting) {
    const mb = (n: number) => (n / 1048576).toFixed(1)
    const done = u.rows_total > 0 ? `：已完成 ${mb(u.rows_done)} / ${mb(u.rows_total)} MB。` : '，请稍候……'
    return `这个数据文件由旧版本的帮扶台账建立，没有加密；正在用新设置的口令加密数据文件和它的备份${done}`
  }
  const versions =
    u.from === u.to
      ? '这个数据文件上次升级没有完成，正在接着升级'
      : `这个数据文件由旧版本的帮扶台账建立（数据版本 ${u.from}），正在升级到数据版本 ${u.to}`
  if (u.rows_total > 0) {
    return `${versions}，并按修改记录重建各表：已完成 ${u.rows_done.toLocaleString('zh-CN')} / ${u.rows_total.toLocaleString('zh-CN')} 条记录。`
  }
  return `${versions}，请稍候……`
}

/** Whole percent of rows rebuilt, or null while there is nothing to count yet. */
export function upgradePercent(u: Upgrading): number | null {
  if (u.rows_total <= 0) return null
  return Math.min(100, Math.floor((u.rows_done * 100) / u.rows_total))
}
