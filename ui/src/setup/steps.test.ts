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
})

describe('first-run steps', () => {
  it('asks in the order 本机名称, 所属乡镇/村, 数据文件位置, 加入', () => {
    expect(STEPS.map((s) => s.title)).toEqual(['本机名称', '所属乡镇/村', '数据文件位置', '加入'])
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
    expect(firstProblem({ ...complete, join: 'setup_file' })?.problem).toContain('.bfcs')
    expect(firstProblem({ ...complete, join: 'setup_file', setup_file: '/media/u/新文村.bfcs' })).toBeNull()
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
      join: { kind: 'later' },
    })
    expect(toSetupAnswers({ ...complete, join: 'hub', hub_url: ' https://h ', hub_code: ' AB ', setup_file: '/x' }).join).toEqual({
      kind: 'hub',
      url: 'https://h',
      code: 'AB',
    })
  })
})
