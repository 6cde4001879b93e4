// The world an e2e test runs the app in: a private X server, tauri-driver, scratch app-data and
// device-registry dirs; and launching, quitting and killing the app inside it.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startTauriDriver, startXvfb, terminate } from './harness.mjs'
import { Keys, Session, waitFor, waitForDriver } from './webdriver.mjs'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const SCREENSHOTS = path.join(ROOT, 'artifacts/screenshots')
export const LOGS = path.join(ROOT, 'artifacts/e2e')

/**
 * Every data file the tests make is encrypted, as a real one is: the app and the `bangfu`
 * commands the tests run take the passphrase from the environment (the lock screen's own test
 * starts the app without it).
 */
export const E2E_PASSPHRASE = 'e2e测试用口令2026'
process.env.BANGFU_PASSPHRASE ??= E2E_PASSPHRASE

export function step(message) {
  console.log(`e2e: ${message}`)
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/**
 * Runs `test(world)` with Xvfb and tauri-driver up, then tears everything down. `world.launch`
 * starts the app on a data file and returns a Session; `world.kill` ends the app with SIGKILL.
 */
export async function withApp(app, name, test, { timeoutMs = 300_000, locked = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  mkdirSync(LOGS, { recursive: true })
  const scratch = mkdtempSync(path.join(tmpdir(), `bangfu-e2e-${name}-`))
  const env = {
    ...process.env,
    XDG_DATA_HOME: path.join(scratch, 'data'),
    BANGFU_HOME: path.join(scratch, 'bangfu'),
    XDG_CONFIG_HOME: path.join(scratch, 'config'),
    WEBKIT_DISABLE_DMABUF_RENDERER: '1',
    NO_AT_BRIDGE: '1',
  }
  // `locked`: the app starts without the passphrase and shows its lock screen.
  if (locked) delete env.BANGFU_PASSPHRASE
  const children = []
  let session
  const cleanUp = async () => {
    if (session) await session.end().catch(() => {})
    session = undefined
    for (const [child, label] of children.reverse()) await terminate(child, label)
    children.length = 0
    rmSync(scratch, { recursive: true, force: true })
  }
  const watchdog = setTimeout(() => {
    console.error(`e2e: ${name} exceeded ${timeoutMs} ms`)
    void cleanUp().finally(() => process.exit(1))
  }, timeoutMs)
  try {
    const [xvfb, display] = await startXvfb(path.join(LOGS, `xvfb-${name}.log`))
    children.push([xvfb, 'Xvfb'])
    env.DISPLAY = display
    const port = await freePort()
    const nativePort = await freePort()
    const driverBinary = process.env.TAURI_DRIVER ?? path.join(homedir(), '.cargo/bin/tauri-driver')
    children.push([startTauriDriver(driverBinary, port, nativePort, env, path.join(LOGS, `tauri-driver-${name}.log`)), 'tauri-driver'])
    const base = `http://127.0.0.1:${port}`
    await waitForDriver(base, 20_000)

    const world = {
      scratch,
      /** The environment the app runs in (its X display, scratch folders, passphrase). */
      env,
      /** The X display the app runs on, for tools that look past the webview (xwininfo). */
      display,
      async launch(args) {
        step(`starting the app ${args.join(' ')}`)
        session = await Session.start(base, { 'tauri:options': { application: path.resolve(app), args } })
        return session
      },
      /** Ends the WebDriver session, which closes the app the way its window would. */
      async quit() {
        if (session) await session.end()
        session = undefined
      },
      /** SIGKILL to the app process started on `dataFile`, as a power cut would. */
      async kill(dataFile) {
        const pids = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
          .split('\n')
          .filter((line) => line.includes('bangfu-desktop') && line.includes(dataFile))
          .map((line) => Number(line.trim().split(/\s+/)[0]))
        assert(pids.length === 1, `one app process on ${dataFile}, found ${pids.length}`)
        step(`kill -9 ${pids[0]}`)
        process.kill(pids[0], 'SIGKILL')
        await waitFor('the app to die', async () => {
          try {
            process.kill(pids[0], 0)
            return false
          } catch {
            return true
          }
        })
        const dead = session
        session = undefined
        await dead?.end().catch(() => {})
      },
      async failed() {
        if (!session) return
        const shot = await session.screenshot().catch(() => undefined)
        if (shot) writeFileSync(path.join(SCREENSHOTS, `failure-${name}.png`), shot)
        writeFileSync(path.join(LOGS, `failure-${name}.html`), String(await session.source().catch(() => '')))
      },
    }
    try {
      await test(world)
    } catch (error) {
      await world.failed()
      throw error
    }
  } finally {
    clearTimeout(watchdog)
    await cleanUp()
  }
}

/** Saves the window as artifacts/screenshots/<name>. */
export async function shot(session, name) {
  const file = path.join(SCREENSHOTS, name)
  writeFileSync(file, await session.screenshot())
  step(`screenshot ${path.relative(ROOT, file)}`)
}

/** The input behind a test id: an el-input's own input, or the input inside a select or picker. */
export function inputOf(session, testid) {
  return waitFor(`input ${testid}`, () =>
    session.execute(
      `return document.querySelector('input[data-testid="${testid}"]') ?? document.querySelector('[data-testid="${testid}"] input')`,
    ),
  ).then((value) => Object.values(value)[0])
}

/** Selects what the input holds and types over it, as a person would. */
export async function typeInto(session, testid, text) {
  const input = await inputOf(session, testid)
  // A finding shown above the form (the page checks as one types) can move a field out of the
  // window between finding it and clicking it: bring it to the middle first, as a person
  // scrolls to what they type into.
  const ref = { 'element-6066-11e4-a52e-4f735466cecf': input }
  await session.execute(`arguments[0].scrollIntoView({ block: 'center' })`, [ref])
  // A list that was just picked from (an el-select's dropdown) fades out over the fields below
  // it: wait until nothing covers the field, as a person waits for the list to close.
  await waitFor(`${testid} not covered`, () =>
    session.execute(
      `const el = arguments[0]
       const r = el.getBoundingClientRect()
       const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
       return top && (top === el || el.contains(top) || top.contains(el)) ? true : null`,
      [ref],
    ),
  )
  await session.click(input)
  // WebDriver's clear fires no input event, so the old text is selected and typed over.
  await session.chord(Keys.CONTROL, 'a')
  await session.type(input, text)
}
