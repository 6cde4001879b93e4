// Filling the app's forms the way a person does, for the e2e tests: find a field by its test
// id, type over it, pick from a value list by typing its label; read what a field shows; wait
// for the household list.
import { inputOf } from './app.mjs'
import { Keys, waitFor } from './webdriver.mjs'

// The field and screenshot helpers live with the app harness; re-exported for the form tests.
export { inputOf, shot, typeInto } from './app.mjs'

/** Picks a value-list entry the keyboard way: focus the select, type its label, Enter. */
export async function choose(session, testid, label) {
  const input = await inputOf(session, testid)
  await session.click(input)
  await session.type(input, label)
  await new Promise((resolve) => setTimeout(resolve, 250))
  await session.keys(Keys.ENTER)
  await waitFor(`${testid} to show ${label}`, async () => (await shown(session, testid)) === label, { timeoutMs: 5_000 })
}

/** What a field shows: an input's value, or the chosen label of a select. */
export function shown(session, testid) {
  return session.execute(`
    const input = document.querySelector('input[data-testid="${testid}"]')
    if (input) return input.value
    const root = document.querySelector('[data-testid="${testid}"]')
    if (!root) return null
    const placeholder = root.querySelector('.el-select__placeholder')
    if (placeholder) return placeholder.classList.contains('is-transparent') ? '' : placeholder.textContent.trim()
    const inner = root.querySelector('input')
    return inner ? inner.value : root.textContent.trim()
  `)
}

export async function householdCount(session) {
  const text = await session.text(await session.find('[data-testid="household-count"]'))
  const match = /共\s*(\d+)\s*户/.exec(text)
  return match ? Number(match[1]) : undefined
}

export async function waitForList(session) {
  return waitFor('the household list', async () => {
    const count = await householdCount(session).catch(() => undefined)
    return count !== undefined && count > 0 ? count : undefined
  }, { timeoutMs: 30_000 })
}

/** The line and origin a row of the 脱贫标准 table shows (`standard-<year>-<province|all>`), once it is there. */
export function standardRow(session, testid) {
  return session.execute(`
    const tr = document.querySelector('[data-testid="${testid}"]')
    if (!tr) return null
    return {
      line: tr.querySelector('[data-testid="standard-line"]').textContent.trim(),
      origin: tr.querySelector('[data-testid="standard-origin"]').textContent.trim(),
      text: tr.textContent,
    }`)
}
