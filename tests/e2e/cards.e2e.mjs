// End-to-end test of 帮扶联系卡 printing on the real app, on the demo village: a household's card
// preview shows its head and cadre; 另存为 PDF writes a one-page A5 PDF with the same words
// (read back with pdftotext/pdfinfo); 打印 hands the engine's PDF to `lp` (a fake one first on
// the app's PATH records its arguments and the file); the 走访记录 sheet saves; a village's cards
// save as A4 两张一页 with the progress bar reaching the end; a cancelled batch writes nothing.
// Saves screenshots and renders a page of the village PDF with pdftoppm.
//
// Usage: node tests/e2e/cards.e2e.mjs <path of bangfu-desktop>
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, SCREENSHOTS, assert, step, withApp } from './app.mjs'
import { Keys, waitFor } from './webdriver.mjs'

const app = process.argv[2]
if (!app) {
  console.error('usage: node tests/e2e/cards.e2e.mjs <path of bangfu-desktop>')
  process.exit(2)
}

const PRINTERS = ['村委会打印机', '乡镇办公室']
const A5 = '419.528 x 595.276'
const A4_LANDSCAPE = '841.89 x 595.276'

/** A fake CUPS: `lpstat` lists two printers, `lp` records its arguments and copies the file. */
function fakePrintSystem(dir) {
  const lp = `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/lp-args.txt"
for last; do :; done
cp "$last" "${dir}/printed.pdf"
echo "request id is ${PRINTERS[1]}-7 (1 file(s))"
`
  const lpstat = `#!/bin/sh
case "$1" in
  -e) printf '%s\\n' "${PRINTERS[0]}" "${PRINTERS[1]}" ;;
  -d) echo "system default destination: ${PRINTERS[0]}" ;;
  *) exit 1 ;;
esac
`
  writeFileSync(path.join(dir, 'lp'), lp, { mode: 0o755 })
  writeFileSync(path.join(dir, 'lpstat'), lpstat, { mode: 0o755 })
}

/** Page text as the card tests read it: NFKC, no whitespace (wrapping breaks lines). */
function pdfText(pdf, page) {
  const args = page ? ['-f', String(page), '-l', String(page), pdf, '-'] : [pdf, '-']
  return execFileSync('pdftotext', args, { encoding: 'utf8' }).normalize('NFKC').replace(/\s+/g, '')
}

function pdfInfo(pdf) {
  const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' })
  return {
    pages: Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]),
    size: /^Page size:\s+([\d.]+ x [\d.]+)/m.exec(info)?.[1],
  }
}

const squeeze = (text) => text.normalize('NFKC').replace(/\s+/g, '')

function shot(session, name) {
  return session.screenshot().then((png) => {
    writeFileSync(path.join(SCREENSHOTS, name), png)
    step(`screenshot ${path.relative(ROOT, path.join(SCREENSHOTS, name))}`)
  })
}

function textOf(session, css) {
  return session.execute(`return document.querySelector(${JSON.stringify(css)})?.textContent.trim() ?? null`)
}

/** Clicks what `css` finds once it exists and takes the click (dialogs fade in). */
async function clickWhenReady(session, css, what = css) {
  await waitFor(`${what} to take a click`, async () => {
    await session.click(await session.find(css))
    return true
  })
}

/** Types over whatever an input behind a test id holds. */
async function typeOver(session, testid, text) {
  const input = await waitFor(`input ${testid}`, () =>
    session.execute(`return document.querySelector('[data-testid="${testid}"] input') ?? document.querySelector('input[data-testid="${testid}"]')`),
  ).then((value) => Object.values(value)[0])
  await session.click(input)
  await session.chord(Keys.CONTROL, 'a')
  await session.type(input, text)
}

/** Picks an el-select option by its label: open the select, click the option. */
async function pick(session, testid, label) {
  await clickWhenReady(session, `[data-testid="${testid}"]`)
  await waitFor(`option ${label}`, () =>
    session.execute(
      `const item = [...document.querySelectorAll('.el-select-dropdown__item')].find((e) => e.textContent.trim() === ${JSON.stringify(label)} && e.offsetParent !== null)
       if (!item) return false
       item.click()
       return true`,
    ),
  )
}

/** Clicks the radio with this label inside the element behind a test id. */
function radio(session, testid, label) {
  return waitFor(`radio ${label}`, () =>
    session.execute(
      `const r = [...document.querySelectorAll('[data-testid="${testid}"] label.el-radio')].find((e) => e.textContent.includes(${JSON.stringify(label)}))
       if (!r) return false
       r.click()
       return true`,
    ),
  )
}

