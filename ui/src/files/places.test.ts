import { describe, expect, it } from 'vitest'
import { folderOf, joinPath, stampedName, stickOf } from './places'

const stick = { path: '/media/li/KINGSTON', label: 'KINGSTON', title: 'U 盘 KINGSTON (/media/li/KINGSTON)' }
const windowsStick = { path: 'E:\\', label: 'KINGSTON', title: 'U 盘 KINGSTON (E:)' }

describe('file places', () => {
  it('joins with the separator the folder is written with', () => {
    expect(joinPath('/media/li/KINGSTON', 'a.bfcs')).toBe('/media/li/KINGSTON/a.bfcs')
    expect(joinPath('E:\\', 'a.bfcs')).toBe('E:\\a.bfcs')
    expect(joinPath('D:\\台账', 'a.pdf')).toBe('D:\\台账\\a.pdf')
    expect(joinPath('', 'a.pdf')).toBe('a.pdf')
  })

  it('takes the folder of a file, keeping a drive root whole', () => {
    expect(folderOf('/media/li/KINGSTON/a.bfcs')).toBe('/media/li/KINGSTON')
    expect(folderOf('E:\\a.pdf')).toBe('E:\\')
    expect(folderOf('D:\\台账\\a.pdf')).toBe('D:\\台账')
    expect(folderOf('/a.pdf')).toBe('/')
    expect(folderOf('a.pdf')).toBe('')
  })

  it('names a file after the village and the day', () => {
    const day = new Date(2026, 11, 4, 9, 5)
    expect(stampedName('新文村', '同步', 'bfcs', day)).toBe('新文村-同步-20261204.bfcs')
    expect(stampedName(null, '统计表', 'xlsx', day)).toBe('统计表-20261204.xlsx')
  })

  it('knows which stick a path is on, and not a folder that merely starts alike', () => {
    expect(stickOf('/media/li/KINGSTON/同步/a.bfcs', [stick])).toBe(stick)
    expect(stickOf('/media/li/KINGSTON', [stick])).toBe(stick)
    expect(stickOf('/media/li/KINGSTON2/a.bfcs', [stick])).toBeNull()
    expect(stickOf('e:\\a.bfcs', [windowsStick])).toBe(windowsStick)
    expect(stickOf('D:\\a.bfcs', [windowsStick])).toBeNull()
  })
})
