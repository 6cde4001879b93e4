// End-to-end test of the 台帐 page and the report charts on the real app: export the 贫困户台帐
// of the demo village and read the file back with openpyxl (IDs as text, Chinese intact);
// check a messy roll and see its errors; import its good households and find one in the list;
// see the 统计图表 of the overview drawn. Saves screenshots to artifacts/screenshots/.
//
// Usage: node tests/e2e/ledger.e2e.mjs <path of bangfu-desktop>
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { ROOT, assert, inputOf, shot, step, typeInto, withApp } from './app.mjs'
import { Keys, waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/ledger.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

/** The messy roll: merged two-level header, 1.23E+17 IDs, duplicate people, a household without code. */
const ROLL = path.join(ROOT, 'fixtures/rolls/merged_header.xlsx')
/** The demo village files about 300 households. */
const DEMO_HOUSEHOLDS = { min: 250, max: 350 }

function textOf(session, css) {
  return session.execute(`return [...document.querySelectorAll(${JSON.stringify(css)})].map((e) => e.textContent.trim())`)
}

/** What openpyxl reads in the file: title, header, row count, and the cell types of 户主证件号码. */
function readWorkbook(file) {
  const script = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
ws = wb.worksheets[0]
rows = list(ws.iter_rows(values_only=True))
header_at = next(i for i, r in enumerate(rows) if r and '户编号' in r)
header = list(rows[header_at])
id_col = header.index('户主证件号码')
data = [r for r in rows[header_at + 1:] if r[2] and str(r[2]).isdigit()]
print(json.dumps({
  'sheet': ws.title,
  'title': rows[0][0],
  'header': [h for h in header if h],
  'rows': len(data),
  'id_types': sorted({type(r[id_col]).__name__ for r in data if r[id_col] is not None}),
  'first_id': data[0][id_col] if data else None,
}, ensure_ascii=False))
`
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }))
}

async function exportLedger(session, folder) {
  await session.click(await session.find('[data-testid="tab-ledger"]'))
  await waitFor('the 台帐 page', async () => (await session.findAll('[data-testid="ledger-page"]')).length === 1)
  await session.click(await session.find('[data-testid="ledger-kind-households"]'))
  await typeInto(session, 'ledger-folder', folder)
  const target = await waitFor('the file name shown', async () => {
    const [text] = await textOf(session, '[data-testid="ledger-target"]')
    return text?.includes('.xlsx') ? text : undefined
  })
  assert(target.includes('全部贫困户台帐-'), `default name names the scope and ledger: ${target}`)
  await session.click(await session.find('[data-testid="ledger-export"]'))
  const result = await waitFor('the export result', async () => {
    const [error] = await textOf(session, '[data-testid="ledger-error"]')
    if (error) throw new Error(`export failed: ${error}`)
    const [text] = await textOf(session, '[data-testid="ledger-result"]')
    return text
  }, { timeoutMs: 60_000 })
  step(`export says: ${result}`)
  // The path, then the 打开所在文件夹 button.
  const match = /已导出“(.+?)” (\d+) 行 → (.+\.xlsx)\s*打开所在文件夹$/.exec(result)
  assert(match, `result names the ledger, rows and path, and offers 打开所在文件夹: ${result}`)
  const [, title, rows, file] = match
  assert(existsSync(file), `${file} exists`)
  assert(path.dirname(file) === folder, `written into the typed folder: ${file}`)
  const book = readWorkbook(file)
  step(`openpyxl reads sheet ${book.sheet}, title ${book.title}, ${book.rows} rows, ID cells ${book.id_types}`)
  assert(book.title === title, `title row ${book.title} is ${title}`)
  assert(book.sheet === '贫困户台帐', `sheet named 贫困户台帐: ${book.sheet}`)
  assert(book.rows === Number(rows), `openpyxl counts ${book.rows} households, the page said ${rows}`)
  assert(book.rows >= DEMO_HOUSEHOLDS.min && book.rows <= DEMO_HOUSEHOLDS.max, `demo village rows ${book.rows}`)
  assert(book.id_types.length === 1 && book.id_types[0] === 'str', `IDs are text cells: ${book.id_types}`)
  assert(/^\d{17}[\dX]$/.test(book.first_id), `an ID keeps all 18 characters: ${book.first_id}`)
  for (const h of ['户编号', '户主姓名', '户主证件号码', '家庭人口']) assert(book.header.includes(h), `header has ${h}`)
  await shot(session, 'ledger-01-export.png')

  // A folder that does not exist is refused with the folder named, and nothing is written.
  const missing = path.join(folder, '没有这个文件夹')
  await typeInto(session, 'ledger-folder', missing)
  await session.click(await session.find('[data-testid="ledger-export"]'))
  const refusal = await waitFor('the refusal', async () => (await textOf(session, '[data-testid="ledger-error"]'))[0])
  assert(refusal.includes('不存在') && refusal.includes(missing), `refusal names the folder: ${refusal}`)
  step(`a missing folder: ${refusal}`)
}

async function previewAndImport(session) {
  await typeInto(session, 'roll-path', ROLL)
  await session.click(await session.find('[data-testid="roll-check"]'))
  const summary = await waitFor('the preview', async () => {
    const [error] = await textOf(session, '[data-testid="roll-error"]')
    if (error) throw new Error(`preview failed: ${error}`)
    return (await textOf(session, '[data-testid="roll-summary"]'))[0]
  }, { timeoutMs: 30_000 })
  step(`preview: ${summary}`)
  const ready = Number(/可导入 (\d+) 户/.exec(summary)?.[1])
  const errors = Number(/错误 (\d+) 处/.exec(summary)?.[1])
  assert(ready > 0, 'some households are ready')
  assert(errors > 0, 'the messy roll has errors')
  const issues = await textOf(session, '[data-testid="roll-issue"]')
  step(`${issues.length} issues shown, e.g. ${issues.slice(0, 3).join(' | ')}`)
  assert(issues.filter((t) => t.startsWith('错误')).length > 0, 'errors are listed row by row')
  assert(issues.some((t) => t.includes('科学计数') || t.includes('E+')), 'the ID Excel turned into 1.23E+17 is reported')
  await shot(session, 'ledger-02-preview.png')

  // The heads of ready households, read from the full table.
  await session.click(await waitFor('the 全部 filter', async () => {
    const buttons = await session.execute(
      `return [...document.querySelectorAll('[data-testid="roll-preview"] .el-radio-button')].filter((b) => b.textContent.includes('全部'))`,
    )
    return buttons.length ? Object.values(buttons[0])[0] : undefined
  }))
  const readyNames = await waitFor('ready rows', async () => {
    const names = await session.execute(
      `return [...document.querySelectorAll('[data-testid="roll-rows"] tbody tr')]
         .filter((tr) => tr.cells[4]?.textContent.trim() === '可导入')
         .map((tr) => tr.cells[2].textContent.trim())`,
    )
    return names.length ? names : undefined
  })
  step(`ready people: ${readyNames.join('、')}`)

  await session.click(await session.find('[data-testid="roll-import"]'))
  const outcome = await waitFor('the import outcome', async () => {
    const [error] = await textOf(session, '[data-testid="import-error"]')
    if (error) throw new Error(`import failed: ${error}`)
    return (await textOf(session, '[data-testid="roll-outcome"]'))[0]
  }, { timeoutMs: 30_000 })
  step(`import: ${outcome}`)
  assert(new RegExp(`已导入 ${ready} 户`).test(outcome), `imported the ${ready} ready households: ${outcome}`)
  await shot(session, 'ledger-03-imported.png')

  await session.click(await session.find('[data-testid="roll-to-list"]'))
  const search = await session.find('input[data-testid="household-search"]')
  await session.type(search, readyNames[0])
  const found = await waitFor(`${readyNames[0]} in the list`, async () => {
    const rows = await session.execute(
      `return [...document.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')].map((r) => r.textContent)`,
    )
    return rows.find((r) => r.includes(readyNames[0]) && r.includes('530826103299'))
  }, { timeoutMs: 15_000 })
  step(`the list shows the imported household: ${found.replace(/\s+/g, ' ').slice(0, 80)}`)
  await shot(session, 'ledger-04-list.png')
  await session.click(search)
  await session.chord(Keys.CONTROL, 'a')
  await session.keys(Keys.BACKSPACE)
}

