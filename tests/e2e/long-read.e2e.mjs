// A long export never holds up the window: on a generated county, the 家庭成员台帐 of the whole
// file is exported while the household list is searched and paged. The export runs on the
// data file's read-only connection, so each list request answers in the time it takes alone,
// not after the export. The test measures both and prints them.
//
// Usage: node tests/e2e/long-read.e2e.mjs <path of bangfu-desktop> <path of bangfu>
//   BANGFU_LONG_READ_HOUSEHOLDS sets the county's size (default 12000).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { assert, shot, step, withApp } from './app.mjs'
import { waitFor } from './webdriver.mjs'

const [app, bangfu] = process.argv.slice(2)
if (!app || !bangfu) {
  console.error('usage: node tests/e2e/long-read.e2e.mjs <bangfu-desktop> <bangfu>')
  process.exit(2)
}
const HOUSEHOLDS = Number(process.env.BANGFU_LONG_READ_HOUSEHOLDS ?? 12000)

/**
 * In the page: starts the export without waiting for it, then asks for list pages one after
 * another until the export answers; resolves to the export's time and every list request's.
 */
const RACE = `
  const [out, done] = arguments
  const invoke = window.__TAURI_INTERNALS__.invoke
  const query = (text, offset) => ({ query: {
    text, village_code: null, group_name: null, poverty_status: null, attribute: null,
    main_cause: null, not_visited_days: null, sort: null, descending: false, offset, limit: 50 } })
  const start = performance.now()
  let exported = null
  let failed = null
  invoke('export_ledger', { kind: 'members', scope: { by: 'all' }, year: null, path: out })
    .then((summary) => { exported = { ms: performance.now() - start, summary } })
    .catch((e) => { failed = e })
  const lists = []
  const texts = ['', '王', 'zs', '张', '李', '']
  const next = async (i) => {
    if (failed) return done({ failed: String(failed?.message ?? JSON.stringify(failed)) })
    if (exported) return done({ exported, lists })
    const t = performance.now()
    const text = texts[i % texts.length]
    const page = await invoke('list_households', query(text, text === '' ? (i * 50) % 500 : 0))
    lists.push({ ms: performance.now() - t, during: !exported, rows: page.rows.length })
    setTimeout(() => next(i + 1), 20)
  }
  next(0)
`

await withApp(app, 'long-read', async (world) => {
  const file = path.join(world.scratch, 'county.sqlite')
  step(`generating a county of ${HOUSEHOLDS} households`)
  execFileSync(bangfu, ['generate', '--db', file, '--households', String(HOUSEHOLDS), '--seed', '3'], {
    env: { ...process.env, BANGFU_HOME: path.join(world.scratch, 'cli') },
    stdio: 'inherit',
  })
  const session = await world.launch(['--db', file])
  await waitFor('the household list', async () => (await session.findAll('[data-testid="household-count"]')).length === 1, { timeoutMs: 60_000 })
  const out = path.join(world.scratch, '全县家庭成员台帐.xlsx')
  const result = await session.executeAsync(RACE, [out], 240_000)
  assert(!result.failed, `the export failed: ${result.failed}`)
  const during = result.lists.filter((l) => l.during)
  const slowest = Math.max(...during.map((l) => l.ms))
  const median = during.map((l) => l.ms).sort((a, b) => a - b)[Math.floor(during.length / 2)]
  step(
    `export of ${result.exported.summary.rows} rows took ${Math.round(result.exported.ms)} ms; ` +
      `${during.length} list requests answered meanwhile, median ${Math.round(median)} ms, slowest ${Math.round(slowest)} ms ` +
      `(${(slowest / result.exported.ms).toFixed(2)} of the export's time)`,
  )
  assert(existsSync(out), 'the ledger was written')
  assert(during.length >= 3, `the list answered while the export ran (${during.length} times)`)
  assert(during.every((l) => l.rows > 0), 'every list page came back with rows')
  // Behind one lock, the first list request would have waited for the whole export.
  assert(slowest < result.exported.ms / 2, `no list request waited for the export: slowest ${slowest} ms of ${result.exported.ms} ms`)
  await shot(session, 'long-read-01-list-after-export.png')
}, { timeoutMs: 600_000 })
