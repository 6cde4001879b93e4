// End-to-end test of 村情填报 and 驻村工作队 on the real app (the demo village): a 农村人口 below
// the people filed in the village is named and cannot be saved; a right one is saved; a
// 第一书记 registered on 驻村工作队 shows in the village's team. Screenshots are looked at.
//
// Usage: node tests/e2e/village.e2e.mjs <path of bangfu-desktop>
import path from 'node:path'
import { assert, shot, step, typeInto, withApp } from './app.mjs'
import { shown } from './forms.mjs'
import { Keys, waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/village.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const text = (session, testid) =>
  session.execute(`return document.querySelector('[data-testid="${testid}"]')?.textContent ?? null`)

const saveDisabled = (session) =>
  session.execute(`return document.querySelector('[data-testid="village-save"]')?.disabled ?? null`)

await withApp(app, 'village', async (world) => {
  const dataFile = path.join(world.scratch, 'village.sqlite')
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await session.click(await waitFor('the 村情填报 tab', async () => (await session.findAll('[data-testid="tab-village"]'))[0], { timeoutMs: 60_000 }))
  await waitFor('the village sheet', () => text(session, 'village-sheet'), { timeoutMs: 20_000 })

  // Too few people: named, and the sheet cannot be saved.
  await typeInto(session, 'village-population', '5')
  await session.keys(Keys.TAB)
  const problems = await waitFor('the 农村人口 problem', async () => {
    const t = await text(session, 'village-problems')
    return t && t.includes('少于本村已建档') ? t : undefined
  })
  step(`named: ${problems}`)
  assert(await saveDisabled(session), 'the sheet cannot be saved with too few people')
  await shot(session, 'village-01-too-few.png')

  // A right number is saved.
  await typeInto(session, 'village-population', '5200')
  await session.keys(Keys.TAB)
  await waitFor('the problem gone', async () => (await text(session, 'village-problems')) === null)
  await session.click(await session.find('[data-testid="village-save"]'))
  const saved = await waitFor('the saved message', () =>
    session.execute(`return [...document.querySelectorAll('.el-message')].map((m) => m.textContent).find((t) => t.includes('村情已保存')) ?? null`))
  step(`saved: ${saved}`)
  await waitFor('the list showing 5200', async () => {
    const t = await text(session, 'village-table')
    return t && t.includes('5200') ? t : undefined
  })
  await shot(session, 'village-02-saved.png')

  // 驻村工作队: a 第一书记 registered shows in the team (once the saved message has gone: it
  // lies over the top of the dialog).
  await waitFor('the message gone', () =>
    session.execute(`return document.querySelector('.el-message') ? null : true`), { timeoutMs: 10_000 })
  await session.click(await session.find('[data-testid="tab-team"]'))
  await waitFor('the team page', () => text(session, 'team-page'), { timeoutMs: 20_000 })
  await waitFor('登记队员 enabled', () =>
    session.execute(`const b = document.querySelector('[data-testid="team-add"]'); return b && !b.disabled ? true : null`))
  await session.click(await session.find('[data-testid="team-add"]'))
  // The dialog slides in: its fields take clicks once it stands still.
  await new Promise((resolve) => setTimeout(resolve, 800))
  await typeInto(session, 'team-name', '李明远')
  // The role list opened with the mouse, as a person picks from it.
  const roleBox = await waitFor('the role box', () =>
    session.execute(`return document.querySelector('[data-testid="team-role"] .el-select__wrapper')`))
  await session.click(Object.values(roleBox)[0])
  await waitFor('第一书记 picked', () =>
    session.execute(`
      const li = [...document.querySelectorAll('.el-select-dropdown__item')]
        .find((li) => li.textContent.trim() === '第一书记' && li.offsetParent)
      if (!li) return null
      li.click()
      return true`))
  await waitFor('the role shown', async () => ((await shown(session, 'team-role')) === '第一书记' ? true : null))
  await typeInto(session, 'team-unit', '县农业农村局')
  await typeInto(session, 'team-phone', '13800001234')
  await waitFor('the form complete', () =>
    session.execute(`const b = document.querySelector('[data-testid="team-save"]'); return b && !b.disabled ? true : null`))
  await session.click(await session.find('[data-testid="team-save"]'))
  const row = await waitFor('the new member listed', () => text(session, 'team-member-李明远'), { timeoutMs: 10_000 })
  step(`listed: ${row}`)
  assert(row.includes('第一书记') && row.includes('县农业农村局'), `the row names the role and unit: ${row}`)
  await shot(session, 'village-03-team.png')
})