async function charts(session, folder) {
  await session.click(await session.find('[data-testid="tab-overview"]'))
  await session.click(await waitFor('the 统计图表 switch', async () => (await session.findAll('[data-testid="overview-view-charts"]'))[0]))
  for (const chart of ['status', 'incidence', 'measures', 'visits', 'readiness']) {
    await waitFor(`the ${chart} chart drawn`, async () =>
      session.execute(`
        const canvas = document.querySelector('[data-testid="chart-${chart}"] canvas')
        return !!canvas && canvas.width > 100 && canvas.height > 100`), { timeoutMs: 20_000 })
  }
  const readinessRows = await textOf(session, '[data-testid="readiness-table"] tbody tr')
  step(`5 charts drawn; readiness lists ${readinessRows.length} households not meeting the standard`)
  assert(readinessRows.length > 0, 'the demo village has households not yet meeting the standard')
  assert(readinessRows.some((r) => r.includes('：')), 'each says why')
  await shot(session, 'ledger-05-charts.png')

  // One village: the new 新建村 from the roll.
  // The select's visible box (its input sits under the selected label, which takes clicks).
  await waitFor('the scope select opens', () =>
    session.execute(`
      const box = document.querySelector('[data-testid="report-scope"] .el-select__wrapper')
        ?? document.querySelector('[data-testid="report-scope"]')
      if (!box) return false
      box.click()
      return true`))
  // The dropdown's own click: WebKit reports the option covered while the popper animates.
  await waitFor('the 新建村 option', () =>
    session.execute(`
      const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((o) => o.textContent.includes('新建村'))
      if (!option) return false
      option.click()
      return true`),
  )
  await waitFor('the village figures', async () => {
    const labels = await session.execute(
      `return document.querySelector('[data-testid="chart-incidence"]') ? 1 : 0`,
    )
    return labels === 1
  })
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  await shot(session, 'ledger-06-village-charts.png')

  await typeInto(session, 'report-folder', folder)
  await session.click(await session.find('[data-testid="report-export"]'))
  const exported = await waitFor('the report export', async () => {
    const [error] = await textOf(session, '[data-testid="report-export-error"]')
    if (error) throw new Error(`report export failed: ${error}`)
    return (await textOf(session, '[data-testid="report-exported"]'))[0]
  }, { timeoutMs: 30_000 })
  step(`report: ${exported}`)
  const file = /→ (.+\.xlsx)\s*打开所在文件夹$/.exec(exported)?.[1]
  assert(file && existsSync(file), `report file exists, 打开所在文件夹 offered: ${exported}`)
  const sheets = JSON.parse(
    execFileSync('python3', ['-c', 'import json,sys,openpyxl; print(json.dumps(openpyxl.load_workbook(sys.argv[1]).sheetnames, ensure_ascii=False))', file], { encoding: 'utf8' }),
  )
  step(`report sheets: ${sheets.join('、')}`)
  assert(sheets.includes('退出达标') && sheets.includes('贫困发生率'), 'report has the readiness and incidence sheets')
}

await withApp(app, 'ledger', async (world) => {
  const dataFile = path.join(world.scratch, 'ledger.sqlite')
  const folder = path.join(world.scratch, '导出')
  mkdirSync(folder)
  const session = await world.launch(['--db', dataFile, '--seed-demo'])
  await exportLedger(session, folder)
  await previewAndImport(session)
  await charts(session, folder)
  await world.quit()
  step('passed')
}).catch((error) => {
  console.error(`e2e: FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
