// The 安置点's village kept (issue 17), in the real app: a county of two villages is generated
// and a household of 新湾村 is recorded through the CLI from 开工 to 入住 at a 安置点 of 团源村;
// its 易地扶贫搬迁 box names 团源村 and keeps offering the move; 暂不迁移 leaves the offer there;
// 迁入 moves the household (new 户编号) and the offer goes.
//
// Usage: node tests/e2e/relocation.e2e.mjs <path of bangfu-desktop> <path of bangfu>
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { assert, shot, step, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app, bangfu] = process.argv.slice(2)
if (!app || !bangfu) {
  console.error('usage: node tests/e2e/relocation.e2e.mjs <path of bangfu-desktop> <path of bangfu>')
  process.exit(2)
}

const HOUSEHOLD = '530828101201001'
const SITE = '牛滩镇集镇安置点'
const SITE_VILLAGE = '530828101202'

const text = (session, testid) =>
  session.execute(`return document.querySelector('[data-testid="${testid}"]')?.textContent.replace(/\\s+/g, ' ').trim() ?? null`)

/** Answers the open message box: its primary button (迁入) or its cancel button (暂不迁移). */
async function answer(session, primary) {
  const question = await waitFor('the move question', async () => {
    const t = await session.execute(`return document.querySelector('.el-message-box')?.textContent ?? ''`)
    return t.includes('是否把本户迁入') ? t : undefined
  })
  step(question.replace(/\s+/g, ' ').trim())
  const button = primary ? '.el-message-box__btns .el-button--primary' : '.el-message-box__btns .el-button:not(.el-button--primary)'
  await session.click(await session.find(button))
  await waitFor('the question closed', async () => (await session.findAll('.el-message-box')).length === 0 || undefined)
}

async function showRelocation(session) {
  return waitFor('the relocation box', async () => {
    const shown = await text(session, 'relocation-site-village-shown')
    if (!shown) return undefined
    await session.execute(`document.getElementById('sec-relocation')?.scrollIntoView({ block: 'start' }); return true`)
    return shown
  }, { timeoutMs: 20_000 })
}

await withApp(app, 'relocation', async (world) => {
  const file = path.join(world.scratch, 'county.sqlite')
  const cli = (args) =>
    execFileSync(bangfu, args, { env: { ...process.env, BANGFU_HOME: path.join(world.scratch, 'cli') }, encoding: 'utf8' })
  cli(['generate', '--db', file, '--households', '400', '--seed', '3'])
  const stages = [['开工', '2024-03-10'], ['基础', '2024-05-20'], ['主体', '2024-08-15'], ['竣工', '2024-12-01']]
  for (const [stage, date] of stages) {
    cli(['policy', 'stage', '--db', file, '--household', HOUSEHOLD, '--site', SITE, '--stage', stage, '--date', date])
  }
  const said = cli(['policy', 'stage', '--db', file, '--household', HOUSEHOLD, '--site', SITE, '--stage', '入住',
    '--date', '2025-03-01', '--site-village', SITE_VILLAGE])
  step(said.trim().split('\n').at(-1))

  const session = await world.launch(['--db', file])
  await waitForList(session)
  await waitFor(`the household ${HOUSEHOLD} opened`, async () => {
    const opened = await session.execute(
      `const row = [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')]
         .find((r) => r.cells[0].textContent.trim() === '${HOUSEHOLD}')
       if (!row) return null
       row.querySelector('td .cell').click()
       return true`,
    )
    return opened ?? undefined
  }, { timeoutMs: 20_000 })
  await waitFor('the household page', () => session.findAll('[data-testid="household-page"]').then((f) => f.length === 1))

  const village = await showRelocation(session)
  assert(village === `团源村（${SITE_VILLAGE}）`, `the box names the 安置点's village: ${village}`)
  const offer = await text(session, 'relocation-move-offer')
  assert(offer.includes('本户已入住团源村的安置点，仍在新湾村建档。') && offer.includes('迁入团源村'), `the move is offered: ${offer}`)
  step(`box: 安置点所在村 ${village}; ${offer}`)
  await shot(session, 'relocation-01-offered.png')

  // 暂不迁移: nothing moves and the offer stays.
  await session.click(await session.find('[data-testid="relocation-move"]'))
  await answer(session, false)
  const later = await waitFor('what 暂不迁移 said', () =>
    session.execute(`return [...document.querySelectorAll('.el-message')].map((m) => m.textContent.trim()).find((t) => t.includes('本户未迁移')) ?? null`))
  assert(later === '本户未迁移；以后可在本栏点“迁入团源村…”办理。', `暂不迁移 says where to move it later: ${later}`)
  assert(((await text(session, 'relocation-move-offer')) ?? '').includes('迁入团源村'), 'still offered after 暂不迁移')
  assert(((await text(session, 'page-title')) ?? '').includes(HOUSEHOLD), 'the household keeps its 户编号')

  // 迁入: the household takes 团源村's lowest free 户编号 and the offer goes.
  await session.click(await session.find('[data-testid="relocation-move"]'))
  await answer(session, true)
  const title = await waitFor('the page under its new 户编号', async () => {
    const t = (await text(session, 'page-title')) ?? ''
    return t.includes(SITE_VILLAGE) ? t : undefined
  }, { timeoutMs: 20_000 })
  await waitFor('the offer gone', async () => (await text(session, 'relocation-move-offer')) === null || undefined, { timeoutMs: 20_000 })
  assert((await showRelocation(session)) === `团源村（${SITE_VILLAGE}）`, 'the 安置点\'s village still named')
  step(`moved: ${title}`)
  await shot(session, 'relocation-02-moved.png')
})
