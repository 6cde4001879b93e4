// Paths as the file places handle them: joining a folder and a name the way the folder is
// written (C:\ or /media/…), the folder of a file, a default name from the village and date,
// and which U 盘 a path is on.
import type { RemovableDrive } from '../api'

function separatorOf(folder: string): string {
  return folder.includes('\\') && !folder.includes('/') ? '\\' : '/'
}

/** `folder` + `name` with the folder's own separator; an empty folder gives the name. */
export function joinPath(folder: string, name: string): string {
  if (!folder) return name
  const sep = separatorOf(folder)
  return folder.endsWith('/') || folder.endsWith('\\') ? `${folder}${name}` : `${folder}${sep}${name}`
}

/** The folder a file is in (`/media/u/a.bfcs` → `/media/u`, `E:\a.pdf` → `E:\`). */
export function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'))
  if (cut < 0) return ''
  const folder = path.slice(0, cut)
  // A drive's root keeps its separator (`E:\`), as does `/`.
  if (folder === '' || /^[A-Za-z]:$/.test(folder)) return path.slice(0, cut + 1)
  return folder
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** `新文村-同步-20261204.bfcs`: the village (when known), what, the day, the extension. */
export function stampedName(village: string | null, what: string, extension: string, date: Date): string {
  const day = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`
  const parts = [village?.trim(), what, day].filter((p): p is string => !!p)
  return `${parts.join('-')}.${extension}`
}

/** The stick a path lies on, if any. */
export function stickOf(path: string, drives: RemovableDrive[]): RemovableDrive | null {
  const norm = (p: string) => p.replace(/[\\/]+$/, '').toLowerCase()
  const target = norm(path)
  return (
    drives.find((d) => {
      const root = norm(d.path)
      return target === root || target.startsWith(`${root}/`) || target.startsWith(`${root}\\`)
    }) ?? null
  )
}
