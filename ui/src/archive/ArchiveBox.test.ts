// The household page's 档案 box for whoever is signed in (issue 15): rendered to HTML on the
// server renderer, as MembersTable.test.ts renders the member table, and its inputs and buttons
// read back. A 只读 inspector may print the list but neither choose, type nor pick a file, nor
// add one; a 队员 may do all of it.
import { describe, expect, it, vi } from 'vitest'
import { createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import ElementPlus, { ID_INJECTION_KEY, ZINDEX_INJECTION_KEY } from 'element-plus'
import type { SignedIn } from '../api'
import { setSignedIn } from '../lock/access'
import ArchiveBox from './ArchiveBox.vue'

// No shell under the test: every command answers an empty list.
vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn(async () => []) }))

const FILING = '只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。您的角色是只读。请让有权限的人登录后再办理。'

type Control = { tag: string; label: string; testid: string | null; disabled: boolean }

/** Every button and input the box renders, in order, with whether it is disabled. */
async function controls(): Promise<Control[]> {
  const app = createSSRApp({
    render: () => h(ArchiveBox, { householdId: 'h1', householdCode: '530826103201001', revision: 0 }),
  })
  app.use(ElementPlus)
  app.provide(ID_INJECTION_KEY, { prefix: 1, current: 0 })
  app.provide(ZINDEX_INJECTION_KEY, { current: 0 })
  const html = await renderToString(app)
  const found: Control[] = []
  for (const m of html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>|<input\b([^>]*)>|<div\b([^>]*data-testid="archive-(?:record|kind)"[^>]*)>/g)) {
    const [, buttonAttrs, inner, inputAttrs, selectAttrs] = m
    const attrs = buttonAttrs ?? inputAttrs ?? selectAttrs ?? ''
    // An Element Plus select marks its wrapper, the first element inside it, is-disabled.
    const wrapper = selectAttrs === undefined ? '' : (/<div\b[^>]*>/.exec(html.slice((m.index ?? 0) + m[0].length))?.[0] ?? '')
    found.push({
      tag: buttonAttrs !== undefined ? 'button' : inputAttrs !== undefined ? 'input' : 'select',
      label: (inner ?? '').replace(/<[^>]*>/g, '').trim(),
      testid: /data-testid="([^"]*)"/.exec(attrs)?.[1] ?? null,
      disabled: /(^|\s)disabled(\s|=|$)/.test(attrs) || /\bis-disabled\b/.test(wrapper),
    })
  }
  return found
}

function signedIn(role: 'read_only' | 'member', refusals: SignedIn['refusals']): SignedIn {
  return { people_defined: true, actor: { person_id: 1, name: '陈检查', role }, names: ['陈检查'], refusals }
}

/** The box's fields for a new file: which record, which kind, the caption, the file's path. */
const FIELDS = ['archive-record', 'archive-kind', 'archive-caption', 'archive-file', 'archive-file-browse', 'archive-add']

describe('档案 for the person signed in', () => {
  it('a 只读 inspector may print the list; every field of a new file and 加入档案 are disabled', async () => {
    setSignedIn(signedIn('read_only', [{ permission: 'file_households', message: FILING }]))
    const shown = await controls()
    const byTestid = (id: string) => shown.filter((c) => c.testid === id)
    for (const id of FIELDS) {
      expect(byTestid(id).length, id).toBeGreaterThan(0)
      expect(byTestid(id).every((c) => c.disabled), `${id} disabled`).toBe(true)
    }
    const enabled = shown.filter((c) => c.tag === 'button' && !c.disabled).map((c) => c.label)
    expect(enabled).toEqual(['打印档案目录', '档案目录存为 PDF…'])
  })

  it('a 队员 may choose, type, pick and add', async () => {
    setSignedIn(signedIn('member', [{ permission: 'exit_steps', message: '只有第一书记或队长可以办理退出步骤。' }]))
    const shown = await controls()
    for (const id of FIELDS) {
      const found = shown.filter((c) => c.testid === id)
      expect(found.length, id).toBeGreaterThan(0)
      expect(found.some((c) => c.disabled), `${id} enabled`).toBe(false)
    }
  })
})
