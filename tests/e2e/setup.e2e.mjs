// The first-run wizard, end to end: a first start (no data file remembered) shows the wizard;
// it asks 本机名称, 所属乡镇/村, where the data file lives and its passphrase (a short one is
// refused), then joins through the township by U 盘: the wizard writes this laptop's
// introduction to the stick and shows the recovery code once; the township (the `bangfu`
// command on the demo village) imports it and exports the village sealed to this laptop, which
// imports it on the 同步 page. The data file is encrypted (no name in it), the app names this
// laptop as typed, and the next start opens the same file without the wizard. A screenshot of
// each screen goes to artifacts/screenshots/setup-*.
//
// With the hub's binary as a third argument, a second first start joins by a county enrolment
// code instead: the hub holds the village (pushed by a township copy), the wizard enrols, and
// the household list fills from the hub.
//
// Usage: node tests/e2e/setup.e2e.mjs <path of bangfu-desktop> <path of bangfu> [<path of bangfu-hub>]
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { E2E_PASSPHRASE, assert, shot, step, typeInto, withApp } from './app.mjs'
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

/** The passphrase step: a short passphrase is refused, then the one the e2e env unlocks with. */
async function passphraseStep(session, { checkShort }) {
  await shown(session, 'setup-step-passphrase')
  if (checkShort) {
    await typeInto(session, 'setup-passphrase', '1234567')
    await typeInto(session, 'setup-passphrase-again', '1234567')
    await click(session, 'setup-next')
    const problem = await session.text(await shown(session, 'setup-problem'))
    assert(problem.includes('至少要有 8 个字符'), `a 7-character passphrase is refused: ${problem}`)
  }
  // The env's BANGFU_PASSPHRASE: the next start unlocks with it as a person would type it.
  await typeInto(session, 'setup-passphrase', E2E_PASSPHRASE)
  await typeInto(session, 'setup-passphrase-again', E2E_PASSPHRASE)
  await shot(session, 'setup-5-passphrase.png')
  await click(session, 'setup-next')
}

/** The done screen's recovery code: 开始使用 waits until the person says it is copied. */
async function copyRecoveryCode(session) {
  const code = (await session.text(await shown(session, 'setup-recovery-code'))).trim()
  assert(/^[\d\s-]{40,}$/.test(code) && code.replace(/\D/g, '').length === 48, `a recovery code of 48 digits is shown: ${code}`)
  const enter = await session.find('[data-testid="setup-enter"]')
  assert((await session.execute(`return document.querySelector('[data-testid="setup-enter"]').disabled`)) === true, '开始使用 waits for the code to be copied')
  await click(session, 'setup-recovery-copied')
  await waitFor('开始使用 enabled', async () => (await session.execute(`return document.querySelector('[data-testid="setup-enter"]').disabled`)) === false)
  return [code, enter]
}

await withApp(app, 'setup', async (world) => {
  // The township's copy holds the demo village; the "stick" is a folder.
  const stick = path.join(world.scratch, 'stick')
  mkdirSync(stick, { recursive: true })
  const township = path.join(world.scratch, 'township.sqlite')
  const env = { ...process.env, BANGFU_HOME: path.join(world.scratch, 'township-home') }
  execFileSync(cli, ['demo', '--db', township], { env, stdio: 'ignore' })
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

  await passphraseStep(session, { checkShort: true })

  await shown(session, 'setup-step-join')
  await click(session, 'setup-join-stick')
  await typeInto(session, 'setup-stick', stick)
  await shot(session, 'setup-6-join.png')
  await click(session, 'setup-next')

  const message = await session.text(await shown(session, 'setup-done-message'))
  step(`done: ${message}`)
  assert(message.includes('介绍文件') && message.includes('同步'), `the done screen says what to do with the stick: ${message}`)
  assert(existsSync(dataFile), `the data file was made where asked: ${dataFile}`)
  assert(existsSync(`${dataFile}.key`), 'its key file is beside it')
  assert(!readFileSync(dataFile).subarray(0, 16).toString('latin1').startsWith('SQLite format 3'), 'the data file is encrypted from the start')
  const [code] = await copyRecoveryCode(session)
  step(`recovery code shown once: ${code.slice(0, 13)}…`)
  await shot(session, 'setup-7-done.png')
  await click(session, 'setup-enter')
  // An empty village until the township's file is imported.
  await shown(session, 'tab-sync')

  step('the township imports the introduction and exports the village for this laptop')
  const intro = readdirSync(stick).find((name) => name.startsWith('新文村-笔记本1-介绍-') && name.endsWith('.bfcs'))
  assert(intro, `the introduction is on the stick: ${readdirSync(stick).join(', ')}`)
  execFileSync(cli, ['changes', 'import', '--db', township, path.join(stick, intro)], { env, stdio: 'ignore' })
  const forLaptop = path.join(stick, '新文村-给笔记本1.bfcs')
  execFileSync(cli, ['changes', 'export', '--db', township, '--for', path.join(stick, intro), '--out', forLaptop], { env, stdio: 'ignore' })
  await session.click(await session.find('[data-testid="tab-sync"]'))
  await typeInto(session, 'import-path', forLaptop)
  await session.click(await session.find('[data-testid="import"]'))
  const imported = await waitFor('the import result', async () => {
    const results = await session.findAll('[data-testid="import-result"]')
    return results[0] ? session.text(results[0]) : undefined
  }, { timeoutMs: 60_000 })
  step(`import: ${imported.replace(/\s+/g, ' ')}`)
  assert(/新增 \d+ 户/.test(imported), `the village arrived: ${imported}`)
  await session.click(await session.find('[data-testid="tab-list"]'))

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
      // The county admin's credential, made once; every code is issued with it.
      const admin = execFileSync(hubBinary, ['init', '--data', hubDir], { encoding: 'utf8' }).trim()
      const code = (scope) =>
        execFileSync(hubBinary, ['enrol', '--data', hubDir, '--scope', scope], {
          encoding: 'utf8',
          env: { ...process.env, BANGFU_HUB_ADMIN_TOKEN: admin },
        }).trim()
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
      await passphraseStep(session, { checkShort: false })
      await shown(session, 'setup-step-join')
      await click(session, 'setup-join-hub')
      await typeInto(session, 'setup-hub-url', hubUrl)
      await typeInto(session, 'setup-hub-code', code('530826103201'))
      await shot(session, 'setup-hub-join.png')
      await click(session, 'setup-next')
      const message = await session.text(await shown(session, 'setup-done-message'))
      step(`done: ${message}`)
      assert(message.includes('已加入县同步中心') && message.includes('530826103201'), `enrolled with the village scope: ${message}`)
      await copyRecoveryCode(session)
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
