// The first-run wizard as a list of steps: each with its title, what it asks, and the check
// that must pass before 下一步. Another step is one more entry in STEPS and, if it has answers,
// fields in Answers; SetupWizard.vue renders whatever the list holds.
import type { SetupAnswers } from '../api'
import { joinPath } from '../files/places'

export type JoinKind = 'hub' | 'stick' | 'later'

/** Everything the wizard asks, as typed. */
export interface Answers {
  device_name: string
  township: string
  village: string
  data_file: string
  /** The passphrase that opens the data file from now on, and the same typed again. */
  passphrase: string
  passphrase_again: string
  join: JoinKind
  hub_url: string
  hub_code: string
  /** The folder on a U 盘 this laptop's introduction is written to, for the township. */
  stick_folder: string
}

export type StepId = 'device' | 'place' | 'file' | 'passphrase' | 'join'

export interface Step {
  id: StepId
  title: string
  /** What is wrong with the answers for this step, in words the person acts on; null if fine. */
  problem(answers: Answers): string | null
}

const MAX_NAME = 40
/** As the core's check_passphrase: counted in characters, not bytes. */
export const MIN_PASSPHRASE = 8

function tooLong(text: string): boolean {
  return [...text.trim()].length > MAX_NAME
}

export const STEPS: Step[] = [
  {
    id: 'device',
    title: '本机名称',
    problem: (a) =>
      !a.device_name.trim()
        ? '请给这台电脑起个名字，如“新文村-笔记本1”：同步和冲突处理时靠它认出是哪台电脑录入的。'
        : tooLong(a.device_name)
          ? `本机名称请不超过 ${MAX_NAME} 个字。`
          : null,
  },
  {
    id: 'place',
    title: '所属乡镇/村',
    problem: (a) =>
      !a.township.trim()
        ? '请填写所属乡镇，如“勐先乡”。乡镇工作站的电脑可不填村。'
        : tooLong(a.township) || tooLong(a.village)
          ? `乡镇和村的名称请不超过 ${MAX_NAME} 个字。`
          : null,
  },
  {
    id: 'file',
    title: '数据文件位置',
    problem: (a) =>
      !a.data_file.trim()
        ? '请选择数据文件保存的位置。'
        : !/\.(sqlite|db)$/i.test(a.data_file.trim())
          ? '数据文件名请以 .sqlite 结尾，如“新文村.sqlite”。'
          : null,
  },
  {
    id: 'passphrase',
    title: '设置口令',
    problem: (a) =>
      [...a.passphrase].length < MIN_PASSPHRASE
        ? `口令至少要有 ${MIN_PASSPHRASE} 个字符，可以是一句好记的话，如“新文村二〇二六年驻村”。`
        : a.passphrase !== a.passphrase_again
          ? '两次输入的口令不一样，请重新输入。'
          : null,
  },
  {
    id: 'join',
    title: '加入',
    problem: (a) => {
      if (a.join === 'hub') {
        if (!/^https?:\/\//.test(a.hub_url.trim())) return '请填写县同步中心地址，以 https:// 开头（http:// 只能用于本机测试）。'
        if (!a.hub_code.trim()) return '请填写县里发的加入码。'
      }
      if (a.join === 'stick' && !a.stick_folder.trim()) {
        return '请选择 U 盘上的文件夹：本机的介绍文件存到那里，交给乡镇工作站。'
      }
      return null
    },
  },
]

export function emptyAnswers(): Answers {
  return {
    device_name: '',
    township: '',
    village: '',
    data_file: '',
    passphrase: '',
    passphrase_again: '',
    join: 'later',
    hub_url: '',
    hub_code: '',
    stick_folder: '',
  }
}

/** `~/帮扶台账/新文村.sqlite`: the folder proposed, named after the village (else the township). */
export function defaultDataFile(folder: string, answers: Answers): string {
  const name = (answers.village.trim() || answers.township.trim() || '帮扶台账').replace(/[\\/:*?"<>|]/g, '')
  return joinPath(folder, `${name}.sqlite`)
}

/** The first step whose check fails, or null when every step is answered. */
export function firstProblem(answers: Answers): { index: number; problem: string } | null {
  for (const [index, step] of STEPS.entries()) {
    const problem = step.problem(answers)
    if (problem) return { index, problem }
  }
  return null
}

/** The answers as the shell's finish_setup takes them. */
export function toSetupAnswers(a: Answers): SetupAnswers {
  const join: SetupAnswers['join'] =
    a.join === 'hub'
      ? { kind: 'hub', url: a.hub_url.trim(), code: a.hub_code.trim() }
      : a.join === 'stick'
        ? { kind: 'stick', folder: a.stick_folder.trim() }
        : { kind: 'later' }
  return {
    device_name: a.device_name.trim(),
    township: a.township.trim(),
    village: a.village.trim(),
    data_file: a.data_file.trim(),
    passphrase: a.passphrase,
    join,
  }
}
