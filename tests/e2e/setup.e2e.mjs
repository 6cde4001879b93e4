// The first-run wizard, end to end: a first start (no data file remembered) shows the wizard;
// it asks 本机名称, 所属乡镇/村 and where the data file lives, then joins by the setup file a
// township put on a U 盘 (a changeset of the demo village made with the `bangfu` command); the
// app then shows that village, names this laptop as typed, and the next start opens the same
// file without the wizard. A screenshot of each screen goes to artifacts/screenshots/setup-*.
//
// With the hub's binary as a third argument, a second first start joins by a county enrolment
// code instead: the hub holds the village (pushed by a township copy), the wizard enrols, and
// the household list fills from the hub.
//
// Usage: node tests/e2e/setup.e2e.mjs <path of bangfu-desktop> <path of bangfu> [<path of bangfu-hub>]
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app, cli, hubBinary] = process.argv.slice(2)
if (!app || !cli) {
  console.error('usage: node tests/e2e/setup.e2e.mjs <path of bangfu-desktop> <path of bangfu>')
  process.exit(2)
}

async function click(session, testid) {
  await session.click(await waitFor(testid, async () => (await session.findAll(`[data-testid="${testid}"]`))[0]))
}

/** The whole text of the header's file line (the window cuts it off with an ellipsis). */
function headerText(session) {
  return waitFor('the header file line', async () => {
    const text = await session.execute(`return document.querySelector('[data-testid="frame-file"]')?.textContent ?? ''`)
    return text.trim() ? text : undefined
  })
}

async function shown(session, testid) {
  return waitFor(`${testid} shown`, async () => (await session.findAll(`[data-testid="${testid}"]`))[0], { timeoutMs: 30_000 })
}

await withApp(app, 'setup', async (world) => {
  // The township's setup file: the demo village as a changeset on a "stick".
  const stick = path.join(world.scratch, 'stick')
  mkdirSync(stick, { recursive: true })
  const township = path.join(world.scratch, 'township.sqlite')
  const env = { ...process.env, BANGFU_HOME: path.join(world.scratch, 'township-home') }
  execFileSync(cli, ['demo', '--db', township], { env, stdio: 'ignore' })
  const setupFile = path.join(stick, '新文村-设置.bfcs')
  execFileSync(cli, ['changes', 'export', '--db', township, '--out', setupFile], { env, stdio: 'ignore' })
  const dataFile = path.join(world.scratch, '帮扶台账', '新文村.sqlite')

  let session = await world.launch([])
  await shown(session, 'setup-welcome')
  await shot(session, 'setup-1-welcome.png')
  await click(session, 'setup-start')

  step('本机名称: 下一步 with the box empty says what to type')
  await shown(session, 'setup-step-device')
  await click(session, 'setup-next')
  const problem = await session.text(await shown(session, 'setup-problem'))
  assert(problem.includes('起个名字'), `an empty device name is refused with a hint, got ${problem}`)
  await typeInto(session, 'setup-device-name', '新文村-笔记本1')
  await shot(session, 'setup-2-device.png')
  await click(session, 'setup-next')

  await shown(session, 'setup-step-place')
  await typeInto(session, 'setup-township', '勐先乡')
  await typeInto(session, 'setup-village', '新文村')
  await shot(session, 'setup-3-place.png')
  await click(session, 'setup-next')

  await shown(session, 'setup-step-file')
  const proposed = await session.execute(`return document.querySelector('[data-testid="setup-data-file"] input, input[data-testid="setup-data-file"]').value`)
  assert(proposed.endsWith(`${path.sep}帮扶台账${path.sep}新文村.sqlite`), `the proposed data file is named after the village: ${proposed}`)
  await typeInto(session, 'setup-data-file', dataFile)
  await shot(session, 'setup-4-file.png')
  await click(session, 'setup-next')

  await shown(session, 'setup-step-join')
  await click(session, 'setup-join-file')
  await typeInto(session, 'setup-file', setupFile)
  await shot(session, 'setup-5-join.png')
  await click(session, 'setup-next')

  const message = await session.text(await shown(session, 'setup-done-message'))
  step(`done: ${message}`)
  assert(/导入|户|条/.test(message), `the done screen says what the setup file brought: ${message}`)
  assert(existsSync(dataFile), `the data file was made where asked: ${dataFile}`)
  await shot(session, 'setup-6-done.png')
  await click(session, 'setup-enter')

  const total = await waitForList(session)
  assert(total >= 250 && total <= 350, `the village from the setup file is shown: ${total} households`)
  const header = await headerText(session)
  assert(header.includes('新文村.sqlite') && header.includes('新文村-笔记本1'), `the header names the file and this laptop: ${header}`)
  const practice = await session.findAll('[data-testid="practice-banner"]')
  assert(practice.length === 0, 'real data is not marked as the practice village')
  await waitFor('the table to finish loading', async () => (await session.findAll('.el-loading-mask')).length === 0)
  await shot(session, 'setup-7-village.png')
  await world.quit()

  step('the next start opens the same file, no wizard')
  session = await world.launch([])
  await waitForList(session)
  const again = await headerText(session)
  assert(again.includes('新文村.sqlite'), `the remembered file opens: ${again}`)
  assert((await session.findAll('[data-testid="setup"]')).length === 0, 'no wizard on the second start')
})

