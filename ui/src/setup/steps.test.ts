import { describe, expect, it } from 'vitest'
import { STEPS, defaultDataFile, emptyAnswers, firstProblem, toSetupAnswers, type Answers } from './steps'

function answers(over: Partial<Answers>): Answers {
  return { ...emptyAnswers(), ...over }
}

const complete = answers({
  device_name: ' 新文村-笔记本1 ',
  township: '勐先乡',
  village: '新文村',
  data_file: '/home/li/帮扶台账/新文村.sqlite',
  passphrase: '新文村二〇二六年',
  passphrase_again: '新文村二〇二六年',
})

describe('first-run steps', () => {
  it('asks in the order 本机名称, 所属乡镇/村, 数据文件位置, 设置口令, 加入', () => {
    expect(STEPS.map((s) => s.title)).toEqual(['本机名称', '所属乡镇/村', '数据文件位置', '设置口令', '加入'])
  })

  it('needs a passphrase of 8 characters (not bytes), typed the same twice', () => {
    // Seven Chinese characters are 21 bytes but still too short.
    expect(firstProblem({ ...complete, passphrase: '新文村二〇二六', passphrase_again: '新文村二〇二六' })).toMatchObject({
      index: 3,
      problem: expect.stringContaining('至少要有 8 个字符'),
    })
    expect(firstProblem({ ...complete, passphrase_again: '新文村二〇二七年' })?.problem).toContain('两次输入的口令不一样')
    expect(firstProblem(complete)).toBeNull()
  })

  it('stops at the first step left blank, saying what to type', () => {
    expect(firstProblem(emptyAnswers())?.index).toBe(0)
    expect(firstProblem(answers({ device_name: 'a' }))).toMatchObject({ index: 1, problem: expect.stringContaining('乡镇') })
    expect(firstProblem(answers({ device_name: 'a', township: '勐先乡' }))?.index).toBe(2)
    expect(firstProblem(complete)).toBeNull()
  })

  it('refuses an overlong name and a data file that is not .sqlite', () => {
    expect(firstProblem({ ...complete, device_name: '名'.repeat(41) })?.index).toBe(0)
    expect(firstProblem({ ...complete, data_file: '/home/li/帮扶台账' })?.problem).toContain('.sqlite')
  })

  it('needs the hub address and code, or the setup file, for the way chosen', () => {
    expect(firstProblem({ ...complete, join: 'hub', hub_url: 'sync.example', hub_code: 'X' })?.problem).toContain('http')
    expect(firstProblem({ ...complete, join: 'hub', hub_url: 'https://sync.example' })?.problem).toContain('加入码')
    expect(firstProblem({ ...complete, join: 'stick' })?.problem).toContain('U 盘上的文件夹')
    expect(firstProblem({ ...complete, join: 'stick', stick_folder: '/media/u/KINGSTON' })).toBeNull()
  })

  it('names the data file after the village, else the township', () => {
    expect(defaultDataFile('/home/li/帮扶台账', complete)).toBe('/home/li/帮扶台账/新文村.sqlite')
    expect(defaultDataFile('C:\\Users\\li\\帮扶台账', answers({ township: '勐先乡' }))).toBe('C:\\Users\\li\\帮扶台账\\勐先乡.sqlite')
    expect(defaultDataFile('/d', answers({ village: 'a/b' }))).toBe('/d/ab.sqlite')
  })

  it('sends the answers trimmed, with only the way of joining chosen', () => {
    expect(toSetupAnswers(complete)).toEqual({
      device_name: '新文村-笔记本1',
      township: '勐先乡',
      village: '新文村',
      data_file: '/home/li/帮扶台账/新文村.sqlite',
      passphrase: '新文村二〇二六年',
      join: { kind: 'later' },
    })
    expect(toSetupAnswers({ ...complete, join: 'hub', hub_url: ' https://h ', hub_code: ' AB ', stick_folder: '/x' }).join).toEqual({
      kind: 'hub',
      url: 'https://h',
      code: 'AB',
    })
  })
})
