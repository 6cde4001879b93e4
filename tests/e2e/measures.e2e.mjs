// End-to-end test of a household's policies on the real app (the demo village): on a household
// page, a measure recorded under a policy and paid above its amount due is flagged in the
// 帮扶措施与发放 box and as a 疑点 on the measure's row; a member's 引导性培训 is recorded from the
// page; a relocation is started with its 安置点 and 开工 and the next stage is offered.
// On 驻村工作队, a member registered and then corrected in the 修改 dialog (职务, phone).
// Screenshots of each box are looked at.
//
// Usage: node tests/e2e/measures.e2e.mjs <path of bangfu-desktop>
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { Keys, waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/measures.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const text = (session, testid) =>
  session.execute(`return document.querySelector('[data-testid="${testid}"]')?.textContent.replace(/\\s+/g, ' ').trim() ?? null`)

const enabled = (session, testid) =>
  session.execute(`const b = document.querySelector('[data-testid="${testid}"]'); return b && !b.disabled ? true : null`)

/** Scrolls a section of the page to the top of the window, as a person scrolls to it. */
const scrollTo = (session, id) =>
  session.execute(`document.getElementById('${id}')?.scrollIntoView({ block: 'start' }); return true`)

/** Waits for the success message `words`, then for every message to go (they lie over dialogs). */
async function saved(session, words) {
  const message = await waitFor(`the message ${words}`, () =>
    session.execute(`return [...document.querySelectorAll('.el-message')].map((m) => m.textContent).find((t) => t.includes('${words}')) ?? null`),
  { timeoutMs: 10_000 })
  step(`saved: ${message}`)
  await waitFor('the message gone', () => session.execute(`return document.querySelector('.el-message') ? null : true`), { timeoutMs: 10_000 })
}

/** Opens an Element Plus select by its wrapper and clicks the first visible option whose text
 *  includes `words` (any option when empty); returns the option's text. */
async function pick(session, testid, words) {
  const wrapper = await waitFor(`the ${testid} box`, () =>
    session.execute(`return document.querySelector('[data-testid="${testid}"] .el-select__wrapper')`))
  await session.click(Object.values(wrapper)[0])
  const picked = await waitFor(`${words || 'an option'} picked in ${testid}`, () =>
    session.execute(`
      const li = [...document.querySelectorAll('.el-select-dropdown__item')]
        .find((li) => li.offsetParent && !li.classList.contains('is-disabled') && li.textContent.includes(${JSON.stringify(words)}))
      if (!li) return null
      const t = li.textContent.trim()
      li.click()
      return t`))
  // The list fades out over the fields below it: they take clicks once it has gone.
  await waitFor(`the ${testid} list closed`, () =>
    session.execute(`return [...document.querySelectorAll('.el-select-dropdown__item')].some((li) => li.offsetParent) ? null : true`))
  await new Promise((resolve) => setTimeout(resolve, 300))
  return picked
}

/** Opens the `index`-th household the list shows as 未脱贫; returns its 户编号. */
async function openHousehold(session, index) {
  await waitForList(session)
  const code = await waitFor(`the ${index + 1}th 未脱贫 household in the list`, async () => {
    const found = await session.execute(
      `const row = [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')]
         .filter((r) => [...r.cells].some((c) => c.textContent.trim() === '未脱贫'))[${index}]
       if (!row) return null
       const code = row.cells[0].textContent.trim()
       row.querySelector('td .cell').click()
       return code`)
    return found ?? undefined
  })
  await waitFor('the household page', () => session.findAll('[data-testid="household-page"]').then((f) => f.length === 1))
  step(`opened household ${code}`)
  return code
}

/** Back to the list from a household page. */
async function backToList(session) {
  await session.click(await session.find('[data-testid="back-to-list"]'))
  await waitFor('the list', () => session.findAll('[data-testid="household-page"]').then((f) => f.length === 0))
}

/** A dialog slides in: its fields take clicks once it stands still. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 800))

await withApp(app, 'measures', async (world) => {
  const dataFile = path.join(world.scratch, 'measures.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await openHousehold(session, 0)
  await waitFor('the measure box', () => text(session, 'measure-box'), { timeoutMs: 20_000 })

  // A 产业扶持 measure under its policy (the amount due is the policy's), then a payment above it.
  const measureRows = () =>
    session.execute(`return [...document.querySelectorAll('[data-testid="measure-box"] tbody tr')].map((r) => r.dataset.testid)`)
  const before = new Set(await measureRows())
  await scrollTo(session, 'sec-payments')
  await session.click(await session.find('[data-testid="measure-add"]'))
  await settle()
  const policy = await pick(session, 'measure-policy', '产业')
  step(`policy: ${policy}`)
  await waitFor('the measure form complete', () => enabled(session, 'measure-save'))
  await session.click(await session.find('[data-testid="measure-save"]'))
  await saved(session, '已登记帮扶措施')
  const added = await waitFor('the new measure listed', async () => (await measureRows()).find((id) => !before.has(id)))
  const row = await text(session, added)
  step(`listed: ${row}`)
  assert(row.includes('产业'), `the new measure names its policy: ${row}`)
  await session.click(await session.find(`[data-testid="${added}"] [data-testid="payment-add"]`))
  await settle()
  await typeInto(session, 'payment-amount', '8000')
  await session.keys(Keys.TAB)
  const over = await waitFor('the over-due warning', () => text(session, 'payment-over'))
  step(`warned: ${over}`)
  assert(over.includes('超出应发金额'), `the dialog warns before paying above the due: ${over}`)
  await shot(session, 'measures-01-payment-over.png')
  await session.click(await session.find('[data-testid="payment-save"]'))
  const confirm = await waitFor('the confirmation', () =>
    session.execute(`return [...document.querySelectorAll('.el-message-box button')].find((b) => b.textContent.includes('核实无误')) ?? null`))
  await session.click(Object.values(confirm)[0])
  await saved(session, '已登记发放记录')
  const flagged = await waitFor('the measure flagged 超出应发', async () => {
    const t = await text(session, added)
    return t && t.includes('超出应发') ? t : undefined
  })
  step(`flagged: ${flagged}`)
  assert(flagged.includes('8000'), `the payment is listed: ${flagged}`)
  const finding = await waitFor('the 疑点 on the measure row', () =>
    session.execute(`return document.querySelector('[data-rule="measure.overpaid"]')?.textContent.trim() ?? null`),
  { timeoutMs: 15_000 })
  step(`疑点: ${finding}`)
  assert(finding.includes('已发放 8000 元') && finding.includes('超出应发金额'), `the 疑点 names the amounts: ${finding}`)
  await scrollTo(session, 'sec-payments')
  await shot(session, 'measures-02-flagged.png')
  await session.execute(`document.querySelector('[data-rule="measure.overpaid"]').scrollIntoView({ block: 'center' }); return true`)
  await shot(session, 'measures-03-finding.png')

  // A member's 引导性培训 of two days.
  await scrollTo(session, 'sec-payments')
  await session.click(await session.find('[data-testid="training-add"]'))
  await settle()
  const trainee = await pick(session, 'training-member', '')
  step(`trainee: ${trainee}`)
  await waitFor('the training form complete', () => enabled(session, 'training-save'))
  await shot(session, 'measures-04-training-dialog.png')
  await session.click(await session.find('[data-testid="training-save"]'))
  await saved(session, '已登记培训')
  const trained = await waitFor('the training listed', async () => {
    const t = await text(session, 'measure-box')
    return t && t.includes(`${trainee}：引导性培训 2天`) ? t : undefined
  })
  assert(trained, 'the training is a measure of the household')
  await scrollTo(session, 'sec-payments')
  await shot(session, 'measures-04-trained.png')

  // Relocation: a household whose box offers to start one (not already relocated), started
  // with its 安置点 and 开工; then 基础 is offered next.
  let index = 0
  for (;;) {
    await waitFor('the relocation box', () => text(session, 'relocation-box'), { timeoutMs: 20_000 })
    if (await enabled(session, 'relocation-start')) break
    assert(index < 10, 'a household not yet relocated among the first ten')
    await backToList(session)
    await openHousehold(session, ++index)
  }
  await scrollTo(session, 'sec-relocation')
  await shot(session, 'measures-05-relocation-start.png')
  await session.click(await session.find('[data-testid="relocation-start"]'))
  await settle()
  await typeInto(session, 'relocation-site-input', '勐康镇集镇安置点')
  await typeInto(session, 'relocation-loan', '30000')
  await session.keys(Keys.TAB)
  await waitFor('the stage form complete', () => enabled(session, 'relocation-save'))
  await shot(session, 'measures-06-relocation-form.png')
  await session.click(await session.find('[data-testid="relocation-save"]'))
  await saved(session, '已登记建设进度')
  const box = await waitFor('开工 recorded', async () => {
    const t = await text(session, 'relocation-stage-1')
    return t && !t.includes('未到') ? t : undefined
  })
  step(`stage: ${box}`)
  assert(box.includes('30000'), `the loan is shown: ${box}`)
  const next = await text(session, 'relocation-add')
  assert(next.includes('基础'), `the next stage offered is 基础: ${next}`)
  assert((await text(session, 'relocation-site')) === '勐康镇集镇安置点', 'the 安置点 is shown')
  await scrollTo(session, 'sec-relocation')
  await shot(session, 'measures-07-relocation.png')

  // 驻村工作队: a member registered, then corrected in the 修改 dialog.
  await session.click(await session.find('[data-testid="tab-team"]'))
  await waitFor('the team page', () => text(session, 'team-page'), { timeoutMs: 20_000 })
  await waitFor('登记队员 enabled', () => enabled(session, 'team-add'))
  await session.click(await session.find('[data-testid="team-add"]'))
  await settle()
  await typeInto(session, 'team-name', '李明远')
  await pick(session, 'team-role', '第一书记')
  await typeInto(session, 'team-unit', '县农业农村局')
  await waitFor('the form complete', () => enabled(session, 'team-save'))
  await session.click(await session.find('[data-testid="team-save"]'))
  await saved(session, '已登记')
  await waitFor('the member listed', () => text(session, 'team-member-李明远'), { timeoutMs: 10_000 })
  await session.click(await session.find('[data-testid="team-member-李明远"] [data-testid="team-edit"]'))
  await settle()
  await typeInto(session, 'team-phone', '13900001111')
  await waitFor('the edit complete', () => enabled(session, 'team-save'))
  await shot(session, 'measures-08-team-edit.png')
  await session.click(await session.find('[data-testid="team-save"]'))
  await saved(session, '已修改')
  const edited = await waitFor('the phone changed', async () => {
    const t = await text(session, 'team-member-李明远')
    return t && t.includes('13900001111') ? t : undefined
  })
  step(`edited: ${edited}`)
  await shot(session, 'measures-09-team.png')
})
