// A minimal W3C WebDriver client over fetch: just the endpoints the e2e tests use, every call
// bounded by a timeout so a hung driver fails the run instead of stalling it.

const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf'

/** Key codes of the W3C "keys" table used by the tests. */
export const Keys = { CONTROL: '\uE009', BACKSPACE: '\uE003', ENTER: '\uE007', TAB: '\uE004', ESCAPE: '\uE00C' }

export class WebDriverError extends Error {}

const PAINT_NUDGE = `
  let dot = document.getElementById('e2e-paint-nudge')
  if (!dot) {
    dot = document.createElement('div')
    dot.id = 'e2e-paint-nudge'
    dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none'
    document.body.appendChild(dot)
  }
  dot.style.background = dot.style.background === 'rgba(0, 0, 0, 0.01)' ? 'rgba(0, 0, 0, 0.02)' : 'rgba(0, 0, 0, 0.01)'
`

function elementId(value, what) {
  const id = value?.[ELEMENT_KEY]
  if (typeof id !== 'string') throw new WebDriverError(`no element reference for ${what}: ${JSON.stringify(value)}`)
  return id
}

async function request(base, method, path, body, timeoutMs) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`)
  }
  if (!response.ok || (json.value && json.value.error)) {
    const { error, message } = json.value ?? {}
    throw new WebDriverError(`${method} ${path}: ${error ?? response.status}: ${message ?? text}`)
  }
  return json.value
}

/** Polls `probe` until it returns a value other than undefined, null, false or an empty string, or fails after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs = 10_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs
  let lastError
  for (;;) {
    try {
      const value = await probe()
      // An empty text is not an answer yet: alerts and result lines fade in with no text.
      if (value !== undefined && value !== false && value !== null && value !== '') return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Waits until the driver at `base` answers /status. */
export async function waitForDriver(base, timeoutMs) {
  await waitFor('the WebDriver server to answer', async () => {
    const status = await request(base, 'GET', '/status', undefined, 2_000)
    return status.ready !== false
  }, { timeoutMs, intervalMs: 250 })
}

export class Session {
  static async start(base, capabilities, timeoutMs = 60_000) {
    const value = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }, timeoutMs)
    return new Session(base, value.sessionId)
  }

  constructor(base, id) {
    this.base = base
    this.id = id
  }

  call(method, path, body, timeoutMs = 15_000) {
    return request(this.base, method, `/session/${this.id}${path}`, body, timeoutMs)
  }

  /**
   * The first element matching `css`, waiting up to `timeoutMs` for it to appear: a page still
   * rendering (a first start that encrypts the file is slow on a busy machine) is not a failure.
   */
  async find(css, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        return elementId(await this.call('POST', '/element', { using: 'css selector', value: css }), css)
      } catch (error) {
        if (!(error instanceof WebDriverError) || !/no such element/.test(error.message) || Date.now() > deadline) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  async findAll(css) {
    const values = await this.call('POST', '/elements', { using: 'css selector', value: css })
    return values.map((value) => elementId(value, css))
  }

  text(element) {
    return this.call('GET', `/element/${element}/text`)
  }

  click(element) {
    return this.call('POST', `/element/${element}/click`, {})
  }

  type(element, text) {
    return this.call('POST', `/element/${element}/value`, { text })
  }

  clear(element) {
    return this.call('POST', `/element/${element}/clear`, {})
  }

  /** Types into whatever has focus, as a person at the keyboard would. */
  keys(text) {
    const actions = []
    for (const ch of text) actions.push({ type: 'keyDown', value: ch }, { type: 'keyUp', value: ch })
    return this.call('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] })
  }

  async activeElement() {
    return elementId(await this.call('GET', '/element/active'), 'the active element')
  }

  /** Presses a key chord such as Ctrl+F through the actions API. */
  chord(modifier, key) {
    return this.call('POST', '/actions', {
      actions: [
        {
          type: 'key',
          id: 'keyboard',
          actions: [
            { type: 'keyDown', value: modifier },
            { type: 'keyDown', value: key },
            { type: 'keyUp', value: key },
            { type: 'keyUp', value: modifier },
          ],
        },
      ],
    })
  }

  /** Runs `script` with a callback as its last argument; resolves to what it passes back. */
  executeAsync(script, args = [], timeoutMs = 60_000) {
    return this.call('POST', '/execute/async', { script, args }, timeoutMs)
  }

  execute(script, args = []) {
    return this.call('POST', '/execute/sync', { script, args })
  }

  /**
   * PNG bytes of the window's content. WebKitGTK answers a screenshot only after its next
   * presentation update, which an idle page never has; so while the request waits, a 1-pixel
   * element that no one can see changes colour to make the page paint once.
   */
  async screenshot() {
    const shot = this.call('GET', '/screenshot', undefined, 30_000)
    // A page that crashed answers at once: the rejection is handled where `shot` is awaited,
    // not left unhandled during the nudge (which would end the whole run without the cause).
    shot.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 100))
    await this.execute(PAINT_NUDGE).catch(() => {})
    return Buffer.from(await shot, 'base64')
  }

  source() {
    return this.call('GET', '/source')
  }

  end() {
    return this.call('DELETE', '', undefined, 15_000)
  }
}
