// People and roles on a shared laptop (issue 15), in the real app: in 设置 → 人员 a 第一书记 is
// added (the first person turns sign-in on), signs in and adds a 队员; after a restart the
// sign-in screen refuses a wrong PIN; the 队员 sees 证件号码 masked in the household list and,
// on the 退出 tab, the core's Chinese refusal before filling anything, with 办理 disabled; the
// 第一书记 sees full numbers and
// records the same step; a 只读 inspector added by the 第一书记 finds the household page's
// 帮扶措施与发放 buttons, and the page's own 保存, add, remove and 减员 buttons and fields,
// disabled with the core's reason.
//
// Usage: node tests/e2e/roles.e2e.mjs <path of bangfu-desktop>
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { choose, waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/roles.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const LEADER = '刘书记'
const MEMBER = '王队员'
const LEADER_PIN = '2468'
const MEMBER_PIN = '1357'
const INSPECTOR = '陈检查'
const INSPECTOR_PIN = '9753'

function textOf(session, testid) {
  return session.execute(`return document.querySelector('[data-testid="${testid}"]')?.textContent.replace(/\\s+/g, ' ').trim() ?? null`)
}

async function clickWhenReady(session, selector, what) {
  await waitFor(what, async () => {
    await session.click(await session.find(selector))
    return true
  }, { timeoutMs: 15_000 })
}

async function addPerson(session, name, role, pin) {
  await clickWhenReady(session, '[data-testid="tab-settings"]', 'the 设置 tab')
  await waitFor('the 人员 section', () => session.findAll('[data-testid="person-name"]').then((f) => f.length === 1))
  await typeInto(session, 'person-name', name)
  await clickWhenReady(session, `[data-testid="person-role-${role}"]`, `the role ${role}`)
  await typeInto(session, 'person-pin', pin)
  await typeInto(session, 'person-pin-again', pin)
  await session.click(await session.find('[data-testid="person-add"]'))
  step(`added ${name} (${role})`)
}

async function signInScreen(session) {
  await waitFor('the sign-in screen', () => session.findAll('[data-testid="signin-screen"]').then((f) => f.length === 1), { timeoutMs: 60_000 })
}

async function signIn(session, name, pin) {
  await signInScreen(session)
  await clickWhenReady(session, `[data-testid="signin-name-${name}"]`, `the name ${name}`)
  await typeInto(session, 'signin-pin', pin)
  await session.click(await session.find('[data-testid="signin-submit"]'))
  const who = await waitFor('the header to name who is signed in', async () => {
    const text = await textOf(session, 'frame-actor')
    return text && text.includes(name) ? text : undefined
  }, { timeoutMs: 30_000 })
  step(`signed in: ${who}`)
  return who
}

/** Every 证件号码 the list's first page shows. */
async function listedIds(session) {
  await waitForList(session)
  return waitFor('证件号码 in the list', async () => {
    const ids = await session.execute(
      `return [...document.querySelectorAll('.el-table__body-wrapper tbody td')].map((td) => td.textContent.trim()).filter((t) => /^[0-9]{6}[0-9*]{8}[0-9]{3}[0-9X*]$/.test(t))`,
    )
    return ids.length > 0 ? ids : undefined
  }, { timeoutMs: 20_000 })
}

/** Opens the first household the list shows as 未脱贫, then its 退出 tab. */
async function openPoorHouseholdExit(session) {
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
  await clickWhenReady(session, '.el-tabs__item#tab-exit', 'the 退出 tab')
  await waitFor('the exit tab', () => session.findAll('[data-testid="exit-tab"]').then((f) => f.length === 1))
  step(`opened the 退出 tab of ${code}`)
  return code
}

async function fillSurvey(session) {
  await waitFor('入户调查 to be next', async () => (await textOf(session, 'exit-next-step')) === '入户调查', { timeoutMs: 15_000 })
  await typeInto(session, 'exit-form-people', '村委会 王村长、驻村工作队 刘书记')
  await choose(session, 'exit-form-household_signed', '是')
  await choose(session, 'exit-form-food_secure', '是')
  await choose(session, 'exit-form-clothing_secure', '是')
  await typeInto(session, 'exit-form-signatures', '户主、王村长、刘书记')
  await session.click(await session.find('[data-testid="exit-record"]'))
}

await withApp(app, 'roles', async (world) => {
  const dataFile = path.join(world.scratch, 'village.sqlite')
  let session = await world.launch(['--db', dataFile, '--seed-demo'])
  const fullBefore = await listedIds(session)
  assert(fullBefore.every((id) => !id.includes('*')), `no people yet: full numbers for everyone (${fullBefore[0]})`)

  // The first person must manage people; adding them turns sign-in on at once.
  await addPerson(session, LEADER, 'leader', LEADER_PIN)
  await signIn(session, LEADER, LEADER_PIN)
  await addPerson(session, MEMBER, 'member', MEMBER_PIN)
  await waitFor('both people listed', async () => {
    const text = (await textOf(session, 'people-table')) ?? ''
    return text.includes(LEADER) && text.includes(MEMBER) && text.includes('队员') ? true : undefined
  })
  await shot(session, 'roles-people.png')

  await world.quit()
  session = await world.launch(['--db', dataFile])
  await signInScreen(session)
  assert((await session.findAll('[data-testid="household-count"]')).length === 0, 'nothing is listed before someone signs in')
  await clickWhenReady(session, `[data-testid="signin-name-${MEMBER}"]`, 'the 队员')
  await typeInto(session, 'signin-pin', '0000')
  await session.click(await session.find('[data-testid="signin-submit"]'))
  const wrong = await waitFor('the wrong PIN refused', () => textOf(session, 'signin-error'), { timeoutMs: 15_000 })
  assert(wrong.includes('PIN 码不对') && wrong.includes('还可以再试 4 次'), `a wrong PIN is refused: ${wrong}`)
  step(`refused: ${wrong}`)
  await shot(session, 'roles-sign-in.png')

  await signIn(session, MEMBER, MEMBER_PIN)
  const masked = await listedIds(session)
  assert(masked.every((id) => /^[0-9]{6}\*{8}[0-9]{3}[0-9X]$/.test(id)), `a 队员 sees masked numbers: ${masked.slice(0, 3)}`)
  step(`a 队员 sees ${masked[0]}`)
  await shot(session, 'roles-member-list.png')
  const code = await openPoorHouseholdExit(session)
  // The 退出 tab says before anything is filled that a 队员 may not record a step, and its
  // 办理 button is disabled: nobody fills a whole survey to learn it at the end.
  await waitFor('入户调查 to be next', async () => (await textOf(session, 'exit-next-step')) === '入户调查', { timeoutMs: 15_000 })
  const refusal = await waitFor('the reason shown up front', () => textOf(session, 'exit-steps-refused'), { timeoutMs: 15_000 })
  assert(refusal.includes('只有第一书记或队长可以办理退出步骤'), `the refusal names the role needed: ${refusal}`)
  const recordDisabled = await session.execute(`return document.querySelector('[data-testid="exit-record"]').disabled`)
  assert(recordDisabled === true, `办理 is disabled for a 队员: ${recordDisabled}`)
  assert((await textOf(session, 'exit-record-1')) === null, 'nothing recorded')
  step(`refused up front: ${refusal}`)
  await session.execute(`document.querySelector('[data-testid="exit-steps-refused"]').scrollIntoView({ block: 'center' })`)
  await shot(session, 'roles-member-exit-refused.png')
  // On 户信息 the 队员 edits the household but cannot move it: 所属村 is disabled with the
  // reason (moving is the 第一书记's, 队长's or the township's act).
  await clickWhenReady(session, '.el-tabs__item#tab-info', 'the 户信息 tab')
  const village = await waitFor('所属村 on the page', () =>
    session.execute(`
      const s = document.querySelector('[data-testid="household-page"] .el-select[data-testid="field-village_id"], [data-testid="household-page"] [data-testid="field-village_id"]')
      if (!s) return null
      const wrapper = s.closest('.el-select') ?? s
      return { disabled: wrapper.classList.contains('is-disabled') || !!wrapper.querySelector('.is-disabled, input[disabled]'), title: wrapper.getAttribute('title') ?? s.getAttribute('title') ?? '' }`), { timeoutMs: 15_000 })
  assert(village.disabled === true, `所属村 is disabled for a 队员: ${JSON.stringify(village)}`)
  assert(village.title.includes('把户迁到另一个村'), `its title says why: ${JSON.stringify(village)}`)
  step(`所属村 for a 队员: ${village.title}`)
  await session.execute(`document.querySelector('[data-testid="household-page"]').scrollIntoView({ block: 'start' })`)
  await shot(session, 'roles-member-household.png')
  // On 脱贫标准 the 队员 reads the standards but every button that would change one is
  // disabled up front, with the reason above the table.
  await clickWhenReady(session, '[data-testid="tab-standards"]', 'the 脱贫标准 tab')
  const standards = await waitFor('the standards page for a 队员', () =>
    session.execute(`
      const add = document.querySelector('[data-testid="standards-add"]')
      const change = document.querySelector('[data-testid="standard-change"]')
      const why = document.querySelector('[data-testid="standards-refused"]')
      if (!add || !change || !why) return null
      return { add: add.disabled, change: change.disabled, why: why.textContent.trim() }`), { timeoutMs: 15_000 })
  assert(standards.add && standards.change, `设定一个年度 and 修改 are disabled for a 队员: ${JSON.stringify(standards)}`)
  assert(standards.why.includes('脱贫标准'), `the reason names the standards: ${JSON.stringify(standards)}`)
  step(`脱贫标准 for a 队员: ${standards.why}`)
  await shot(session, 'roles-member-standards.png')

  await clickWhenReady(session, '[data-testid="sign-out"]', '退出登录')
  await signIn(session, LEADER, LEADER_PIN)
  const full = await listedIds(session)
  assert(full.every((id) => !id.includes('*')), `a 第一书记 sees full numbers: ${full[0]}`)
  const again = await openPoorHouseholdExit(session)
  assert(again === code, `the same household: ${again}`)
  await fillSurvey(session)
  await waitFor('the survey in the trail', async () => ((await textOf(session, 'exit-record-1')) ?? '').includes('入户调查'), { timeoutMs: 15_000 })
  await waitFor('村两委商议 to be next', async () => (await textOf(session, 'exit-next-step')) === '村两委商议')
  step(`recorded by ${LEADER}: ${await textOf(session, 'exit-record-1')}`)
  await shot(session, 'roles-leader-exit-recorded.png')

  // A 只读 inspector reads the household page; its 帮扶措施与发放 box cannot record anything.
  await addPerson(session, INSPECTOR, 'read_only', INSPECTOR_PIN)
  await waitFor('the inspector listed', async () => ((await textOf(session, 'people-table')) ?? '').includes(INSPECTOR) || undefined)
  await clickWhenReady(session, '[data-testid="sign-out"]', '退出登录')
  await signIn(session, INSPECTOR, INSPECTOR_PIN)
  await openPoorHouseholdExit(session)
  await clickWhenReady(session, '.el-tabs__item#tab-info', 'the 户信息 tab')
  const box = await waitFor('the measure box', async () => {
    const state = await session.execute(
      `const add = document.querySelector('[data-testid="measure-add"]')
       const training = document.querySelector('[data-testid="training-add"]')
       const why = document.querySelector('[data-testid="measure-readonly"]')
       if (!add || !training || !why) return null
       add.scrollIntoView({ block: 'center' })
       return { add: add.disabled, training: training.disabled, why: why.textContent.trim() }`,
    )
    return state ?? undefined
  }, { timeoutMs: 20_000 })
  assert(box.add && box.training, `the measure buttons are disabled for 只读: ${JSON.stringify(box)}`)
  assert(box.why.includes('只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息'), `the box says why: ${box.why}`)
  step(`只读: ${box.why}`)
  await shot(session, 'roles-read-only-measures.png')

  // The page's own acts are disabled too (issue 15): 保存, the members', incomes', pairings',
  // measures' and visits' add and remove buttons, 减员; the bar says why.
  const page = await session.execute(
    `const buttons = ['save', 'add-member', 'member-0-remove', 'member-1-head', 'member-1-leave', 'add-income',
       'add-pairing', 'new-cadre', 'add-measure', 'add-visit']
     const state = Object.fromEntries(buttons.map((id) => [id, document.querySelector('[data-testid="' + id + '"]')?.disabled ?? 'missing']))
     // The page's own fields; the 档案 box's form (its 加入档案 is disabled) and the card's
     // print options (open to 只读) are the boxes' own.
     const inputs = [...document.querySelectorAll('[data-testid="household-page"] input:not([type="hidden"])')]
       .filter((i) => !i.closest('[data-testid="archive-box"], [data-testid="card-panel"]'))
     document.querySelector('[data-testid="household-page"]').scrollTop = 0
     return { state, why: document.querySelector('[data-testid="page-readonly"]')?.textContent.trim() ?? null,
       enabledInputs: inputs.filter((i) => !i.disabled && !i.closest('.exit-head')).map((i) => i.placeholder || i.dataset.testid || i.className) }`,
  )
  const notDisabled = Object.entries(page.state).filter(([, disabled]) => disabled !== true)
  assert(notDisabled.length === 0, `the page's buttons are disabled for 只读: ${JSON.stringify(notDisabled)}`)
  assert((page.why ?? '').includes('只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。本页只能查看。'), `the bar says why: ${page.why}`)
  assert(page.enabledInputs.length === 0, `no field of the page can be typed into: ${JSON.stringify(page.enabledInputs)}`)
  step(`只读 household page: ${Object.keys(page.state).join(', ')} disabled; ${page.why}`)
  await shot(session, 'roles-read-only-household.png')
})
