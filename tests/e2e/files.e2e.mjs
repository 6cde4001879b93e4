// Files the way people pick them (issue #22): a folder standing in for a mounted U 盘
// (BANGFU_REMOVABLE_ROOTS) is listed by name on 同步; one click on it exports there, whole,
// and the confirmation offers 打开所在文件夹; importing from it reminds to 安全移除 the stick;
// 选择… opens the system's own save dialog (a GTK window of its own, taken from the X
// server) with the default file name.
//
// Usage: node tests/e2e/files.e2e.mjs <path of bangfu-desktop>
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { assert, inputOf, shot, SCREENSHOTS, step, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/files.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const sticks = mkdtempSync(path.join(tmpdir(), 'bangfu-e2e-sticks-'))
const stick = path.join(sticks, 'KINGSTON')
mkdirSync(stick)
// A second stick, plugged in while the app runs (its folder made) and pulled out mid-save.
const late = path.join(sticks, 'SANDISK')
// Read by the app (through tauri-driver's environment) instead of /proc/mounts.
process.env.BANGFU_REMOVABLE_ROOTS = [stick, late].join(path.delimiter)

/** The visible text of every element with a test id. */
function texts(session, testid) {
  return session.execute(
    `return [...document.querySelectorAll('[data-testid="${testid}"]')].map((e) => e.textContent.trim())`,
  )
}

async function valueOf(session, testid) {
  return session.execute(`return document.querySelector('input[data-testid="${testid}"]').value`)
}

/** The names of the X server's windows, from xwininfo. */
function windowNames(display) {
  return execFileSync('xwininfo', ['-root', '-tree'], { encoding: 'utf8', env: { ...process.env, DISPLAY: display } })
}

await withApp(app, 'files', async (world) => {
  const dataFile = path.join(world.scratch, 'village.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await waitForList(session)
  await session.click(await session.find('[data-testid="tab-sync"]'))

  step('the stick is listed by name on 同步, for export and for import')
  const listed = await waitFor('the stick buttons', async () => {
    const found = await texts(session, 'stick')
    return found.length === 2 ? found : undefined
  }, { timeoutMs: 15_000 })
  step(`listed: ${listed.join(' | ')}`)
  assert(listed.every((t) => t === `U 盘 KINGSTON (${stick})`), `the stick reads U 盘 KINGSTON (its folder): ${listed}`)
  await shot(session, 'files-01-sync-stick.png')

  step('a stick plugged in shows up by itself; pulled out before 导出, it is said so')
  mkdirSync(late)
  await waitFor('the new stick listed', async () => (await texts(session, 'stick')).length === 4, { timeoutMs: 15_000 })
  const exportSandisk = await session.find('[data-testid="stick"][title$="SANDISK"]') // the export place's comes first
  await session.click(exportSandisk)
  assert((await valueOf(session, 'export-path')) === late, 'the new stick fills the export box')
  rmSync(late, { recursive: true })
  await session.click(await session.find('[data-testid="export"]'))
  const pulled = await waitFor('the pulled-out message', async () => {
    const alerts = await session.findAll('.el-alert--error')
    return alerts[0] ? session.text(alerts[0]) : undefined
  }, { timeoutMs: 30_000 })
  step(pulled)
  assert(pulled.includes('U 盘已拔出') && pulled.includes('未留下文件'), `the export says the stick was pulled out: ${pulled}`)
  await waitFor('the pulled stick gone from the list', async () => (await texts(session, 'stick')).length === 2, { timeoutMs: 15_000 })
  await shot(session, 'files-05-pulled-out.png')

  step('one click on the stick, then 导出: the file lands on the stick whole')
  const buttons = await session.findAll('[data-testid="stick"]')
  await session.click(buttons[0])
  assert((await valueOf(session, 'export-path')) === stick, 'the stick fills the export box with its folder')
  await session.click(await session.find('[data-testid="export"]'))
  const notice = await waitFor('the saved notice', async () => {
    const found = await texts(session, 'saved-notice')
    return found[0]
  }, { timeoutMs: 30_000 })
  step(notice)
  const onStick = readdirSync(stick)
  assert(onStick.length === 1 && /^同步-\d{8}-\d{4}\.bfcs$|^.+-同步-\d{8}-\d{4}\.bfcs$/.test(onStick[0]), `one whole .bfcs on the stick, no .part: ${onStick}`)
  assert(notice.includes(stick) && notice.includes('打开所在文件夹'), `the notice names the file and offers 打开所在文件夹: ${notice}`)
  await new Promise((resolve) => setTimeout(resolve, 400))
  await shot(session, 'files-02-saved-open-folder.png')
  // Without a desktop's file manager under Xvfb the shell says where the file is instead.
  await session.click(await session.find('[data-testid="reveal-folder"]'))
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const revealed = (await texts(session, 'saved-notice'))[0]
  step(`after 打开所在文件夹: ${revealed}`)
  assert(!revealed.includes('没能打开') || revealed.includes(stick), `a failed reveal names the file's place: ${revealed}`)

  step('import from the stick: the 安全移除 reminder')
  await session.click((await session.findAll('[data-testid="stick"]'))[1])
  assert((await valueOf(session, 'import-path')) === stick, 'the stick fills the import box with its folder')
  await session.click(await session.find('[data-testid="import"]'))
  const reminder = await waitFor('the eject reminder', async () => (await texts(session, 'eject-reminder'))[0], { timeoutMs: 30_000 })
  step(reminder)
  assert(reminder.includes('安全移除') && reminder.includes('U 盘 KINGSTON'), `the reminder names the stick: ${reminder}`)
  await new Promise((resolve) => setTimeout(resolve, 400))
  await shot(session, 'files-03-eject-reminder.png')

  step('选择… opens the system save dialog with the default name')
  const before = windowNames(world.display)
  await session.click(await session.find('[data-testid="export-path-browse"]'))
  const dialog = await waitFor('the save dialog window', () => {
    const now = windowNames(world.display)
    return now.includes('"保存到"') && !before.includes('"保存到"') ? now : undefined
  }, { timeoutMs: 20_000 })
  step(dialog.split('\n').filter((l) => l.includes('保存到'))[0]?.trim())
  await new Promise((resolve) => setTimeout(resolve, 1500)) // the dialog paints its folder list
  // The dialog opens in the stick's folder, where the export box points.
  const file = path.join(SCREENSHOTS, 'files-04-save-dialog.png')
  execFileSync('import', ['-window', 'root', file], { env: { ...process.env, DISPLAY: world.display } })
  step(`screenshot ${file}`)
  // Cancelling is the dialog's own business; the app is ended with the session.
  await inputOf(session, 'export-path').catch(() => undefined)
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
}).finally(() => rmSync(sticks, { recursive: true, force: true }))
