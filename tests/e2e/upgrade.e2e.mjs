// A data file of an earlier version (not encrypted yet) whose last upgrade did not finish
// (closed between the migration and the rebuild of its rows) is encrypted and then finished when
// the app opens it with its passphrase: the window shows how far it has come instead of
// freezing, then starts afresh on the upgraded, encrypted file.
//
// Usage: node tests/e2e/upgrade.e2e.mjs <bangfu-desktop> <bangfu>
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { assert, shot, step, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app, cli] = process.argv.slice(2)
if (!app || !cli) {
  console.error('usage: node tests/e2e/upgrade.e2e.mjs <bangfu-desktop> <bangfu>')
  process.exit(2)
}

const HOUSEHOLDS = 6000

/** The file's `rebuild_pending` mark, read by Python's own SQLite (a second reader). */
function rebuildPending(file) {
  return execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM meta WHERE key = 'rebuild_pending'").fetchone()[0])
`, file], { encoding: 'utf8' }).trim()
}

await withApp(app, 'upgrade', async (world) => {
  const dataFile = path.join(world.scratch, 'county.sqlite')
  // Made as an earlier version made it: in the clear (no passphrase given to `bangfu`).
  const plainEnv = { ...process.env }
  delete plainEnv.BANGFU_PASSPHRASE
  execFileSync(cli, ['generate', '--db', dataFile, '--households', String(HOUSEHOLDS)], { stdio: 'inherit', env: plainEnv })
  // What a migration leaves when the process dies before the rebuild commits.
  execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO meta (key, value) VALUES ('rebuild_pending', 1)")
c.commit()
`, dataFile])
  assert(rebuildPending(dataFile) === '1', 'the file waits for its rebuild')

  const session = await world.launch(['--db', dataFile])
  const seen = await waitFor('the upgrade screen counting rows', async () => {
    const text = await session.execute(`return document.querySelector('[data-testid="upgrade-text"]')?.textContent ?? ''`)
    return /已完成 [\d,]+ \/ [\d,]+ 条记录/.test(text) ? text : undefined
  }, { timeoutMs: 60_000 })
  step(`upgrade screen: ${seen}`)
  assert(seen.includes('上次升级没有完成'), `it says the last upgrade is being finished: ${seen}`)
  await shot(session, 'upgrade-01-progress.png')

  const total = await waitFor('the list after the upgrade', () => waitForList(session).catch(() => undefined), { timeoutMs: 240_000 })
  assert(total === HOUSEHOLDS, `the list shows every household: 共 ${total} 户`)
  const gone = await session.execute(`return document.querySelector('[data-testid="upgrade-screen"]') === null`)
  assert(gone, 'the upgrade screen is gone')
  await shot(session, 'upgrade-02-list.png')
  await world.quit()
  const header = readFileSync(dataFile).subarray(0, 15).toString('latin1')
  assert(header !== 'SQLite format 3', 'the file is encrypted now')
  // The rebuild committed and cleared its mark: the next start opens straight to the list.
  const again = await world.launch(['--db', dataFile])
  assert((await waitForList(again)) === HOUSEHOLDS, 'the list at the next start')
  const screen = await again.execute(`return document.querySelector('[data-testid="upgrade-screen"]') === null`)
  assert(screen, 'no upgrade screen at the next start')
  await world.quit()
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
