// End-to-end test of the work year (工作年度) on the real app: the demo village opens in the
// latest year it has records for (this year), 村情概览 lists some, not all, households as not
// visited for 60 days and 统计图表 shows non-empty visit coverage and exit readiness for that
// year; choosing 2017 in the header changes the figures and the years they say. Screenshots go
// to artifacts/screenshots/ and /tmp/bangfu-shots/.
//
// Usage: node tests/e2e/year.e2e.mjs <path of bangfu-desktop>
import { copyFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { SCREENSHOTS, assert, shot, step, withApp } from './app.mjs'
import { waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/year.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const SHOTS = '/tmp/bangfu-shots'
const THIS_YEAR = new Date().getFullYear()

async function keep(session, name) {
  await shot(session, name)
  mkdirSync(SHOTS, { recursive: true })
  copyFileSync(path.join(SCREENSHOTS, name), path.join(SHOTS, name))
}

function text(session, css) {
  return session.execute(`return document.querySelector(${JSON.stringify(css)})?.textContent.trim() ?? ''`)
}

/** The header's select shows the chosen year's label. */
function headerYear(session) {
  return session.execute(`
    const box = document.querySelector('[data-testid="work-year"]')
    return box ? box.textContent.trim() : ''`)
}

async function chooseYear(session, year) {
  await waitFor('the work year select opens', () =>
    session.execute(`
      const box = document.querySelector('[data-testid="work-year"] .el-select__wrapper')
        ?? document.querySelector('[data-testid="work-year"]')
      if (!box) return false
      box.click()
      return true`))
  // The dropdown's own click: WebKit reports the option covered while the popper animates.
  await waitFor(`the ${year} option`, () =>
    session.execute(`
      const option = document.querySelector('[data-testid="work-year-${year}"]')
      if (!option) return false
      option.click()
      return true`))
  await waitFor(`the header showing ${year}`, async () => (await headerYear(session)).startsWith(`${year}年度`))
}

/** 村情概览's heading of the not-visited list, once it names `year`. */
function notVisited(session, year) {
  return waitFor(`the not-visited list of ${year}`, async () => {
    const heading = await text(session, '[data-testid="overview-not-visited"]')
    return heading.startsWith(`${year}年度`) ? heading : undefined
  }, { timeoutMs: 20_000 })
}

/** The visit coverage the chart draws, its title, and the readiness chart's title. */
async function figures(session, year) {
  return waitFor(`the ${year} figures`, async () => {
    const note = await text(session, '[data-testid="report-year"]')
    if (!note.startsWith(`${year}年度`)) return undefined
    const drawn = await session.execute(`
      const canvas = (id) => {
        const c = document.querySelector('[data-testid="chart-' + id + '"] canvas')
        return !!c && c.width > 100 && c.height > 100
      }
      return ['status', 'measures', 'visits', 'readiness'].every(canvas)`)
    if (!drawn) return undefined
    const rows = await session.execute(
      `return [...document.querySelectorAll('[data-testid="readiness-table"] tbody tr')].length`)
    const title = await text(session, '[data-testid="readiness-title"]')
    const coverage = await text(session, '[data-testid="report-coverage"]')
    // Both loads of the year have come back (neither line still shows the year before).
    if (!title.startsWith(`${year}年`) || !coverage.startsWith(`${year}年`)) return undefined
    return { note, rows, title, coverage }
  }, { timeoutMs: 30_000 })
}

await withApp(app, 'year', async (world) => {
  const dataFile = path.join(world.scratch, 'year.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])

  // The default: the latest year the demo has records for, this year.
  await waitFor('the header work year', async () => (await headerYear(session)).startsWith(`${THIS_YEAR}年度`), { timeoutMs: 60_000 })
  await session.click(await session.find('[data-testid="tab-overview"]'))
  const now = await notVisited(session, THIS_YEAR)
  step(`default year: ${now}`)
  const nowCount = Number(/共 (\d+) 户/.exec(now)?.[1])
  assert(now.includes('截至今天'), `the current year counts to today: ${now}`)
  assert(nowCount > 0 && nowCount < 300, `some, not all, households unvisited for 60 days: ${nowCount}`)
  await keep(session, 'year-01-overview-default.png')

  await session.click(await waitFor('the 统计图表 switch', async () => (await session.findAll('[data-testid="overview-view-charts"]'))[0]))
  const live = await figures(session, THIS_YEAR)
  step(`default year figures: ${JSON.stringify(live)}`)
  const liveCoverage = Number(/(\d+(?:\.\d+)?)%/.exec(live.coverage)?.[1])
  assert(liveCoverage > 0, `visit coverage of ${THIS_YEAR} is not empty: ${live.coverage}`)
  const liveReadiness = /(\d+) \/ (\d+) 户/.exec(live.title)
  assert(live.title.startsWith(`${THIS_YEAR}年`) && liveReadiness && Number(liveReadiness[2]) > 0,
    `exit readiness of ${THIS_YEAR} evaluates households: ${live.title}`)
  // The demo's 入户调查 of this year: some households meet the whole standard.
  assert(Number(liveReadiness[1]) > 0, `some households meet the ${THIS_YEAR} standard: ${live.title}`)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  await keep(session, 'year-02-charts-default.png')

  // Another year: 2017, the demo's filing year.
  await chooseYear(session, 2017)
  const past = await figures(session, 2017)
  step(`2017 figures: ${JSON.stringify(past)}`)
  assert(past.title.startsWith('2017年'), `readiness follows the year: ${past.title}`)
  assert(past.coverage !== live.coverage || past.title !== live.title, 'the figures change with the year')
  assert(past.coverage.includes('2017'), `coverage says its year: ${past.coverage}`)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  await keep(session, 'year-03-charts-2017.png')

  await session.click(await session.find('[data-testid="overview-view-summary"]'))
  const then = await notVisited(session, 2017)
  step(`2017: ${then}`)
  assert(then.includes('截至 2017 年底'), `a past year counts to its end: ${then}`)
  const thenCount = Number(/共 (\d+) 户/.exec(then)?.[1])
  assert(thenCount > 0 && thenCount < 300, `counted to the end of 2017, not to today: ${thenCount}`)
  const lastVisits = await session.execute(`
    return [...document.querySelectorAll('.columns .column:first-child tbody tr')]
      .map((tr) => tr.lastElementChild.textContent.trim())`)
  assert(lastVisits.length > 0 && lastVisits.every((d) => d === '从未走访' || d <= '2017-11-01'),
    `the listed last visits lie 60 days or more before the end of 2017: ${lastVisits.slice(0, 5)}`)
  await keep(session, 'year-04-overview-2017.png')

  await world.quit()
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
