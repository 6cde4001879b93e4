// End-to-end test of the exit procedure on the real app: open a demo household not yet out of
// poverty, see its evaluation, record 入户调查, see that only 村两委商议 may come next and that
// the core's refusals (no work team; a household below the line agreed without a reason and the
// person deciding) are shown in Chinese, record 村两委商议 with both, save the 双认定表 as a
// PDF, and find the household counted at its step on the 退出进度 page. Then 村两委商议 for the
// list of surveyed households: 核对各户 names those below the standard, each with its reason and
// person fields, and sending without every reason saves nothing.
// Saves screenshots of the 退出 tab, the 退出进度 page and the list's dialog at 1366x768.
//
// Usage: node tests/e2e/exit.e2e.mjs <path of bangfu-desktop>
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { assert, step, withApp } from './app.mjs'
import { choose, shot, typeInto, waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/exit.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const CHECKS = ['income', 'food', 'clothing', 'education', 'medical', 'housing', 'water']

function textOf(session, testid) {
  return session.execute(`return document.querySelector('[data-testid="${testid}"]')?.textContent.replace(/\\s+/g, ' ').trim() ?? null`)
}

/** Opens the first household the list shows as 未脱贫; returns its 户编号. */
async function openPoorHousehold(session) {
  await waitForList(session)
  const code = await waitFor('a 未脱贫 household in the list', async () => {
    const found = await session.execute(
      `const row = [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')]
         .find((r) => [...r.cells].some((c) => c.textContent.trim() === '未脱贫'))
       if (!row) return null
       const code = row.cells[0].textContent.trim()
       row.querySelector('td .cell').click()
       return code`,
    )
    return found ?? undefined
  })
  await waitFor('the household page', () => session.findAll('[data-testid="household-page"]').then((f) => f.length === 1))
  step(`opened household ${code}`)
  return code
}

async function openExitTab(session) {
  await waitFor('the 退出 tab to take the click', async () => {
    await session.click(await session.find('.el-tabs__item#tab-exit'))
    return true
  })
  await waitFor('the exit tab', () => session.findAll('[data-testid="exit-tab"]').then((f) => f.length === 1))
}

async function seeEvaluation(session) {
  const rows = await waitFor('the evaluation', async () => {
    const got = await session.execute(
      `return [...document.querySelectorAll('[data-testid="exit-evaluation"] tbody tr')].map((r) => [r.dataset.testid, r.cells[1].textContent.trim(), r.cells[2].textContent.trim()])`,
    )
    return got.length > 0 ? got : undefined
  }, { timeoutMs: 20_000 })
  assert(
    JSON.stringify(rows.map(([id]) => id)) === JSON.stringify(CHECKS.map((c) => `exit-check-${c}`)),
    `the seven checks in order: ${JSON.stringify(rows)}`,
  )
  for (const [id, status, reason] of rows) {
    assert(['达标', '未达标', '待核实'].includes(status), `${id} has a verdict: ${status}`)
    assert(reason.length > 0, `${id} says why`)
  }
  const food = rows.find(([id]) => id === 'exit-check-food')
  assert(food[1] === '待核实' && food[2].includes('尚未入户调查'), `不愁吃 waits for the survey: ${food}`)
  const summary = await textOf(session, 'exit-summary')
  step(`evaluation: ${summary}; ${rows.map(([id, s]) => `${id.slice(11)} ${s}`).join(', ')}`)
  return rows
}

async function nextStep(session) {
  return textOf(session, 'exit-next-step')
}

async function record(session) {
  await session.click(await session.find('[data-testid="exit-record"]'))
}

async function recordSurvey(session) {
  step('recording 入户调查')
  assert((await nextStep(session)) === '入户调查', 'the survey comes first')
  await typeInto(session, 'exit-form-people', '村委会 王村长、驻村工作队 刘队员')
  await choose(session, 'exit-form-household_signed', '是')
  await choose(session, 'exit-form-food_secure', '是')
  await choose(session, 'exit-form-clothing_secure', '是')
  await typeInto(session, 'exit-form-signatures', '户主、王村长、刘队员')
  await record(session)
  await waitFor('the survey in the trail', async () => ((await textOf(session, 'exit-record-1')) ?? '').includes('入户调查'), { timeoutMs: 15_000 })
  await waitFor('村两委商议 to be next', async () => (await nextStep(session)) === '村两委商议')
  const food = await textOf(session, 'exit-check-food')
  assert(food.includes('达标') && !food.includes('待核实'), `不愁吃 now answered by the survey: ${food}`)
  step(`trail: ${await textOf(session, 'exit-record-1')}`)
}

async function outOfOrderIsImpossible(session) {
  // The form offers only the next step: no control in the tab names a later step as something
  // to record, and the step bar shows only the survey done.
  const offered = await session.execute(
    `return [...document.querySelectorAll('[data-testid="exit-step-form"] button')].map((b) => b.textContent.trim())`,
  )
  assert(offered.includes('办理村两委商议'), `the deliberation is offered: ${offered}`)
  assert(!offered.some((t) => /村评议公示|乡镇核查公告|县审定销号/.test(t)), `no later step is offered: ${offered}`)
  const done = await session.execute(`return document.querySelectorAll('[data-testid="exit-steps"] .el-step__head.is-success, [data-testid="exit-steps"] .el-step__title.is-success').length`)
  assert(done >= 1, 'the step bar shows the survey done')
  step(`only the next step is offered: ${offered.join(' / ')}`)
}

async function recordDeliberation(session) {
  step('recording 村两委商议, first without the work team')
  await typeInto(session, 'exit-form-people', '村两委成员')
  await choose(session, 'exit-form-vote_type', '举手表决')
  await choose(session, 'exit-form-vote_result', '同意')
  await choose(session, 'exit-form-work_team_present', '否')
  await record(session)
  const refusal = await waitFor('the core to refuse', () => textOf(session, 'exit-refusal'))
  assert(refusal.includes('必须有驻村工作队参加'), `the refusal is the core's Chinese message: ${refusal}`)
  assert((await textOf(session, 'exit-record-2')) === null, 'nothing recorded')
  step(`refused: ${refusal}`)
  await session.execute(`document.querySelector('[data-testid="exit-refusal"]').scrollIntoView({ block: 'end' })`)
  await shot(session, '10-exit-refused.png')
  await choose(session, 'exit-form-work_team_present', '是')
  // The household fails the standard of the year: agreeing needs a reason and who decided.
  await record(session)
  const unexcused = await waitFor('the exception asked for', async () => {
    const text = await textOf(session, 'exit-refusal')
    return text && text.includes('理由和决定人') ? text : undefined
  })
  step(`refused: ${unexcused}`)
  assert((await textOf(session, 'exit-record-2')) === null, 'nothing recorded without the reason')
  await typeInto(session, 'exit-exception-reason', '户主外出务工，收入待补录')
  await typeInto(session, 'exit-exception-by', '李明 村党总支书记')
  await record(session)
  await waitFor('the deliberation in the trail', async () => ((await textOf(session, 'exit-record-2')) ?? '').includes('村两委商议'), { timeoutMs: 15_000 })
  await waitFor('村评议公示 to be next', async () => (await nextStep(session)) === '村评议公示')
  step(`trail: ${await textOf(session, 'exit-record-2')}`)
}

async function saveSheet(session, file) {
  await typeInto(session, 'exit-sheet-path', file)
  await session.click(await session.find('[data-testid="exit-sheet-save"]'))
  await waitFor('the sheet to be saved', async () => {
    const messages = await session.execute(`return [...document.querySelectorAll('.el-message')].map((m) => m.textContent)`)
    const said = messages.find((m) => m.includes(file) || m.includes('无法'))
    return said ?? undefined
  }, { timeoutMs: 30_000 }).then((said) => {
    assert(said.startsWith('已保存：'), `the save says where: ${said}`)
  })
  const bytes = readFileSync(file)
  assert(bytes.subarray(0, 5).toString() === '%PDF-', 'the saved file is a PDF')
  step(`双认定表 saved: ${file} (${bytes.length} bytes)`)
}

async function progressCountsTheHousehold(session, code) {
  step('the 退出进度 page')
  // A message toast over the title bar takes clicks until it fades.
  await waitFor('the 退出进度 tab to take the click', async () => {
    await session.click(await session.find('[data-testid="tab-exit"]'))
    return true
  }, { timeoutMs: 10_000 })
  const row = '[data-testid="exit-progress-step-已完成村两委商议"]'
  const count = await waitFor('the step counts', async () => {
    const rows = await session.findAll(row)
    if (rows.length === 0) return undefined
    const n = Number(await session.text(await session.find(`${row} [data-testid="exit-progress-count"]`)))
    return n >= 1 ? n : undefined
  }, { timeoutMs: 20_000 })
  await waitFor('the step row to take the click', async () => {
    await session.click(await session.find(`${row} td`))
    return true
  })
  const listed = await waitFor('who is there', async () => {
    const text = await session.execute(`return document.querySelector('${row}')?.nextElementSibling?.textContent ?? ''`)
    return text.includes(code) ? text.trim() : undefined
  })
  const incidence = await textOf(session, 'exit-progress-incidence')
  assert(incidence?.includes('贫困发生率'), `the village's incidence is shown: ${incidence}`)
  step(`已完成村两委商议: ${count} 户 (${listed}); ${incidence}`)
  await shot(session, '12-exit-progress.png')
}

async function batchDeliberationAsksEachReason(session) {
  step('村两委商议 for the surveyed households at once')
  const row = '[data-testid="exit-progress-step-已完成入户调查"]'
  const before = Number(await session.text(await session.find(`${row} [data-testid="exit-progress-count"]`)))
  await waitFor('the surveyed row to open', async () => {
    await session.click(await session.find(`${row} td`))
    return (await session.findAll('[data-testid="exit-batch-open"]')).length > 0
  })
  await session.click(await session.find('[data-testid="exit-batch-open"]'))
  await waitFor('the dialog', () => session.findAll('[data-testid="exit-batch-dialog"]').then((f) => f.length > 0))
  await typeInto(session, 'exit-batch-people', '村两委成员、驻村工作队')
  await choose(session, 'exit-batch-vote_type', '举手表决')
  await choose(session, 'exit-batch-vote_result', '同意')
  await choose(session, 'exit-batch-work_team_present', '是')
  await session.click(await session.find('[data-testid="exit-batch-check"]'))
  const asked = await waitFor('the households that need a reason', async () => {
    const n = await session.execute(`return document.querySelectorAll('[data-testid^="exit-batch-exception-5"]').length`)
    return n > 0 ? n : undefined
  }, { timeoutMs: 20_000 })
  const first = await session.execute(`return document.querySelector('[data-testid^="exit-batch-exception-5"]').textContent.replace(/\s+/g, ' ').trim()`)
  assert(first.includes('未达标') || first.includes('未签字认可'), `each says why: ${first}`)
  step(`${asked} households need a reason; first: ${first}`)
  await typeInto(session, 'exit-batch-exception-reason', '已落实饮水工程，年底前完工')
  await typeInto(session, 'exit-batch-exception-by', '李明（村党总支书记）')
  if (asked > 1) {
    await session.click(await session.find('[data-testid="exit-batch-send"]'))
    const refusal = await waitFor('the list refused', async () => {
      const text = await textOf(session, 'exit-batch-refusal')
      return text && text.includes('全部未保存') ? text : undefined
    }, { timeoutMs: 20_000 })
    step(`refused: ${refusal.slice(0, 80)}…`)
    const after = Number(await session.text(await session.find(`${row} [data-testid="exit-progress-count"]`)))
    assert(after === before, `nothing saved: ${before} → ${after}`)
    assert(refusal.includes(`名单中有 ${asked - 1} 户不能办理`), `only those without a reason refuse: ${refusal.slice(0, 40)}`)
    const kept = await session.execute(`return document.querySelector('[data-testid="exit-batch-exception-reason"] input, input[data-testid="exit-batch-exception-reason"]')?.value ?? null`)
    assert(kept === '已落实饮水工程，年底前完工', `the reason typed stays in its row: ${kept}`)
  }
  await shot(session, '13-exit-batch-reasons.png')
}

await withApp(app, 'exit', async (world) => {
  const dataFile = path.join(world.scratch, 'village.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  const code = await openPoorHousehold(session)
  const disabled = await waitFor('the 脱贫状态 field', () =>
    session.execute(`const f = document.querySelector('[data-testid="field-poverty_status"]')
      return f ? f.querySelector('input').disabled : null`).then((d) => d ?? undefined),
  )
  assert(disabled === true, '脱贫状态 cannot be edited on the page of a filed household')
  await openExitTab(session)
  await seeEvaluation(session)
  await recordSurvey(session)
  await outOfOrderIsImpossible(session)
  await recordDeliberation(session)
  await saveSheet(session, path.join(world.scratch, '双认定表.pdf'))
  await session.execute(`document.querySelector('[data-testid="exit-tab"]').closest('.page-body').scrollTop = 0`)
  await shot(session, '11-exit-tab.png')
  await progressCountsTheHousehold(session, code)
  await batchDeliberationAsksEachReason(session)
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
