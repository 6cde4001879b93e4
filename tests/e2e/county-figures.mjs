// Figures on a large data file (not part of `run`): app start to a usable household list, and
// search keystroke-to-results time, measured in the real app.
//
// Usage: node tests/e2e/county-figures.mjs <path of bangfu-desktop> <county data file>
//   (make the file with: bangfu generate --db county.sqlite --households 100000 --seed 1)
import { assert, step, withApp } from './app.mjs'
import { waitFor } from './webdriver.mjs'

const [app, dataFile] = process.argv.slice(2)
if (!app || !dataFile) {
  console.error('usage: node tests/e2e/county-figures.mjs <bangfu-desktop> <county.sqlite>')
  process.exit(2)
}

/** Search texts: pinyin initials, a one-character name prefix, a name, an ID fragment, a code. */
const SEARCHES = ['wjg', 'zsf', '王', '张伟', '19800612', '0103201']
const ROUNDS = 3

/**
 * In the page: types `text` into the search box (an input event, as a keystroke makes), then
 * waits until the count or the first row changes and the table has painted; resolves to ms.
 */
const SEARCH_TIMING = `
  const [text, done] = arguments
  const input = document.querySelector('input[data-testid="household-search"]')
  const count = () => document.querySelector('[data-testid="household-count"]').textContent
  const first = () => document.querySelector('.el-table__body-wrapper tbody tr')?.textContent ?? ''
  const before = count() + '|' + first()
  const start = performance.now()
  input.value = text
  input.dispatchEvent(new Event('input', { bubbles: true }))
  const poll = () => {
    const now = count() + '|' + first()
    const loading = document.querySelector('.households .el-loading-mask')
    if (now !== before && !loading) requestAnimationFrame(() => done({ ms: performance.now() - start, shown: count().trim() }))
    else if (performance.now() - start > 30000) done({ ms: -1, shown: count().trim() })
    else setTimeout(poll, 2)
  }
  poll()
`

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

await withApp(app, 'county', async (world) => {
  const started = Date.now()
  const session = await world.launch(['--db', dataFile])
  const sessionUp = Date.now() - started
  const total = await waitFor('the household list', async () => {
    const text = await session.text(await session.find('[data-testid="household-count"]')).catch(() => '')
    const rows = await session.findAll('.el-table__body-wrapper tbody tr.el-table__row').catch(() => [])
    const match = /共\s*(\d+)\s*户/.exec(text)
    return match && Number(match[1]) > 0 && rows.length > 0 ? Number(match[1]) : undefined
  }, { timeoutMs: 120_000, intervalMs: 50 })
  const usable = Date.now() - started
  const inPage = await session.execute('return performance.now()')
  step(`start → usable list: ${usable} ms (WebDriver session up after ${sessionUp} ms; page age ${Math.round(inPage)} ms) 共 ${total} 户`)
  assert(total >= 90_000, `a county-sized file: 共 ${total} 户`)

  for (const text of SEARCHES) {
    const times = []
    let shown = ''
    for (let round = 0; round < ROUNDS; round++) {
      await session.executeAsync(SEARCH_TIMING, ['__reset__'])
      const result = await session.executeAsync(SEARCH_TIMING, [text])
      times.push(result.ms)
      shown = result.shown
    }
    step(`search ${JSON.stringify(text)}: median ${median(times).toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')}; includes the list's 250 ms typing pause) → ${shown}`)
  }

  // The overview's figures come from indexed counts; its 疑点 list checks every household.
  const opened = Date.now()
  await session.click(await session.find('[data-testid="tab-overview"]'))
  await waitFor('the overview figures', async () => (await session.findAll('[data-testid="overview-households"]')).length === 1, { timeoutMs: 120_000, intervalMs: 50 })
  step(`村情概览 figures: ${Date.now() - opened} ms`)
  const listed = await waitFor('the 疑点 list', async () => {
    const masks = await session.findAll('[data-testid="quality-table"] .el-loading-mask')
    return masks.length === 0 ? true : undefined
  }, { timeoutMs: 300_000, intervalMs: 500 }).then(() => Date.now() - opened, () => -1)
  step(listed < 0 ? '村情概览 疑点 list: not done after 300 s' : `村情概览 疑点 list: ${listed} ms`)
}, { timeoutMs: 900_000 })
