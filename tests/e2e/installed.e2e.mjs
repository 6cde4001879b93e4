// The app as a work team gets it: packs the .deb from the binaries the e2e run already built
// (scripts/bundle debug: the same binaries, stripped; no second build), installs it with
// apt-get, starts the installed program under Xvfb from its menu entry's Exec command, checks
// the window (title 帮扶台账) and the demo village, removes the package and checks that the
// data folder is still there. Needs root (apt-get) and the package's runtime dependencies
// installed already (scripts/setup installs them).
//
// Usage: node tests/e2e/installed.e2e.mjs   (CARGO_TARGET_DIR names the build folder)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, assert, shot, step, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const PACKAGE = 'bangfu'
const DESKTOP_ENTRY = '/usr/share/applications/bangfu.desktop'

function run(command, args, options = {}) {
  step(`${command} ${args.join(' ')}`)
  return execFileSync(command, args, { encoding: 'utf8', cwd: ROOT, ...options })
}

function installed() {
  try {
    return run('dpkg-query', ['-W', '-f=${Status}', PACKAGE]).includes('install ok installed')
  } catch {
    return false
  }
}

/** The command of a desktop entry's Exec line, split as the launcher would (no quoting used). */
function execOf(entryFile) {
  const entry = readFileSync(entryFile, 'utf8')
  const line = entry.split('\n').find((l) => l.startsWith('Exec='))
  assert(line, `${entryFile} has an Exec line`)
  const [command, ...args] = line.slice('Exec='.length).trim().split(/\s+/).filter((a) => !/^%[fFuUik]$/.test(a))
  const resolved = command.includes('/') ? command : run('sh', ['-c', `command -v ${command}`]).trim()
  return { entry, command: resolved, args }
}

const out = mkdtempSync(path.join(tmpdir(), 'bangfu-deb-'))
try {
  assert(!installed(), `the ${PACKAGE} package is not installed before the test (apt-get remove ${PACKAGE} first)`)
  run('bash', ['scripts/bundle', 'debug', out, 'deb'], { stdio: 'inherit' })
  const deb = readdirSync(out).find((name) => name.endsWith('.deb'))
  assert(deb, `scripts/bundle wrote a .deb into ${out}`)
  const debPath = path.join(out, deb)
  console.log(run('dpkg-deb', ['--info', debPath]))
  step(`${deb}: ${(statSync(debPath).size / 1024 / 1024).toFixed(1)} MiB`)
  run('apt-get', ['install', '-y', '--no-install-recommends', debPath], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  assert(installed(), `apt-get installed ${PACKAGE}`)
  const { entry, command, args } = execOf(DESKTOP_ENTRY)
  assert(/^Name=帮扶台账$/m.test(entry), `the menu entry is named 帮扶台账:\n${entry}`)
  assert(command === '/usr/bin/bangfu-desktop', `Exec resolves to the installed program, not ${command}`)
  assert(run('sh', ['-c', 'command -v bangfu']).trim() === '/usr/bin/bangfu', 'the bangfu command is installed too')
  assert(/帮扶/.test(run('/usr/bin/bangfu', ['--help'])), 'the installed bangfu command answers in Chinese')

  await withApp(command, 'installed', async (world) => {
    const session = await world.launch(args)
    // A first start offers the wizard; its practice village is the demo, in its own file.
    const wizard = await waitFor('the first screen', async () => {
      const found = await session.findAll('[data-testid="setup-practice"], [data-testid="household-count"]')
      return found.length > 0 ? found : undefined
    }, { timeoutMs: 60_000 })
    const first = await session.execute(`return document.querySelector('[data-testid="setup-practice"]') !== null`)
    if (first) {
      step('first start: the wizard; opening the practice village')
      await shot(session, 'installed-first-start.png')
      await session.click(wizard[0])
      // Filling the practice village takes a while in a debug build on a busy machine.
      const opened = await waitFor('the practice village or a message', async () => {
        const problem = await session.execute(`return document.querySelector('[data-testid="setup-problem"]')?.textContent ?? null`)
        if (problem) return { problem }
        return (await session.findAll('[data-testid="household-count"]')).length > 0 ? { list: true } : undefined
      }, { timeoutMs: 120_000 })
      assert(!opened.problem, `the practice village opens: ${opened.problem}`)
    }
    const total = await waitForList(session)
    const banner = await session.findAll('[data-testid="practice-banner"]')
    assert(!first || banner.length === 1, 'the practice village opened from the wizard is marked 练习用')
    assert(total >= 250 && total <= 350, `the demo village shows about 300 households, not ${total}`)
    const windows = execFileSync('xwininfo', ['-root', '-tree'], { encoding: 'utf8', env: { ...process.env, DISPLAY: world.display } })
    assert(windows.includes('"帮扶台账"'), `an X window named 帮扶台账:\n${windows}`)
    await waitFor('the table to finish loading', async () => (await session.findAll('.el-loading-mask')).length === 0)
    await shot(session, 'installed-app.png')
    await world.quit()

    const dataFolder = path.join(world.scratch, 'data', 'cn.bangfu.desktop')
    const before = readdirSync(dataFolder)
    assert(before.some((name) => name.endsWith('.sqlite')), `a data file in ${dataFolder}: ${before}`)
    run('apt-get', ['remove', '-y', PACKAGE], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    assert(!installed(), `apt-get removed ${PACKAGE}`)
    assert(!existsSync('/usr/bin/bangfu-desktop') && !existsSync(DESKTOP_ENTRY), 'the program and its menu entry are gone')
    const after = readdirSync(dataFolder)
    for (const name of before) assert(after.includes(name), `${name} survives the removal of the package`)
    step(`data folder kept after apt-get remove: ${after.join(', ')}`)
  })
} finally {
  if (installed()) run('apt-get', ['remove', '-y', PACKAGE], { stdio: 'inherit' })
  rmSync(out, { recursive: true, force: true })
}
