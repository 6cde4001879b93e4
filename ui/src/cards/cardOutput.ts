// What the printing screens remember and compute: the county's card settings, the folder PDFs
// were last saved to, the printer last used, file names, and a batch's progress. Pure functions
// over a storage object, so the rules are tested without a window.
import type { CardConfig, CardLayout, CardsProgress, Destination } from '../api'

/** The national supervision hotline, printed until the county sets its own. */
export const NATIONAL_HOTLINE = '12317'

export interface CardSettings {
  /** 监督举报电话 printed on every card. */
  hotline: string
  /** 县名 printed in the place line; empty takes each village's county. */
  countyName: string
  layout: CardLayout
  /** Folder of the last save; empty until the first, then the documents folder is offered. */
  folder: string
  /** Printer last printed to; null is the system's default. */
  printer: string | null
}

const STORAGE_KEY = 'bangfu.cards'

export function defaultSettings(): CardSettings {
  return { hotline: NATIONAL_HOTLINE, countyName: '', layout: 'a5', folder: '', printer: null }
}

/** The settings kept on this computer; anything missing or unreadable takes its default. */
export function loadSettings(storage: Pick<Storage, 'getItem'>): CardSettings {
  const settings = defaultSettings()
  let stored: unknown
  try {
    stored = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null')
  } catch {
    return settings
  }
  if (typeof stored !== 'object' || stored === null) return settings
  const s = stored as Record<string, unknown>
  if (typeof s.hotline === 'string' && s.hotline.trim()) settings.hotline = s.hotline.trim()
  if (typeof s.countyName === 'string') settings.countyName = s.countyName.trim()
  if (s.layout === 'a5' || s.layout === 'a4x2') settings.layout = s.layout
  if (typeof s.folder === 'string') settings.folder = s.folder
  if (typeof s.printer === 'string' && s.printer) settings.printer = s.printer
  return settings
}

export function saveSettings(storage: Pick<Storage, 'setItem'>, settings: CardSettings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(settings))
}

export function cardConfig(settings: CardSettings): CardConfig {
  return { county_name: settings.countyName, hotline: settings.hotline || NATIONAL_HOTLINE }
}

/** A file name from its parts: characters no file system takes become "_", spaces go. */
export function pdfFileName(parts: string[]): string {
  const name = parts
    .map((p) => p.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').replace(/\s+/g, ''))
    .filter(Boolean)
    .join('-')
  return `${name || '帮扶联系卡'}.pdf`
}

/** The separator the folder is written with (Windows paths use "\"). */
function separatorOf(folder: string): string {
  return folder.includes('\\') && !folder.includes('/') ? '\\' : '/'
}

export function joinPath(folder: string, name: string): string {
  if (!folder) return name
  const sep = separatorOf(folder)
  return folder.endsWith(sep) ? folder + name : folder + sep + name
}

/** The folder of a file path; '' when it names none. */
export function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'))
  if (cut < 0) return ''
  return cut === 0 ? path.slice(0, 1) : path.slice(0, cut)
}

/** The path a save dialog offers: the remembered folder, else documents, and the file name. */
export function suggestedPath(settings: CardSettings, documents: string, name: string): string {
  return joinPath(settings.folder || documents, name)
}

/** A typed path checked before anything is written; null when usable, else what to fix. */
export function pathProblem(path: string): string | null {
  const p = path.trim()
  if (!p) return '请填写保存位置。'
  if (!/\.pdf$/i.test(p)) return '文件名请以 .pdf 结尾。'
  if (!folderOf(p)) return '请写出完整的保存位置（包括文件夹），例如 /home/用户/文档/帮扶联系卡.pdf。'
  return null
}

/** Where a chosen delivery goes: a file (its typed path checked first) or a printer. A
 *  string is what to fix in the typed path. */
export function destinationOf(choice: {
  mode: 'file' | 'printer'
  path: string
  printer: string | null
}): Destination | string {
  if (choice.mode === 'printer') return { kind: 'printer', printer: choice.printer }
  return pathProblem(choice.path) ?? { kind: 'file', path: choice.path.trim() }
}

/** Percent of a batch done, whole numbers, 100 only when every card is laid out. */
export function progressPercent(progress: Pick<CardsProgress, 'done' | 'total'> | null): number {
  if (!progress || progress.total <= 0) return 0
  const done = Math.min(progress.done, progress.total)
  return done === progress.total ? 100 : Math.floor((done * 100) / progress.total)
}

let jobCounter = 0
/** An id for one batch, so its progress events and cancel reach only it. */
export function newJobId(now: number = Date.now()): string {
  jobCounter += 1
  return `cards-${now}-${jobCounter}`
}
