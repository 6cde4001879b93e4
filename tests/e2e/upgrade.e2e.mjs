// A data file whose last upgrade did not finish (closed between the migration and the rebuild
// of its rows) is finished when the app opens it: the window shows 正在升级数据文件 with the rows
// rebuilt so far instead of freezing, then starts afresh on the upgraded file.
//
// Usage: node tests/e2e/upgrade.e2e.mjs <bangfu-desktop> <bangfu>
import { execFileSync } from 'node:child_process'
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
  execFileSync(cli, ['generate', '--db', dataFile, '--households', String(HOUSEHOLDS)], { stdio: 'inherit' })
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
  assert(rebuildPending(dataFile) === '0', 'the rebuild committed and cleared its mark')
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
