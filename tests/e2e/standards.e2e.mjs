// End-to-end test of the 脱贫标准 screen on the real app: the demo file lists the shipped lines
// with their sources (one national series, the report's 云南省 line); changing 2019's national
// line to one below 2018's is questioned before it is saved, going back keeps the old line,
// and a checked line with its source is saved as the county's (synced) setting; the county's
// 首次建档年度 is shown with its source and set to a pilot county's 2013.
//
// Usage: node tests/e2e/standards.e2e.mjs <path of bangfu-desktop>
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitFor } from './webdriver.mjs'
import { standardRow } from './forms.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/standards.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

/** Clicks the element once nothing covers its middle (a closing dialog or its overlay). */
async function clickWhenFree(session, testid) {
  const el = await waitFor(`${testid} not covered`, () =>
    session.execute(`
      const el = document.querySelector('[data-testid="${testid}"]')
      if (!el) return null
      el.scrollIntoView({ block: 'center' })
      const r = el.getBoundingClientRect()
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      return top && (top === el || el.contains(top)) ? el : null`))
  await session.click(Object.values(el)[0])
}

function clickIn(session, testid, inner) {
  return waitFor(`${inner} in ${testid}`, () =>
    session.execute(`
      const el = document.querySelector('[data-testid="${testid}"] [data-testid="${inner}"]')
      if (!el) return false
      el.click()
      return true`))
}

await withApp(app, 'standards', async (world) => {
  const dataFile = path.join(world.scratch, 'standards.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await session.click(await waitFor('the 脱贫标准 tab', async () => (await session.findAll('[data-testid="tab-standards"]'))[0], { timeoutMs: 60_000 }))

  const national2018 = await waitFor('the 2018 national row', () => standardRow(session, 'standard-2018-all'), { timeoutMs: 20_000 })
  step(`2018: ${JSON.stringify(national2018)}`)
  assert(national2018.line === '2995' && national2018.origin === '程序自带', `2018's national line is shipped: ${national2018.text}`)
  assert(national2018.text.includes('国家统计局'), `the shipped line names its source: ${national2018.text}`)
  const yunnan2017 = await standardRow(session, 'standard-2017-云南省')
  assert(yunnan2017 && yunnan2017.line === '4000', `the report's 云南省 line is its province's row: ${JSON.stringify(yunnan2017)}`)
  await shot(session, 'standards-01-list.png')

  // 2019's national line below 2018's: asked first; going back saves nothing.
  await clickIn(session, 'standard-2019-all', 'standard-change')
  await typeInto(session, 'standard-income-line', '2000')
  await typeInto(session, 'standard-source', '县扶贫开发领导小组文件')
  await session.click(await session.find('[data-testid="standard-save"]'))
  const question = await waitFor('the falling line questioned', () =>
    session.execute(`return document.querySelector('.el-message-box')?.textContent ?? null`))
  step(`asked: ${question}`)
  assert(question.includes('2000') && question.includes('2995') && question.includes('低于'), `the question names both lines: ${question}`)
  await shot(session, 'standards-02-falls.png')
  await waitFor('返回修改', () =>
    session.execute(`
      const b = [...document.querySelectorAll('.el-message-box button')].find((b) => b.textContent.includes('返回修改'))
      if (!b) return false
      b.click()
      return true`))
  await waitFor('the question closed', () =>
    session.execute(`return !document.querySelector('.el-message-box__wrapper:not([style*="display: none"]) .el-message-box, .el-overlay-message-box')`))
  const kept = await standardRow(session, 'standard-2019-all')
  assert(kept.line === '3218', `going back kept the line: ${kept.line}`)

  // A checked line is saved as the county's setting.
  await typeInto(session, 'standard-income-line', '3300')
  await session.click(await session.find('[data-testid="standard-save"]'))
  const saved = await waitFor('the 2019 row showing 3300', async () => {
    const r = await standardRow(session, 'standard-2019-all')
    return r && r.line === '3300' ? r : undefined
  })
  assert(saved.origin.startsWith('县里设定'), `the setting is the county's: ${saved.origin}`)
  assert(saved.text.includes('县扶贫开发领导小组文件'), `its source is shown: ${saved.text}`)
  await shot(session, 'standards-03-saved.png')

  // The county's 首次建档年度: shipped 2014 with its source; a pilot county sets 2013 with its
  // document, and the page says it is the county's (synced) setting.
  const shipped = await waitFor('the 首次建档年度 line', () =>
    session.execute(`return document.querySelector('[data-testid="first-filing-year"]')?.textContent ?? null`))
  assert(shipped.includes('2014 年') && shipped.includes('程序自带'), `the shipped first filing year: ${shipped}`)
  // The dialog of the line just saved fades out over the page: wait until nothing covers the
  // button, as a person waits before clicking.
  await clickWhenFree(session, 'first-filing-year-change')
  await typeInto(session, 'first-filing-year-year', '2013')
  await typeInto(session, 'first-filing-year-source', '县扶贫开发领导小组〔2013〕5号（试点）')
  await clickWhenFree(session, 'first-filing-year-save')
  const set = await waitFor('the first filing year set to 2013', () =>
    session.execute(`
      const t = document.querySelector('[data-testid="first-filing-year"]')?.textContent ?? ''
      return t.includes('2013 年') ? t : null`))
  assert(set.includes('县里设定') && set.includes('〔2013〕5号'), `the county's setting with its source: ${set}`)
  await waitFor('the dialog gone', () =>
    session.execute(`
      const overlay = document.querySelector('[data-testid="first-filing-year-dialog"]')?.closest('.el-overlay')
      return !overlay || getComputedStyle(overlay).display === 'none' ? true : null`))
  await shot(session, 'standards-04-first-filing-year.png')

  await world.quit()
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
