// 设备与安全码 on 同步 (issue 15): a township station that holds the changes of devices it has
// not confirmed imports a village laptop's file; the change waits, the laptop is listed as
// 待确认设备 with its 安全码 and the file waiting; the clerk compares the 安全码, confirms
// the laptop for its village, and the waiting change merges (the household shows it); a
// stranger's file that waits is declined (不合并): the held file goes, nothing of it merged.
//
// Usage: node tests/e2e/devices.e2e.mjs <path of bangfu-desktop> <path of bangfu>
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app, cli] = process.argv.slice(2)
if (!app || !cli) {
  console.error('usage: node tests/e2e/devices.e2e.mjs <path of bangfu-desktop> <path of bangfu>')
  process.exit(2)
}

const HOUSEHOLD = '530826103201001'
const PHONE = '13912345678'

/** Runs the command line as the station (the app's own identity folder) or the laptop. */
function bangfu(home, args) {
  return execFileSync(cli, args, { encoding: 'utf8', env: { ...process.env, BANGFU_HOME: home } })
}

function texts(session, testid) {
  return session.execute(
    `return [...document.querySelectorAll('[data-testid="${testid}"]')].map((e) => e.textContent.trim())`,
  )
}

await withApp(app, 'devices', async (world) => {
  const station = path.join(world.scratch, 'station.sqlite')
  const laptop = path.join(world.scratch, 'laptop.sqlite')
  const stationHome = path.join(world.scratch, 'bangfu')
  const laptopHome = path.join(world.scratch, 'laptop-home')
  const file = (name) => path.join(world.scratch, name)

  step('the station files the demo village; a village laptop is introduced and takes its file')
  bangfu(stationHome, ['demo', '--db', station])
  bangfu(laptopHome, ['changes', 'export', '--introduction', '--db', laptop, '--out', file('intro.bfcs')])
  bangfu(stationHome, ['changes', 'import', '--db', station, file('intro.bfcs')])
  bangfu(stationHome, ['changes', 'export', '--db', station, '--out', file('for-laptop.bfcs'), '--for', file('intro.bfcs')])
  bangfu(laptopHome, ['changes', 'import', '--db', laptop, file('for-laptop.bfcs')])
  step('the laptop changes a phone number and exports; the station holds unconfirmed devices\' changes')
  bangfu(laptopHome, ['edit', '--db', laptop, '--household', HOUSEHOLD, '--set', `联系电话=${PHONE}`])
  bangfu(laptopHome, ['changes', 'export', '--db', laptop, '--out', file('from-laptop.bfcs')])
  bangfu(stationHome, ['device', 'require', '--db', station, 'on'])
  const laptopPrint = bangfu(laptopHome, ['device', 'list', '--db', laptop])
    .split('\n')
    .find((l) => l.startsWith('[本机]'))
    ?.match(/安全码 ([0-9 ]+)/)?.[1]
    ?.trim()
  assert(laptopPrint, 'the laptop shows its own 安全码')

  step('a second laptop no one vouches for is introduced the same way and changes a phone number too')
  const strangerHome = path.join(world.scratch, 'stranger-home')
  const stranger = path.join(world.scratch, 'stranger.sqlite')
  bangfu(strangerHome, ['changes', 'export', '--introduction', '--db', stranger, '--out', file('intro-stranger.bfcs')])
  bangfu(stationHome, ['changes', 'import', '--db', station, file('intro-stranger.bfcs')])
  bangfu(stationHome, ['changes', 'export', '--db', station, '--out', file('for-stranger.bfcs'), '--for', file('intro-stranger.bfcs')])
  bangfu(strangerHome, ['changes', 'import', '--db', stranger, file('for-stranger.bfcs')])
  bangfu(strangerHome, ['edit', '--db', stranger, '--household', HOUSEHOLD, '--set', '联系电话=13700000000'])
  bangfu(strangerHome, ['changes', 'export', '--db', stranger, '--out', file('from-stranger.bfcs')])

  const session = await world.launch(['--db', station])
  await waitForList(session)
  await session.click(await session.find('[data-testid="tab-sync"]'))
  const own = await waitFor('the station\'s own 安全码', async () => (await texts(session, 'own-fingerprint'))[0])
  step(own)
  assert(/本机安全码：\s*[0-9]{5}( [0-9]{5}){5}/.test(own), `the station shows its own 安全码 to read out: ${own}`)

  step('同步: the laptop\'s file is imported; its change waits')
  await typeInto(session, 'import-path', file('from-laptop.bfcs'))
  await session.click(await session.find('[data-testid="import"]'))
  const result = await waitFor('the import result', async () => (await texts(session, 'import-result'))[0], { timeoutMs: 60_000 })
  step(result)
  assert(result.includes('尚未确认的设备') && result.includes('已暂存'), `the import says the change waits: ${result}`)
  const waiting = await waitFor('the laptop listed as waiting', async () => {
    const lines = await texts(session, 'device-waiting')
    return lines.find((l) => l.includes('确认后合并'))
  })
  step(waiting)
  const table = (await texts(session, 'devices-table'))[0]
  assert(table.includes('待确认设备') && table.includes(laptopPrint), `the table names the laptop's 安全码 ${laptopPrint}: ${table}`)
  await shot(session, 'devices-01-waiting.png')

  step('确认: the 安全码 compared, the laptop confirmed for its village')
  await session.click(await session.find('[data-testid="device-confirm"]'))
  await waitFor('the confirm dialog', async () => (await texts(session, 'device-confirm-dialog')).some((t) => t.includes(laptopPrint)))
  const disabled = () => session.execute(`return document.querySelector('[data-testid="device-confirm-ok"]').disabled`)
  assert((await disabled()) === true, 'confirm waits for the comparison')
  await session.click(await session.find('[data-testid="device-compared"]'))
  // The village list opened with the mouse, as a person picks from it.
  const villageBox = await waitFor('the village box', () =>
    session.execute(`return document.querySelector('[data-testid="device-village"] .el-select__wrapper')`))
  await session.click(Object.values(villageBox)[0])
  await waitFor('新文村 picked', () =>
    session.execute(`
      const li = [...document.querySelectorAll('.el-select-dropdown__item')]
        .find((li) => li.textContent.includes('530826103201') && li.offsetParent)
      if (!li) return null
      li.click()
      return true`))
  await shot(session, 'devices-02-confirm.png')
  await session.click(await session.find('[data-testid="device-confirm-ok"]'))
  const said = await waitFor('what confirming did', async () => {
    const lines = await texts(session, 'devices-said')
    return lines.length > 1 ? lines.join(' / ') : undefined
  }, { timeoutMs: 60_000 })
  step(said)
  assert(said.includes('已确认设备') && said.includes('更新 1 户'), `the waiting change merged: ${said}`)
  const after = (await texts(session, 'devices-table'))[0]
  assert(after.includes('已确认') && after.includes('限') && !after.includes('确认后合并'), `the laptop is confirmed for its village, nothing waits: ${after}`)
  await shot(session, 'devices-03-confirmed.png')

  step('a stranger\'s file waits; 不合并 declines it, the file goes and nothing of it merged')
  await typeInto(session, 'import-path', file('from-stranger.bfcs'))
  await session.click(await session.find('[data-testid="import"]'))
  await waitFor('the stranger listed as waiting', async () => {
    const lines = await texts(session, 'device-waiting')
    return lines.some((l) => l.includes('确认后合并')) ? true : undefined
  }, { timeoutMs: 60_000 })
  await shot(session, 'devices-04-stranger-waiting.png')
  await session.click(await session.find('[data-testid="device-drop"]'))
  const box = await waitFor('the 不合并 question', async () => {
    const t = await session.execute(`return document.querySelector('.el-message-box')?.textContent ?? ''`)
    return t.includes('不合并') ? t : undefined
  })
  step(box)
  await session.click(await session.find('.el-message-box .el-button--primary'))
  const declined = await waitFor('what declining did', async () => {
    const lines = await texts(session, 'devices-said')
    return lines.find((l) => l.includes('已不合并'))
  }, { timeoutMs: 30_000 })
  step(declined)
  assert(declined.includes('删除暂存的同步文件 1 个'), `the stranger's file is gone: ${declined}`)
  const rows = (await texts(session, 'device-waiting')).filter((l) => l !== '')
  assert(rows.length === 0, `nothing waits any more: ${rows}`)
  await shot(session, 'devices-05-declined.png')

  step('取消确认 takes the laptop\'s confirmation back: it is 待确认 again, what it brought stays')
  await session.click(await session.find('[data-testid="device-unconfirm"]'))
  const question = await waitFor('the 取消确认 question', async () => {
    const t = await session.execute(`return document.querySelector('.el-message-box')?.textContent ?? ''`)
    return t.includes('取消确认设备') ? t : undefined
  })
  step(question)
  await session.click(await session.find('.el-message-box .el-button--primary'))
  const unconfirmed = await waitFor('what 取消确认 did', async () => {
    const lines = await texts(session, 'devices-said')
    return lines.find((l) => l.includes('已取消确认设备'))
  }, { timeoutMs: 30_000 })
  step(unconfirmed)
  const pending = await waitFor('the laptop 待确认 again', async () => {
    const t = (await texts(session, 'devices-table'))[0]
    return t.includes('待确认设备') && !t.includes('已确认') ? t : undefined
  }, { timeoutMs: 30_000 })
  step(pending)
  await waitFor('the 取消确认 question to be gone', async () =>
    (await session.execute(
      `return [...document.querySelectorAll('.el-overlay.is-message-box')].every((e) => getComputedStyle(e).display === 'none')`,
    )) ? true : undefined,
  { timeoutMs: 15_000 })
  await shot(session, 'devices-05b-unconfirmed.png')

  step('the household shows the laptop\'s phone number')
  await session.click(await session.find('[data-testid="tab-list"]'))
  await waitForList(session)
  await session.type(await session.find('input[data-testid="household-search"]'), HOUSEHOLD)
  await waitFor(`a row of ${HOUSEHOLD}`, async () => {
    // Found and clicked in one call: the table re-renders while the search settles.
    const row = await session.execute(
      `return [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')]
         .find((r) => r.textContent.includes('${HOUSEHOLD}'))?.querySelector('td .cell') ?? null`,
    )
    if (!row) return undefined
    await session.click(Object.values(row)[0])
    return true
  })
  await waitFor('the phone on the page', async () => (await session.execute(
    `return [...document.querySelectorAll('input')].some((i) => i.value === '${PHONE}')`,
  )), { timeoutMs: 20_000 })
  await shot(session, 'devices-06-household.png')
})
