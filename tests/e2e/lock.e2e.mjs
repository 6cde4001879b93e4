// The lock screen, seen in the real app: a new data file gets its passphrase (a short one is
// refused) and its recovery code is shown once; the file on the disk is encrypted; the next
// start asks for the passphrase (a wrong one is refused, nothing opens); a forgotten
// passphrase is answered with the recovery code and a new passphrase.
//
// Usage: node tests/e2e/lock.e2e.mjs <path of bangfu-desktop>
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app] = process.argv.slice(2)
if (!app) {
  console.error('usage: node tests/e2e/lock.e2e.mjs <bangfu-desktop>')
  process.exit(2)
}

const PASS = '红旗村工作队口令'
const NEW_PASS = '恢复以后的新口令'

async function lockScreen(session) {
  await waitFor('the lock screen', async () => (await session.findAll('[data-testid="lock-screen"]')).length === 1, { timeoutMs: 60_000 })
}

async function lockError(session) {
  return waitFor('the lock screen error', () =>
    session.execute(`return document.querySelector('[data-testid="lock-error"]')?.textContent?.trim() || null`),
  { timeoutMs: 30_000 })
}

await withApp(app, 'lock', async (world) => {
  const dataFile = path.join(world.scratch, 'village.sqlite')
  let session = await world.launch(['--db', dataFile, '--seed-demo'])
  await lockScreen(session)
  assert((await session.findAll('[data-testid="household-count"]')).length === 0, 'nothing is shown before the passphrase')
  await shot(session, 'lock-set-up.png')

  await typeInto(session, 'lock-passphrase', '短口令')
  await typeInto(session, 'lock-passphrase-again', '短口令')
  await session.click(await session.find('[data-testid="lock-submit"]'))
  const short = await lockError(session)
  assert(short.includes('至少要有 8 个字符'), `a short passphrase is refused: ${short}`)

  await typeInto(session, 'lock-passphrase', PASS)
  await typeInto(session, 'lock-passphrase-again', PASS)
  await session.click(await session.find('[data-testid="lock-submit"]'))
  const code = await waitFor('the recovery code', () =>
    session.execute(`return document.querySelector('[data-testid="recovery-code"]')?.textContent?.trim() || null`),
  { timeoutMs: 30_000 })
  assert(code.replace(/\D/g, '').length === 48, `48 digits: ${code}`)
  await shot(session, 'lock-recovery-code.png')
  await session.click(await session.find('[data-testid="recovery-copied"]'))
  await session.click(await session.find('[data-testid="lock-open"]'))
  const households = await waitForList(session)
  step(`unlocked: ${households} households`)
  const head = await waitFor('a head of household', () =>
    session.execute(`return [...document.querySelectorAll('.el-table__body-wrapper tbody tr:first-child td')].map((td) => td.textContent.trim()).find((t) => /^[\\u4e00-\\u9fa5]{2,4}$/.test(t)) ?? null`),
  )

  await world.quit()
  const raw = readFileSync(dataFile)
  assert(raw.subarray(0, 15).toString('latin1') !== 'SQLite format 3', 'the data file is encrypted')
  assert(!raw.includes(Buffer.from(head, 'utf8')), `${head} is not readable in the data file`)

  session = await world.launch(['--db', dataFile])
  await lockScreen(session)
  await typeInto(session, 'lock-passphrase', '不对的口令不对的口令')
  await session.click(await session.find('[data-testid="lock-submit"]'))
  const wrong = await lockError(session)
  assert(wrong.includes('口令不对'), `a wrong passphrase is refused: ${wrong}`)
  await shot(session, 'lock-wrong-passphrase.png')
  await typeInto(session, 'lock-passphrase', PASS)
  await session.click(await session.find('[data-testid="lock-submit"]'))
  assert((await waitForList(session)) === households, 'the same households after unlocking')

  await world.quit()
  session = await world.launch(['--db', dataFile])
  await lockScreen(session)
  await session.click(await session.find('[data-testid="lock-forgot"]'))
  await typeInto(session, 'lock-recovery-code', code)
  await typeInto(session, 'lock-passphrase', NEW_PASS)
  await typeInto(session, 'lock-passphrase-again', NEW_PASS)
  await shot(session, 'lock-recover.png')
  await session.click(await session.find('[data-testid="lock-submit"]'))
  assert((await waitForList(session)) === households, 'opened with the recovery code')
  step('recovery code and new passphrase opened the file')
}, { locked: true })