/** Opens a delivery dialog with `button`, fills it in with `fill`, confirms, returns the result line. */
async function deliver(session, button, fill) {
  await clickWhenReady(session, `[data-testid="${button}"]`)
  await waitFor('the dialog', () => session.execute(`return document.querySelector('[data-testid="deliver-dialog"]')?.offsetParent != null`))
  await fill()
  const before = await textOf(session, '[data-testid="card-result"]')
  await clickWhenReady(session, '[data-testid="deliver-confirm"]')
  return waitFor('the result line', async () => {
    const now = await textOf(session, '[data-testid="card-result"]')
    return now && now !== before ? now : undefined
  }, { timeoutMs: 60_000 })
}

const fakeBin = mkdtempSync(path.join(tmpdir(), 'bangfu-e2e-lp-'))
const out = mkdtempSync(path.join(tmpdir(), 'bangfu-e2e-cards-'))
fakePrintSystem(fakeBin)
// The app inherits tauri-driver's environment, which withApp takes from ours.
process.env.PATH = `${fakeBin}:${process.env.PATH}`

try {
  await withApp(app, 'cards', async (world) => {
    const dataFile = path.join(world.scratch, 'cards.sqlite')
    const session = await world.launch(['--db', dataFile, '--seed-demo'])

    step('opening the first household of the demo village')
    const head = await waitFor('the household list', () =>
      session.execute(`return document.querySelector('.el-table__body-wrapper tbody tr.el-table__row td:nth-child(2)')?.textContent.trim() || undefined`),
      { timeoutMs: 60_000 },
    )
    await clickWhenReady(session, '.el-table__body-wrapper tbody tr.el-table__row td:nth-child(2) .cell', 'the first row')
    await waitFor('the household page', () => session.findAll('[data-testid="household-page"]').then((f) => f.length === 1))

    step('the card preview shows the head and the cadre')
    await session.execute(`document.getElementById('sec-card')?.scrollIntoView({ block: 'start' })`)
    await waitFor(`the preview to name ${head}`, async () => (await textOf(session, '[data-testid="card-head-name"]')) === head, { timeoutMs: 20_000 })
    const cadre = await textOf(session, '[data-testid="card-cadre"]')
    const phone = await textOf(session, '[data-testid="card-cadre-phone"]')
    step(`preview: 户主 ${head}, 帮扶责任人 ${cadre} ${phone}`)
    assert(cadre && cadre !== '（尚未结对）', `the demo household has a cadre on its card, got ${cadre}`)
    const pairings = await session.execute(`return document.getElementById('sec-pairings').nextElementSibling.textContent`)
    assert(pairings.includes(cadre), `the card's cadre ${cadre} is the household's pairing`)
    // The preview draws the QR symbol the PDF prints: 21×21 modules for a 15-digit code, with
    // the three finder squares (a dark 7×7 ring at the top-left corner).
    const qrModules = await session.execute(
      `return (document.querySelector('[data-testid="card-qr"] path')?.getAttribute('d') ?? '').split('M').length - 1`,
    )
    assert(qrModules > 100 && qrModules < 441, `the preview draws the QR code's dark modules, got ${qrModules}`)
    await session.execute(`document.getElementById('sec-card')?.scrollIntoView({ block: 'start' })`)
    await shot(session, 'cards-preview.png')

    step('另存为 PDF writes one A5 page with the same words')
    const cardPdf = path.join(out, '联系卡.pdf')
    const saved = await deliver(session, 'card-save', async () => {
      await typeOver(session, 'pdf-path', cardPdf)
    })
    step(`result: ${saved}`)
    assert(saved.includes('已保存'), `saved message: ${saved}`)
    assert(existsSync(cardPdf), `${cardPdf} exists`)
    assert(pdfInfo(cardPdf).pages === 1 && pdfInfo(cardPdf).size === A5, `one A5 page: ${JSON.stringify(pdfInfo(cardPdf))}`)
    const cardText = pdfText(cardPdf)
    for (const word of [head, cadre, phone, '精准扶贫帮扶联系卡']) {
      assert(cardText.includes(squeeze(word)), `the saved card shows ${word}`)
    }

    step('打印 sends the engine PDF to lp on the chosen printer')
    const printed = await deliver(session, 'card-print', async () => {
      await pick(session, 'printer', PRINTERS[1])
    })
    step(`result: ${printed}`)
    assert(printed.includes(`已送到打印机 ${PRINTERS[1]}`), `printed message: ${printed}`)
    const args = readFileSync(path.join(fakeBin, 'lp-args.txt'), 'utf8').trim().split('\n')
    step(`lp ${args.join(' ')}`)
    assert(args.includes('-d') && args[args.indexOf('-d') + 1] === PRINTERS[1], `lp was given -d ${PRINTERS[1]}`)
    assert(args.at(-1).endsWith('.pdf'), 'lp was given a PDF file')
    const printedPdf = path.join(fakeBin, 'printed.pdf')
    assert(pdfInfo(printedPdf).size === A5, 'the printed file is the A5 card')
    assert(pdfText(printedPdf) === cardText, 'the printed PDF has exactly the words of the saved one')

    step('the 走访记录 sheet saves as PDF')
    const visitsPdf = path.join(out, '走访记录.pdf')
    const visits = await deliver(session, 'visits-save', async () => {
      await typeOver(session, 'pdf-path', visitsPdf)
    })
    assert(visits.includes('已保存'), `visits message: ${visits}`)
    const visitsText = pdfText(visitsPdf)
    assert(visitsText.includes('走访记录') && visitsText.includes(squeeze(head)), 'the visit sheet names the household')

    step('back to the list: a whole village as A4 两张一页')
    await clickWhenReady(session, '[data-testid="back-to-list"]')
    // Should the page count as changed (nothing was typed), its leave question is answered.
    await waitFor('the list', () =>
      session.execute(`
        const leave = document.querySelector('.el-message-box .el-button--primary')
        if (leave && leave.offsetParent !== null) leave.click()
        return document.querySelector('[data-testid="batch-cards"]')?.offsetParent != null`),
    )
    await clickWhenReady(session, '[data-testid="batch-cards"]')
    await radio(session, 'batch-scope', '整村')
    await waitFor('a village chosen', () => session.execute(`const p = document.querySelector('[data-testid="batch-village"] .el-select__placeholder'); return p && !p.classList.contains('is-transparent') ? p.textContent.trim() : undefined`))
    await radio(session, 'card-layout', 'A4 两张一页')
    const villagePdf = path.join(out, '整村.pdf')
    await typeOver(session, 'pdf-path', villagePdf)
    await clickWhenReady(session, '[data-testid="batch-start"]')
    await waitFor('the progress bar to move', async () => {
      const count = await textOf(session, '[data-testid="batch-count"]')
      return count && /已排版 [1-9]\d* \//.test(count) ? count : undefined
    }, { timeoutMs: 60_000 })
    await shot(session, 'cards-batch-running.png')
    const result = await waitFor('the batch to finish', () => textOf(session, '[data-testid="batch-result"]'), { timeoutMs: 240_000 })
    step(`batch: ${result}`)
    const cards = Number(/共 (\d+) 张/.exec(result)?.[1])
    assert(cards > 100, `the demo village has its cards: ${result}`)
    const bar = await textOf(session, '[data-testid="batch-progress"] .el-progress__text')
    const count = await textOf(session, '[data-testid="batch-count"]')
    assert(bar === '100%' && count === `已排版 ${cards} / ${cards} 张`, `progress at the end: ${bar}, ${count}`)
    await shot(session, 'cards-batch-done.png')
    const village = pdfInfo(villagePdf)
    assert(village.pages === Math.ceil(cards / 2) && village.size === A4_LANDSCAPE, `village PDF: ${JSON.stringify(village)}`)
    assert(pdfText(villagePdf, 1).includes(squeeze(head)), `the first sheet holds ${head}'s card`)
    const render = path.join(SCREENSHOTS, 'cards-village-page1')
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', villagePdf, render])
    step(`rendered ${path.relative(ROOT, render)}.png`)

    step('a cancelled batch stops and writes nothing')
    const cancelledPdf = path.join(out, '取消.pdf')
    await typeOver(session, 'pdf-path', cancelledPdf)
    await clickWhenReady(session, '[data-testid="batch-start"]')
    // Cancel the moment the button is there: a warm run lays out 300 cards in about a second,
    // so waiting for a count first can find the batch already done.
    await waitFor('the cancel button of the running batch', async () => {
      const [cancel] = await session.findAll('[data-testid="batch-cancel"]')
      if (!cancel) return undefined
      await session.click(cancel)
      return true
    }, { timeoutMs: 60_000, intervalMs: 20 })
    const cancelled = await waitFor('the cancel to land', () => textOf(session, '[data-testid="batch-result"]'), { timeoutMs: 60_000 })
    step(`cancelled: ${cancelled}`)
    assert(cancelled.includes('已取消'), `cancel message: ${cancelled}`)
    assert(!existsSync(cancelledPdf), 'no PDF after a cancel')
  }, { timeoutMs: 600_000 })
  step('cards: passed')
} finally {
  rmSync(fakeBin, { recursive: true, force: true })
  rmSync(out, { recursive: true, force: true })
}
