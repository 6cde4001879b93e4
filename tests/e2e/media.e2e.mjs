// 设置 with a U 盘 (BANGFU_REMOVABLE_ROOTS): 备份到 U 盘 writes a backup on the stick, listed
// there with 恢复; 检查 U 盘上的新版本 shows 有新版本 with what changed and the command to run
// for a release signed by a trusted key (a test key this debug build is told of), and refuses
// the same release once one byte of its package is changed. Screenshots of both.
//
// Usage: node tests/e2e/media.e2e.mjs <path of bangfu-desktop> <path of bangfu>
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { waitForList } from './forms.mjs'
import { waitFor } from './webdriver.mjs'

const [app, cli] = process.argv.slice(2)
if (!app || !cli) {
  console.error('usage: node tests/e2e/media.e2e.mjs <path of bangfu-desktop> <path of bangfu>')
  process.exit(2)
}

const sticks = mkdtempSync(path.join(tmpdir(), 'bangfu-e2e-media-'))
const stick = path.join(sticks, 'KINGSTON')
mkdirSync(stick)
process.env.BANGFU_REMOVABLE_ROOTS = stick

// A release on the stick, signed with a key made for this run, which the debug app trusts.
const keyFile = path.join(sticks, 'release.key')
const publicKey = execFileSync(cli, ['release', 'keygen', '--out', keyFile], { encoding: 'utf8' }).trim()
process.env.BANGFU_TEST_RELEASE_KEY = publicKey
const release = path.join(stick, '新版本')
mkdirSync(release)
const packageFile = path.join(release, 'bangfu_9.9.9_amd64.deb')
writeFileSync(packageFile, Buffer.alloc(200_000, 7))
execFileSync(cli, ['release', 'sign', '--key', keyFile, '--package', packageFile, '--version', '9.9.9', '--change', '首次使用设置', '--change', '备份到 U 盘'])

async function found(session, testid, timeoutMs = 30_000) {
  return waitFor(testid, async () => (await session.findAll(`[data-testid="${testid}"]`))[0], { timeoutMs })
}

await withApp(app, 'media', async (world) => {
  const dataFile = path.join(world.scratch, '新文村.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await waitForList(session)
  await session.click(await found(session, 'tab-settings'))

  step('备份到 U 盘: one click on the stick, then 备份到 U 盘')
  const stickButtons = await waitFor('the stick button', async () => {
    const all = await session.findAll('[data-testid="stick"]')
    return all.length >= 2 ? all : undefined
  })
  await session.click(stickButtons[0])
  await session.click(await found(session, 'backup-to-media'))
  const saved = await session.text(await found(session, 'media-saved-path'))
  assert(saved.startsWith(stick) && /新文村-备份-\d{8}-\d{4}\.sqlite$/.test(saved), `the backup is on the stick: ${saved}`)
  assert(readdirSync(stick).some((name) => name.endsWith('.sqlite')), 'the file is there')
  // Encrypted under the data file's key, as every backup is: a lost stick shows no name.
  const onStick = readFileSync(saved)
  assert(!onStick.subarray(0, 16).toString('latin1').startsWith('SQLite format 3'), 'the backup on the stick is not plain SQLite')
  step(`stick copy: ${onStick.length} bytes, encrypted`)
  for (const name of ['马红波', '新文村']) {
    assert(!onStick.includes(Buffer.from(name)), `the stick's backup does not show ${name}`)
  }
  const rows = await waitFor('the stick backups listed', async () => {
    const r = await session.findAll('[data-testid="media-restore"]')
    return r.length === 1 ? r : undefined
  })
  assert(rows.length === 1, 'the backup on the stick is listed with 恢复')
  await shot(session, 'media-backup.png')

  step('检查 U 盘上的新版本: signed release accepted')
  await typeInto(session, 'update-folder', release)
  await session.click(await found(session, 'update-check-folder'))
  const title = await session.text(await found(session, 'update-title'))
  assert(title.includes('有新版本 9.9.9'), `有新版本 shown: ${title}`)
  const changes = await session.text(await found(session, 'update-changes'))
  assert(changes.includes('首次使用设置') && changes.includes('备份到 U 盘'), `what changed is shown: ${changes}`)
  const command = await session.execute(`return (document.querySelector('input[data-testid="update-command"]') ?? document.querySelector('[data-testid="update-command"] input')).value`)
  assert(command === `sudo apt install '${packageFile}'`, `the command to run: ${command}`)
  await session.execute(`document.querySelector('[data-testid="update-found"]').scrollIntoView()`)
  await shot(session, 'update-accepted.png')

  step('one byte of the package changed: refused')
  const bytes = readFileSync(packageFile)
  bytes[100_000] ^= 1
  writeFileSync(packageFile, bytes)
  await session.click(await found(session, 'update-check-folder'))
  const refused = await session.text(await found(session, 'update-error'))
  assert(refused.includes('已拒绝'), `a changed package is refused: ${refused}`)
  assert((await session.findAll('[data-testid="update-found"]')).length === 0, 'nothing is offered')
  await shot(session, 'update-refused.png')
})