/** Starts the hub on a port of its choosing; resolves to [process, its address]. */
function startHub(dataDir) {
  return new Promise((resolve, reject) => {
    const hub = spawn(hubBinary, ['--data', dataDir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const timer = setTimeout(() => reject(new Error('the hub did not say where it listens within 20 s')), 20_000)
    let output = ''
    hub.stdout.on('data', (chunk) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve([hub, match[1]])
      }
    })
    hub.on('error', reject)
  })
}

if (hubBinary) {
  await withApp(app, 'setup-hub', async (world) => {
    const hubDir = path.join(world.scratch, 'hub')
    mkdirSync(hubDir, { recursive: true })
    const [hub, hubUrl] = await startHub(hubDir)
    try {
      const code = (scope) => execFileSync(hubBinary, ['enrol', '--data', hubDir, '--scope', scope], { encoding: 'utf8' }).trim()
      // The township's copy puts the demo village on the hub.
      const township = path.join(world.scratch, 'township.sqlite')
      const env = { ...process.env, BANGFU_HOME: path.join(world.scratch, 'township-home') }
      execFileSync(cli, ['demo', '--db', township], { env, stdio: 'ignore' })
      execFileSync(cli, ['enrol', '--db', township, '--hub', hubUrl, '--code', code('530826103')], { env, stdio: 'ignore' })
      execFileSync(cli, ['sync', '--db', township], { env, stdio: 'ignore' })

      const session = await world.launch([])
      await shown(session, 'setup-welcome')
      await click(session, 'setup-start')
      await shown(session, 'setup-step-device')
      await typeInto(session, 'setup-device-name', '新文村-笔记本2')
      await click(session, 'setup-next')
      await shown(session, 'setup-step-place')
      await typeInto(session, 'setup-township', '勐先乡')
      await typeInto(session, 'setup-village', '新文村')
      await click(session, 'setup-next')
      await shown(session, 'setup-step-file')
      await typeInto(session, 'setup-data-file', path.join(world.scratch, '新文村.sqlite'))
      await click(session, 'setup-next')
      await shown(session, 'setup-step-join')
      await click(session, 'setup-join-hub')
      await typeInto(session, 'setup-hub-url', hubUrl)
      await typeInto(session, 'setup-hub-code', code('530826103201'))
      await shot(session, 'setup-hub-join.png')
      await click(session, 'setup-next')
      const message = await session.text(await shown(session, 'setup-done-message'))
      step(`done: ${message}`)
      assert(message.includes('已加入县同步中心') && message.includes('530826103201'), `enrolled with the village scope: ${message}`)
      await click(session, 'setup-enter')
      const total = await waitFor('the village pulled from the hub', async () => {
        const count = await session
          .execute(`return document.querySelector('[data-testid="household-count"]')?.textContent ?? ''`)
          .then((text) => Number(/共\s*(\d+)\s*户/.exec(text)?.[1] ?? 0))
        return count >= 250 ? count : undefined
      }, { timeoutMs: 120_000, intervalMs: 1_000 })
      step(`the list shows ${total} households from the hub`)
    } finally {
      hub.kill('SIGTERM')
    }
  })
}
