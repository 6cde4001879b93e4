// The household page's 家庭成员 table for whoever is signed in (issue 15): rendered to HTML on
// the server renderer, with Element Plus as the app uses it, and its buttons and inputs read
// back. A 只读 inspector sees the people with every act disabled and the core's reason; a 队员
// may do everything.
import { describe, expect, it } from 'vitest'
import { createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import ElementPlus, { ID_INJECTION_KEY, ZINDEX_INJECTION_KEY } from 'element-plus'
import type { Catalog, HouseholdFile, PageBase, SignedIn } from '../api'
import { setSignedIn } from '../lock/access'
import MembersTable from './MembersTable.vue'
import { addMember, newHouseholdFile, recordLeave } from './pageModel'

const FILING = '只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。您的角色是只读。请让有权限的人登录后再办理。'

const catalog: Catalog = {
  code_lists: [],
  relation_head: '01',
  tables: [
    { table: 'household', label: '贫困户', fields: [{ name: 'village_id', label: '所属村', kind: 'ref', multi: false }] },
    {
      table: 'member',
      label: '家庭成员',
      fields: [
        { name: 'household_id', label: '所属户', kind: 'ref', multi: false },
        { name: 'name', label: '姓名', kind: 'text', multi: false },
        { name: 'relation', label: '与户主关系', kind: 'text', multi: false },
        { name: 'leave_date', label: '减员日期', kind: 'date', multi: false },
        { name: 'leave_reason', label: '减员原因', kind: 'text', multi: false },
      ],
    },
  ],
}

/** A stored household of three: 户主, a son, and a daughter who married out (减员). */
function household(): { file: HouseholdFile; base: PageBase } {
  const file = newHouseholdFile(catalog, 'v1')
  addMember(file, catalog).name = '张大山'
  const son = addMember(file, catalog)
  Object.assign(son, { name: '张小山', relation: '02' })
  const daughter = addMember(file, catalog)
  Object.assign(daughter, { name: '张小花', relation: '03' })
  recordLeave(file, catalog, daughter.id as string, '婚出', '2023-03-01')
  const row = (id: unknown) => ({ id: String(id), heads: {} })
  const base = { household: row(file.household.id), members: file.members.map((m) => row(m.id)), incomes: [], pairings: [], measures: [], visits: [] }
  return { file, base }
}

type Control = { tag: string; label: string; testid: string | null; disabled: boolean }

/** Every button and input the table renders, in order, with whether it is disabled. */
async function controls(): Promise<{ html: string; controls: Control[] }> {
  const { file, base } = household()
  const app = createSSRApp({ render: () => h(MembersTable, { file, catalog, review: null, base }) })
  app.use(ElementPlus)
  app.provide(ID_INJECTION_KEY, { prefix: 1, current: 0 })
  app.provide(ZINDEX_INJECTION_KEY, { current: 0 })
  const html = await renderToString(app)
  const found: Control[] = []
  for (const m of html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>|<input\b([^>]*)>/g)) {
    const [, buttonAttrs, inner, inputAttrs] = m
    const attrs = buttonAttrs ?? inputAttrs ?? ''
    found.push({
      tag: buttonAttrs === undefined ? 'input' : 'button',
      label: (inner ?? '').replace(/<[^>]*>/g, '').trim(),
      testid: /data-testid="([^"]*)"/.exec(attrs)?.[1] ?? null,
      disabled: /(^|\s)disabled(\s|=|$)/.test(attrs),
    })
  }
  return { html, controls: found }
}

function signedIn(role: 'read_only' | 'member', refusals: SignedIn['refusals']): SignedIn {
  return { people_defined: true, actor: { person_id: 1, name: '陈检查', role }, names: ['陈检查'], refusals }
}

describe('家庭成员 for the person signed in', () => {
  it('a 只读 inspector reads the people; every act but 更多 is disabled and the table says why', async () => {
    setSignedIn(signedIn('read_only', [{ permission: 'file_households', message: FILING }]))
    const { html, controls: shown } = await controls()
    const labels = shown.filter((c) => c.tag === 'button').map((c) => c.label)
    expect(labels).toEqual(['更多', '减员', '删除', '设为户主', '更多', '减员', '删除', '添加成员', '撤销减员'])
    const enabled = shown.filter((c) => !c.disabled).map((c) => c.label || c.testid)
    expect(enabled).toEqual(['更多', '更多'])
    expect(shown.filter((c) => c.tag === 'input').length).toBeGreaterThanOrEqual(4)
    expect(html).toContain('只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。家庭人口 2 人')
    expect(html).not.toContain('按 Enter 添加下一名成员')
  })

  it('a 队员 may add, remove, record and undo a 减员, and type', async () => {
    setSignedIn(signedIn('member', [{ permission: 'exit_steps', message: '只有第一书记或队长可以办理退出步骤。' }]))
    const { html, controls: shown } = await controls()
    expect(shown.filter((c) => c.disabled)).toEqual([])
    expect(shown.filter((c) => c.tag === 'input').length).toBeGreaterThanOrEqual(4)
    expect(html).toContain('按 Enter 添加下一名成员；家庭人口 2 人')
    expect(html).not.toContain('data-testid="members-readonly"')
  })
})
