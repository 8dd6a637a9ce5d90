// The real things the browser tests run against: the spoor binary (embedded
// NATS JetStream, collector, file sink), a page server on another origin,
// a fault-injecting proxy, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process'
import { createServer, request } from 'node:http'
import { createServer as netServer } from 'node:net'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'

const sdkDir = new URL('../../', import.meta.url).pathname
const repo = join(sdkDir, '../..')

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function waitFor(what, fn, timeout = 20000) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    last = await fn()
    if (last) return last
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

// spoorBinary builds cmd/spoor once (SPOOR_BIN overrides).
export function spoorBinary() {
  if (process.env.SPOOR_BIN) return process.env.SPOOR_BIN
  const out = join(tmpdir(), 'spoor-sdk-test-bin')
  execFileSync('go', ['build', '-o', out, './cmd/spoor'], { cwd: repo, stdio: 'inherit' })
  return out
}

// Spoor runs `spoor run` on a fixed address and data folder, so it can be
// stopped and started again like a real deploy.
export class Spoor {
  // env adds SPOOR_* settings; command is `run` (all-in-one) or `collector`.
  constructor(bin, cors, env = {}, command = 'run') {
    this.bin = bin
    this.cors = cors
    this.extraEnv = env
    this.command = command
    this.dir = mkdtempSync(join(tmpdir(), 'spoor-sdk-'))
    this.proc = null
  }

  async start(port) {
    this.port = port || this.port || (await freePort())
    this.url = `http://127.0.0.1:${this.port}`
    const env = {
      ...process.env,
      SPOOR_DATA_DIR: this.dir,
      SPOOR_HTTP_ADDR: `127.0.0.1:${this.port}`,
      SPOOR_HTTP_CORS_ORIGINS: this.cors.join(','),
      SPOOR_FILE_ROLL_INTERVAL: '100ms',
      SPOOR_SINK_BATCH_WAIT: '50ms',
      SPOOR_LOG_LEVEL: 'warn',
      ...this.extraEnv,
    }
    this.proc = spawn(this.bin, [this.command], { cwd: this.dir, env, stdio: ['ignore', 'inherit', 'inherit'] })
    const exited = new Promise((r) => this.proc.once('exit', r))
    this.exited = exited
    await waitFor('spoor /readyz', async () => {
      if (this.proc.exitCode !== null) throw new Error(`spoor exited with ${this.proc.exitCode}`)
      try {
        // A lone collector may be started with NATS unreachable on purpose: alive is enough.
        return (await fetch(this.url + (this.command === 'run' ? '/readyz' : '/healthz'))).ok
      } catch {
        return false
      }
    })
  }

  // stop sends SIGTERM (graceful: answered requests are durable) and waits.
  async stop() {
    if (!this.proc) return
    this.proc.kill('SIGTERM')
    const code = await this.exited
    this.proc = null
    if (code !== 0) throw new Error(`spoor exited with ${code}`)
  }

