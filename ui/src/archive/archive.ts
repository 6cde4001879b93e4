// The 档案 box's arithmetic: attachments grouped under the record they are attached to (in the
// order the records are listed), sizes as people read them, and the name a file is saved as.
import type { AttachableRecord, AttachmentEntry } from '../api'

/** One record's attachments, under its label. */
export interface RecordGroup {
  key: string
  label: string
  entries: AttachmentEntry[]
}

/** Attachments grouped by record: records in `records` order first, then any whose record
 *  is gone (deleted, or not arrived yet) under their own labels. */
export function groupByRecord(entries: AttachmentEntry[], records: AttachableRecord[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>()
  for (const r of records) groups.set(r.id, { key: r.id, label: r.label, entries: [] })
  for (const e of entries) {
    const key = e.target_id ?? e.id
    const group = groups.get(key) ?? { key, label: e.target_label, entries: [] }
    group.entries.push(e)
    groups.set(key, group)
  }
  return [...groups.values()].filter((g) => g.entries.length > 0)
}

/** `830 字节`, `12 KB`, `2.9 MB`. */
export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} 字节`
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'application/pdf': 'pdf',
}

/** The name a held file is offered under when saved: its own name, else its kind and hash. */
export function saveName(entry: AttachmentEntry): string {
  if (entry.file_name.trim()) return entry.file_name.trim()
  return `${entry.kind}-${entry.sha256.slice(0, 8)}.${EXTENSIONS[entry.media_type] ?? 'bin'}`
}
