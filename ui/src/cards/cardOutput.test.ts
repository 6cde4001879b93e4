import { describe, expect, it } from 'vitest'
import {
  NATIONAL_HOTLINE,
  cardConfig,
  defaultSettings,
  destinationOf,
  folderOf,
  joinPath,
  loadSettings,
  newJobId,
  pathProblem,
  pdfFileName,
  progressPercent,
  saveSettings,
  suggestedPath,
} from './cardOutput'

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial))
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  }
}

describe('card settings', () => {
  it('start with the national hotline, A5 and no folder', () => {
    const s = loadSettings(memoryStorage())
    expect(s).toEqual(defaultSettings())
    expect(cardConfig(s)).toEqual({ county_name: '', hotline: NATIONAL_HOTLINE })
  })

  it('come back as saved', () => {
    const storage = memoryStorage()
    const s = { hotline: '0871-1234567', countyName: '凤庆县', layout: 'a4x2' as const, folder: '/home/w/文档', printer: '村委会' }
    saveSettings(storage, s)
    expect(loadSettings(storage)).toEqual(s)
  })

  it('take defaults for what is damaged or blank', () => {
    for (const stored of ['{oops', '"text"', '{"hotline":"  ","layout":"a3","printer":""}']) {
      const s = loadSettings(memoryStorage({ 'bangfu.cards': stored }))
      expect(s.hotline, stored).toBe(NATIONAL_HOTLINE)
      expect(s.layout, stored).toBe('a5')
      expect(s.printer, stored).toBeNull()
    }
  })
})

describe('save paths', () => {
  it.each([
    [['帮扶联系卡', '530826103201001', '王建国'], '帮扶联系卡-530826103201001-王建国.pdf'],
    [['帮扶联系卡', 'a/b:c', '阿卜杜 热合曼'], '帮扶联系卡-a_b_c-阿卜杜热合曼.pdf'],
    [['', ''], '帮扶联系卡.pdf'],
  ])('name %j as %s', (parts, expected) => {
    expect(pdfFileName(parts)).toBe(expected)
  })

  it.each([
    ['/home/w/文档', 'a.pdf', '/home/w/文档/a.pdf'],
    ['/home/w/文档/', 'a.pdf', '/home/w/文档/a.pdf'],
    ['C:\\Users\\w\\Documents', 'a.pdf', 'C:\\Users\\w\\Documents\\a.pdf'],
    ['', 'a.pdf', 'a.pdf'],
  ])('join %s and %s', (folder, name, expected) => {
    expect(joinPath(folder, name)).toBe(expected)
  })

  it.each([
    ['/home/w/文档/a.pdf', '/home/w/文档'],
    ['C:\\Users\\w\\a.pdf', 'C:\\Users\\w'],
    ['/a.pdf', '/'],
    ['a.pdf', ''],
  ])('folder of %s is %s', (path, expected) => {
    expect(folderOf(path)).toBe(expected)
  })

  it('offer the remembered folder before the documents folder', () => {
    const s = defaultSettings()
    expect(suggestedPath(s, '/home/w/Documents', 'x.pdf')).toBe('/home/w/Documents/x.pdf')
    expect(suggestedPath({ ...s, folder: '/media/u盘' }, '/home/w/Documents', 'x.pdf')).toBe('/media/u盘/x.pdf')
  })

  it.each([
    ['', '请填写保存位置。'],
    ['/tmp/卡片.txt', '文件名请以 .pdf 结尾。'],
    ['卡片.pdf', '请写出完整的保存位置'],
    ['/tmp/卡片.PDF', null],
  ])('check %j', (path, problem) => {
    const got = pathProblem(path)
    if (problem === null) expect(got).toBeNull()
    else expect(got).toContain(problem)
  })
})

describe('where a delivery goes', () => {
  it('checks a typed path and keeps it trimmed, or names the printer', () => {
    expect(destinationOf({ mode: 'file', path: ' /tmp/卡片.pdf ', printer: 'lp0' })).toEqual({ kind: 'file', path: '/tmp/卡片.pdf' })
    expect(destinationOf({ mode: 'file', path: '卡片.pdf', printer: null })).toContain('请写出完整的保存位置')
    expect(destinationOf({ mode: 'printer', path: '', printer: 'lp0' })).toEqual({ kind: 'printer', printer: 'lp0' })
  })
})

describe('batch progress', () => {
  it.each([
    [null, 0],
    [{ done: 0, total: 0 }, 0],
    [{ done: 1, total: 3 }, 33],
    [{ done: 299, total: 300 }, 99],
    [{ done: 300, total: 300 }, 100],
    [{ done: 301, total: 300 }, 100],
  ])('%j is %i%', (progress, percent) => {
    expect(progressPercent(progress)).toBe(percent)
  })

  it('gives every batch its own job id', () => {
    expect(newJobId(5)).not.toBe(newJobId(5))
  })
})