  // events returns every stored event (long field names), from the file
  // store's published gzip NDJSON files.
  events() {
    const out = []
    const walk = (d) => {
      let ents = []
      try {
        ents = readdirSync(d, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of ents) {
        if (e.isDirectory()) walk(join(d, e.name))
        else if (e.name.startsWith('part-') && e.name.endsWith('.ndjson.gz')) {
          for (const line of gunzipSync(readFileSync(join(d, e.name))).toString().split('\n')) {
            if (line) out.push(JSON.parse(line))
          }
        }
      }
    }
    walk(join(this.dir, 'events'))
    return out
  }

  // waitApp waits until the store holds at least n events of app, gives the
  // pipeline a moment to show any extra (duplicate) event, and returns them
  // in client_index order.
  async waitApp(app, n, timeout = 20000) {
    const of = () => this.events().filter((e) => e.app === app)
    await waitFor(`${n} stored events of ${app} (have ${of().length})`, () => of().length >= n, timeout)
    await sleep(400)
    return of().sort((a, b) => a.client_index - b.client_index)
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

// pageServer serves the test pages on their own origin: /app/* loads the
// SDK module with window.SPOOR_OPTS; /plain.html has no SDK.
export async function pageServer() {
  const files = { '/spoor.mjs': 'dist/spoor.mjs', '/spoor.js': 'dist/spoor.js' }
  const app = `<!doctype html><meta charset="utf-8"><title>shop</title>
<a id="next" href="/app/next">next</a>
<button id="buy" data-spoor-click="buy" data-spoor-deal-id="42">Buy now</button>
<form data-spoor-form="checkout" onsubmit="event.preventDefault()">
<input id="email" name="email" type="email"><input id="name" name="name"><input type="hidden" name="token" value="hidden-t0ken">
<select id="country" name="country"><option>DE</option><option>FR</option></select><input id="card" name="card" autocomplete="cc-number">
<button id="pay" type="submit">Pay</button>
</form>
<form id="other"><input id="nl" name="newsletter_email"></form>
<script type="module">
import * as spoor from '/spoor.mjs'
window.spoor = spoor
spoor.init(window.SPOOR_OPTS)
</script>`
  const srv = createServer((req, res) => {
    const path = req.url.split('?')[0]
    if (files[path]) {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' })
      return res.end(readFileSync(join(sdkDir, files[path])))
    }
    res.writeHead(path.startsWith('/app/') || path === '/plain.html' ? 200 : 404, { 'Content-Type': 'text/html' })
    res.end(path.startsWith('/app/') ? app : '<!doctype html><title>plain</title><p>no tracking here</p>')
  })
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => srv.close() }
}

// faultProxy forwards to target, except that the responses queued with
// fail() are answered by the proxy itself. log records every request.
export async function faultProxy(target) {
  const p = { log: [], plan: [] }
  const srv = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const entry = { t: Date.now(), method: req.method, url: req.url, headers: req.headers, body: body.toString() }
      p.log.push(entry)
      const cors = { 'Access-Control-Allow-Origin': req.headers.origin || '*', 'Access-Control-Expose-Headers': 'Retry-After' }
      const f = req.method === 'POST' && p.plan.shift()
      if (f) {
        entry.status = f.status
        res.writeHead(f.status, { ...cors, 'Content-Type': 'application/json', ...f.headers })
        return res.end(JSON.stringify({ error: 'injected', reason: 'injected' }))
      }
      const fwd = request(target + req.url, { method: req.method, headers: req.headers }, (up) => {
        entry.status = up.statusCode
        res.writeHead(up.statusCode, up.headers)
        up.pipe(res)
      })
      fwd.on('error', () => {
        entry.status = 502
        res.writeHead(502, cors)
        res.end()
      })
      fwd.end(body)
    })
  })
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  p.url = `http://127.0.0.1:${srv.address().port}`
  p.fail = (status, headers = {}) => p.plan.push({ status, headers })
  p.close = () => srv.close()
  return p
}

// browser starts Debian's Chromium (CHROMIUM_PATH overrides), headless,
// without any background network traffic.
export function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

// open loads url in a fresh context (empty storage) with SDK options.
export async function open(b, url, opts, { referer, clock, cookies } = {}) {
  const ctx = await b.newContext()
  if (cookies) await ctx.addCookies(cookies)
  const page = await ctx.newPage()
  page.on('pageerror', (e) => console.error('page error:', e))
  if (clock) await page.clock.install({ time: clock })
  await page.addInitScript((o) => (window.SPOOR_OPTS = o), opts)
  await page.goto(url, { referer })
  // Polled from here: with a fake clock, the page's own timers stand still.
  await waitFor('the SDK', () => page.evaluate(() => !!(window.spoor && window.spoor.track)))
  return { ctx, page }
}

// queued reads the SDK's persisted queues from the page's localStorage.
export function queued(page, prefix = 'spoor') {
  return page.evaluate((p) => {
    const out = []
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i)
      if (k.startsWith(p + '.q.')) out.push(...JSON.parse(localStorage.getItem(k)).q)
    }
    return { events: out, bytes: out.reduce((n, e) => n + JSON.stringify(e).length, 0) }
  }, prefix)
}
