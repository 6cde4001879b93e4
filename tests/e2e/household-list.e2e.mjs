// End-to-end test of the real desktop app: opens a fresh data file seeded with the demo village
// through tauri-driver and WebKitWebDriver, checks the household list and its search, and saves
// screenshots to artifacts/screenshots/.
//
// Usage: node tests/e2e/household-list.e2e.mjs <path of bangfu-desktop>
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startTauriDriver, startXvfb, terminate } from './harness.mjs'
import { Keys, Session, waitFor, waitForDriver } from './webdriver.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SCREENSHOTS = path.join(ROOT, 'artifacts/screenshots')
const LOGS = path.join(ROOT, 'artifacts/e2e')
/** The whole run, start-up included, must finish within this. */
const RUN_TIMEOUT_MS = 240_000

/** The demo village files about 300 households. */
const DEMO_HOUSEHOLDS = { min: 250, max: 350 }
/** Pinyin initials of household heads in the demo village (王建国 and the like). */
const SEARCH_INITIALS = 'wj'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/household-list.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

function step(message) {
  console.log(`e2e: ${message}`)
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

async function householdCount(session) {
  const text = await session.text(await session.find('[data-testid="household-count"]'))
  const match = /共\s*(\d+)\s*户/.exec(text)
  return match ? Number(match[1]) : undefined
}

/** 户主姓名 of the rows the table shows, read from the DOM in one call. */
function headNames(session) {
  return session.execute(
    `return [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')]
       .map((row) => row.cells[1]?.textContent.trim() ?? '')`,
  )
}

/** Waits until the table's loading overlay has faded out, so screenshots show the rows. */
function waitForTableIdle(session) {
  return waitFor('the table to finish loading', async () => {
    const masks = await session.findAll('.el-loading-mask')
    return masks.length === 0
  })
}

async function saveScreenshot(session, name) {
  await waitForTableIdle(session)
  const file = path.join(SCREENSHOTS, name)
  writeFileSync(file, await session.screenshot())
  step(`screenshot ${path.relative(ROOT, file)}`)
}

async function checkHouseholdList(session) {
  step('waiting for the household list')
  const total = await waitFor('the household count', async () => {
    const count = await householdCount(session)
    return count !== undefined && count > 0 ? count : undefined
  }, { timeoutMs: 30_000 })
  const firstNames = await waitFor('table rows', async () => {
    const names = await headNames(session)
    return names.length > 0 ? names : undefined
  })
  step(`list shows 共 ${total} 户, first row head ${firstNames[0]}`)
  assert(
    total >= DEMO_HOUSEHOLDS.min && total <= DEMO_HOUSEHOLDS.max,
    `demo village count ${total} within ${DEMO_HOUSEHOLDS.min}..${DEMO_HOUSEHOLDS.max}`,
  )
  await saveScreenshot(session, '01-household-list.png')

  step('Ctrl+F focuses the search box')
  const search = await session.find('input[data-testid="household-search"]')
  await session.click(await session.find('[data-testid="household-count"]'))
  await session.chord(Keys.CONTROL, 'f')
  await waitFor('the search box to take focus', async () => (await session.activeElement()) === search, {
    timeoutMs: 5_000,
  })

  const query = process.env.E2E_INITIALS ?? SEARCH_INITIALS
  step(`searching initials ${query}`)
  await session.type(search, query)
  const narrowed = await waitFor('the search to narrow the list', async () => {
    const count = await householdCount(session)
    return count !== undefined && count < total ? count : undefined
  })
  const names = await headNames(session)
  step(`search ${query} shows 共 ${narrowed} 户: ${names.slice(0, 8).join(' ')}`)
  assert(narrowed > 0, `search ${query} finds at least one household`)
  assert(names.length === Math.min(narrowed, 50), `table shows the first page of ${narrowed} matches`)
  await saveScreenshot(session, '02-search-initials.png')
  return { total, query, narrowed, names }
}

/** 设置 → 备份: the list, 立即备份 adds a 手动备份, and 恢复 asks first (cancelled here: a
 * confirmed restore restarts the app, which ends the WebDriver session). */
async function checkBackups(session, dataFile) {
  await session.click(await session.find('[data-testid="tab-settings"]'))
  const rowsText = () =>
    session.execute(
      `return [...document.querySelectorAll('[data-testid="backup-list"] tbody tr.el-table__row')].map((r) => r.textContent)`,
    )
  const before = (await rowsText()).length
  await session.click(await session.find('[data-testid="backup-now"]'))
  const rows = await waitFor('a 手动备份 in the list', async () => {
    const now = await rowsText()
    return now.some((r) => r.includes('手动备份')) ? now : undefined
  }, { timeoutMs: 30_000 })
  assert(rows.length >= 1 && rows.length >= before, `the list grew: ${before} → ${rows.length}`)
  assert(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(rows[0]) && /\d+(\.\d)? (MB|KB)/.test(rows[0]), `date and size shown: ${rows[0]}`)
  const restore = await session.find('[data-testid="backup-restore"]')
  await session.click(restore)
  const message = await waitFor('the restore confirmation', () =>
    session.execute(`return document.querySelector('.restore-confirm')?.textContent ?? null`),
  )
  assert(message.includes('before-restore') && message.includes('重新启动') && message.includes('导出'), `the confirmation says what happens: ${message}`)
  // Past the dialog's fade-in.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await saveScreenshot(session, '03-settings-backups-restore-confirm.png')
  await session.execute(
    `[...document.querySelectorAll('.restore-confirm button')].find((b) => b.textContent.trim() === '取消').click()`,
  )
  await waitFor('the confirmation to close', async () =>
    (await session.execute(`return document.querySelector('.restore-confirm')?.offsetParent ?? null`)) === null,
  )
  assert(!existsSync(`${dataFile}.restore-request`), 'a cancelled restore records nothing')
  return rows.length
}

async function main() {
  mkdirSync(SCREENSHOTS, { recursive: true })
  mkdirSync(LOGS, { recursive: true })
  const scratch = mkdtempSync(path.join(tmpdir(), 'bangfu-e2e-'))
  const env = {
    ...process.env,
    // Private app data and device registry dirs, so the run neither reads nor overwrites this
    // machine's remembered data file or device identities.
    XDG_DATA_HOME: path.join(scratch, 'data'),
    BANGFU_HOME: path.join(scratch, 'bangfu'),
    // The data file is encrypted, as every real one is; the app takes the passphrase from here.
    BANGFU_PASSPHRASE: process.env.BANGFU_PASSPHRASE ?? 'e2e测试用口令2026',
    XDG_CONFIG_HOME: path.join(scratch, 'config'),
    // WebKitGTK's DMA-BUF renderer draws nothing under Xvfb; the shared-memory path works.
    WEBKIT_DISABLE_DMABUF_RENDERER: '1',
    NO_AT_BRIDGE: '1',
  }
  const children = []
  let session
  const cleanUp = async () => {
    if (session) await session.end().catch((error) => console.warn(`e2e: ending session: ${error.message}`))
    session = undefined
    for (const [child, name] of children.reverse()) await terminate(child, name)
    children.length = 0
    rmSync(scratch, { recursive: true, force: true })
  }
  const watchdog = setTimeout(() => {
    console.error(`e2e: run exceeded ${RUN_TIMEOUT_MS} ms`)
    void cleanUp().finally(() => process.exit(1))
  }, RUN_TIMEOUT_MS)

  try {
    if (process.env.E2E_USE_DISPLAY && process.env.DISPLAY) {
      step(`using DISPLAY ${process.env.DISPLAY}`)
    } else {
      const [xvfb, display] = await startXvfb(path.join(LOGS, 'xvfb.log'))
      children.push([xvfb, 'Xvfb'])
      env.DISPLAY = display
      step(`Xvfb on ${display}`)
    }
    const port = await freePort()
    const nativePort = await freePort()
    const tauriDriver = process.env.TAURI_DRIVER ?? path.join(homedir(), '.cargo/bin/tauri-driver')
    children.push([startTauriDriver(tauriDriver, port, nativePort, env, path.join(LOGS, 'tauri-driver.log')), 'tauri-driver'])
    const base = `http://127.0.0.1:${port}`
    await waitForDriver(base, 20_000)

    const dataFile = path.join(scratch, 'village.sqlite')
    step(`starting ${app} --db ${dataFile} --seed-demo`)
    session = await Session.start(base, {
      'tauri:options': { application: path.resolve(app), args: ['--db', dataFile, '--seed-demo'] },
    })
    try {
      const result = await checkHouseholdList(session)
      step(`passed: 共 ${result.total} 户, 「${result.query}」 → 共 ${result.narrowed} 户`)
      const backups = await checkBackups(session, dataFile)
      step(`设置 → 备份: ${backups} backups listed after 立即备份; 恢复 asks first`)
    } catch (error) {
      const shot = await session.screenshot().catch(() => undefined)
      if (shot) writeFileSync(path.join(SCREENSHOTS, 'failure.png'), shot)
      writeFileSync(path.join(LOGS, 'failure-source.html'), String(await session.source().catch(() => '')))
      throw error
    }
  } finally {
    clearTimeout(watchdog)
    await cleanUp()
  }
}

main().catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
