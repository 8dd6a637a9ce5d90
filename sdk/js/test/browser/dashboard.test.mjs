// The dashboard (/admin/ on the collector) in headless Chromium against the
// real spoor binary: login, the live tail and rates, the health panel with
// NATS unreachable, and the link builder's output accepted by the collector.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Spoor, browser, freePort, sleep, spoorBinary, waitFor } from './harness.mjs'

const TOKEN = 'dashboard-test-token-0123456789'
let spoor, b

before(async () => {
  spoor = new Spoor(spoorBinary(), [], {
    SPOOR_LINKS_ADMIN_TOKENS: TOKEN,
    SPOOR_LINKS_SIGNING_KEYS: 'dashboard-signing-key-0123456789',
    SPOOR_COLLECTOR_REDIRECT_HOSTS: 'shop.example',
  })
  await spoor.start()
  b = await browser()
})

after(async () => {
  await b?.close()
  await spoor?.stop()
  spoor?.cleanup()
})

async function login (s, token = TOKEN) {
  const ctx = await b.newContext()
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e))
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text() + ' ' + m.location().url) })
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`) })
  await page.goto(s.url + '/admin/')
  await page.fill('#token', token)
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
  return { ctx, page, errors }
}

// warm waits until the page's stream is live end to end: the collector's
// subscription starts at the next message, so a marker event is sent
// until the page shows one (matching the page's filters, if any).
async function warm (s, page, marker) {
  const end = Date.now() + 10000
  for (;;) {
    await send(s, [marker])
    await sleep(200)
    if ((await page.textContent('#tail')).includes(marker.ename)) return
    if (Date.now() > end) throw new Error('the page never showed the marker event')
  }
}

async function send (s, events) {
  const res = await fetch(s.url + '/tr/v1/', { method: 'POST', body: JSON.stringify(events) })
  assert.equal(res.status, 200, await res.text())
}

test('the page refuses a missing or wrong token, and loads with the right one', async () => {
  const res = await fetch(spoor.url + '/admin/api/tail')
  assert.equal(res.status, 401)
  let r = await fetch(spoor.url + '/admin/', { redirect: 'manual' })
  assert.equal(r.status, 200)
  assert.match(await r.text(), /Admin token/)
  const wrong = await login(spoor, 'not-the-token')
  assert.match(await wrong.page.textContent('.error'), /not one of the admin tokens/)
  assert.equal(await wrong.page.$('#rate'), null, 'the dashboard must not load')
  assert.ok(!wrong.page.url().includes('not-the-token'), 'the token never goes in a URL')
  await wrong.ctx.close()

  const { ctx, page, errors } = await login(spoor)
  assert.ok(!page.url().includes(TOKEN))
  await page.waitForSelector('#rate')
  await waitFor('the live badge', async () => (await page.textContent('#conn')) === 'live', 5000)
  const cookies = await ctx.cookies()
  const c = cookies.find((x) => x.name === 'spoor_admin')
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/admin', JSON.stringify(cookies))
  assert.ok(!c.value.includes(TOKEN))
  // Signing out ends the session.
  await Promise.all([page.waitForNavigation(), page.click('header button[type=submit]')])
  assert.equal(await page.$('#rate'), null)
  assert.deepEqual(errors, [])
  await ctx.close()
})

test('events sent to the collector appear in the tail and in the rate within two seconds', async () => {
  const { ctx, page, errors } = await login(spoor)
  await waitFor('the live badge', async () => (await page.textContent('#conn')) === 'live', 5000)
  const app = 'dash-' + Date.now()
  await warm(spoor, page, { app: 'warm', ename: 'warm_up_1', vid: 'v3' })
  const sent = Date.now()
  await send(spoor, [1, 2, 3, 4, 5].map((i) => ({ app, ename: 'dash_click', vid: 'v' + i, url: `https://shop.example/p/${i}` })))
  await waitFor('5 rows in the tail', async () =>
    (await page.$$eval('#tail tbody tr', (rows, a) => rows.filter((r) => r.cells[1].textContent === a).length, app)) === 5, 2000)
  await waitFor('the rate', async () => Number(await page.textContent('#rate60')) >= 5, 2000)
  await waitFor('the event name in the table', async () => (await page.textContent('#by-event')).includes('dash_click'), 1000)
  assert.ok(Date.now() - sent < 3000)
  // A filter: only visitor v3.
  await page.fill('#filters input[name=visitor]', 'v3')
  await sleep(400) // the page reconnects with the filter
  await warm(spoor, page, { app: 'warm', ename: 'warm_up_2', vid: 'v3' })
  await page.$$eval('#tail tbody tr', (rows) => rows.forEach((r) => r.remove()))
  await send(spoor, [{ app, ename: 'dash_click', vid: 'v1' }, { app, ename: 'dash_click', vid: 'v3' }])
  await waitFor('the filtered row', async () => (await page.$$('#tail tbody tr')).length === 1, 2000)
  await sleep(300)
  assert.deepEqual(await page.$$eval('#tail tbody tr', (rows) => rows.map((r) => r.cells[4].textContent)), ['v3'])
  // Event data is shown as text, never as markup.
  await page.fill('#filters input[name=visitor]', '')
  await sleep(400)
  await warm(spoor, page, { app: 'warm', ename: 'warm_up_3', vid: 'v1' })
  await send(spoor, [{ app, ename: '<img src=x onerror=alert(1)>', vid: '<b>v</b>' }])
  await waitFor('the hostile row', async () => (await page.textContent('#tail')).includes('<b>v</b>'), 2000)
  assert.equal(await page.$('#tail b'), null)
  assert.deepEqual(errors, [])
  await ctx.close()
})

test('the health panel shows the spool when NATS is unreachable', async () => {
  const port = await freePort()
  const lone = new Spoor(spoorBinary(), [], { SPOOR_LINKS_ADMIN_TOKENS: TOKEN, SPOOR_NATS_URL: `nats://127.0.0.1:${port}` }, 'collector')
  await lone.start()
  try {
    const { ctx, page } = await login(lone)
    await send(lone, [{ app: 'spooled', ename: 'x', vid: 'v1' }, { app: 'spooled', ename: 'y', vid: 'v1' }])
    await send(lone, [{ app: 'spooled', ename: 'z', vid: 'v2' }])
    // A request's events are one message in the spool.
    await waitFor('the spool in the health panel', async () => (await page.textContent('#h-spool')).startsWith('2 messages'), 3000)
    const warnings = await page.textContent('#warnings')
    assert.match(warnings, /cannot reach NATS/)
    assert.match(warnings, /2 messages wait in the spool/)
    assert.match(await page.textContent('#h-received'), /^3$/)
    assert.match(await page.textContent('#h-stored'), /n\/a/)
    await ctx.close()
  } finally {
    await lone.stop()
    lone.cleanup()
  }
})

test('the health panel shows a destination that is down, and warns', async () => {
  const dead = await freePort() // nothing listens: every delivery is refused
  const dest = [{ name: 'crm', type: 'webhook', url: `http://127.0.0.1:${dead}/in`, min_backoff: '100ms', max_backoff: '200ms',
    filter: { exclude_bots: false } }]
  const s = new Spoor(spoorBinary(), [], { SPOOR_LINKS_ADMIN_TOKENS: TOKEN, SPOOR_DESTINATIONS: JSON.stringify(dest) })
  await s.start()
  try {
    const { ctx, page, errors } = await login(s)
    await send(s, [{ app: 'shop', ename: 'order', vid: 'v1' }])
    await waitFor('the destinations table', async () => !(await page.$eval('#destinations', (t) => t.hidden)), 5000)
    await waitFor('crm down', async () => (await page.textContent('#destinations')).includes('down: retrying'), 5000)
    assert.match(await page.textContent('#destinations tbody tr'), /^crm/)
    assert.match(await page.textContent('#warnings'), /Destination crm refuses whole batches/)
    assert.deepEqual(errors, [])
    await ctx.close()
  } finally {
    await s.stop()
    s.cleanup()
  }
})

test('the data quality panel shows a plan at work: violations by event and type, failed events by reason', async () => {
  const s = new Spoor(spoorBinary(), [], { SPOOR_LINKS_ADMIN_TOKENS: TOKEN })
  await s.start()
  try {
    const plan = {
      version: 'p1',
      unplanned: 'block',
      events: { 'Order Completed': { mode: 'audit', properties: { type: 'object', required: ['order_id'] } } },
    }
    const put = await fetch(s.url + '/admin/api/plans/shop', { method: 'PUT', headers: { Authorization: 'Bearer ' + TOKEN }, body: JSON.stringify(plan) })
    assert.equal(put.status, 200, await put.text())
    const { ctx, page, errors } = await login(s)
    await send(s, [{ app: 'shop', ename: 'Order Completed', vid: 'v1', props: { total: 5 } },
      { app: 'shop', ename: 'Order Completed', vid: 'v1', props: { total: 6 } },
      { app: 'shop', ename: 'Made Up', vid: 'v1' }])
    await waitFor('the violations table', async () => !(await page.$eval('#violations', (t) => t.hidden)), 5000)
    await waitFor('both violations', async () => (await page.textContent('#violations')).includes('unplanned event'), 5000)
    const rows = await page.$$eval('#violations tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 4).map((c) => c.textContent)))
    assert.deepEqual(rows, [['shop', 'Order Completed', 'missing required', '2'], ['shop', '(unplanned)', 'unplanned event', '1']])
    assert.match(await page.textContent('#plans tbody tr'), /^shopp1/)
    assert.match(await page.textContent('#failed tbody'), /plan_violation1/)
    assert.deepEqual(errors, [])
    await ctx.close()
  } finally {
    await s.stop()
    s.cleanup()
  }
})

test('the data quality panel shows today\'s browser message loss beside the agreed threshold', async () => {
  const s = new Spoor(spoorBinary(), [], { SPOOR_LINKS_ADMIN_TOKENS: TOKEN, SPOOR_QUALITY_LOSS_THRESHOLD: '0.05' })
  await s.start()
  try {
    const { ctx, page, errors } = await login(s)
    // Indexes 1, 2 and 5 of one visitor: 3 and 4 are missing, 40% of 5.
    await send(s, [{ app: 'web', ename: 'view', vid: 'v-loss', cidx: 1 }, { app: 'web', ename: 'view', vid: 'v-loss', cidx: 2 },
      { app: 'web', ename: 'view', vid: 'v-loss', cidx: 5 }])
    await waitFor('the loss table', async () => !(await page.$eval('#loss', (t) => t.hidden)), 10000)
    const row = await page.$$eval('#loss tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)))
    assert.deepEqual(row, [['web', '5', '2', '0', '0', '40.00%', '≤ 5.00%']])
    assert.equal(await page.$eval('#loss tbody tr', (tr) => tr.className), 'bad')
    assert.match(await page.textContent('#warnings'), /web lost 40\.00% of its browser messages today, above the agreed 5\.00%/)
    assert.deepEqual(errors, [])
    await ctx.close()
  } finally {
    await s.stop()
    s.cleanup()
  }
})

test('the page fits a phone: nothing wider than the screen but the tail, which scrolls in its box', async () => {
  const { ctx, page, errors } = await login(spoor)
  await page.setViewportSize({ width: 390, height: 844 })
  await warm(spoor, page, { app: 'warm', ename: 'warm_up_4', vid: 'v1' })
  await send(spoor, [{ app: 'phone', ename: 'a_rather_long_event_name_for_a_small_screen', vid: 'v-0123456789abcdef', url: 'https://shop.example/' + 'x'.repeat(120) }])
  await waitFor('the row', async () => (await page.textContent('#tail')).includes('a_rather_long_event_name'), 3000)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 391, `the page is ${width}px wide on a 390px screen`)
  assert.deepEqual(errors, [])
  await ctx.close()
})

test("the link builder's output is accepted by the collector", async () => {
  const { ctx, page, errors } = await login(spoor)
  const app = 'builder-' + Date.now()
  await page.fill('#builder input[name=ename]', 'spring_click')
  await page.fill('#builder input[name=app]', app)
  await page.fill('#builder input[name=fields]', 'utm_campaign=spring, content=hero')
  await page.fill('#builder input[name=to]', 'https://shop.example/spring')
  const track = await page.textContent('#b-track')
  assert.equal(track, `${spoor.url}/tr/v1/ename/spring_click/app/${app}/utm_campaign/spring/content/hero`)
  let r = await fetch(track)
  assert.equal(r.status, 200)
  const pixel = (await page.textContent('#b-pixel')).match(/src="([^"]+)"/)[1]
  r = await fetch(pixel)
  assert.equal(r.headers.get('content-type'), 'image/gif')
  await waitFor('the signed link', async () => (await page.textContent('#b-signed')).startsWith(spoor.url + '/rdr/v1/'), 3000)
  r = await fetch(await page.textContent('#b-signed'), { redirect: 'manual' })
  assert.equal(r.status, 302)
  assert.equal(r.headers.get('location'), 'https://shop.example/spring')
  await page.click('#b-short-make')
  await waitFor('the short link', async () => (await page.textContent('#b-short')).startsWith(spoor.url + '/l/'), 3000)
  r = await fetch(await page.textContent('#b-short'), { redirect: 'manual' })
  assert.equal(r.status, 302)
  assert.equal(r.headers.get('location'), 'https://shop.example/spring')
  await waitFor('the QR code', () => page.$eval('#b-qr', (img) => img.complete && img.naturalWidth > 0), 3000)
  // Every use above is an event of the app, with the builder's fields.
  const evs = await spoor.waitApp(app, 4)
  assert.deepEqual(evs.map((e) => e.event_name).sort(), ['spring_click', 'spring_click', 'spring_click', 'spring_click'])
  for (const e of evs) assert.equal(e.campaign, 'spring')
  assert.deepEqual(errors, [])
  await ctx.close()
})

test('a screenshot under load (SPOOR_DASHBOARD_SCREENSHOT=path)', async (t) => {
  const out = process.env.SPOOR_DASHBOARD_SCREENSHOT
  if (!out) return t.skip('set SPOOR_DASHBOARD_SCREENSHOT to write one')
  const { ctx, page } = await login(spoor)
  await page.setViewportSize({ width: 1280, height: 1000 })
  const names = ['page_view', 'page_view', 'page_view', 'click', 'add_to_cart', 'purchase']
  const stop = Date.now() + 15000
  let i = 0
  while (Date.now() < stop) {
    const n = 20 + Math.round(15 * Math.sin(i / 5))
    await send(spoor, Array.from({ length: n }, (_, k) => ({ app: 'shop', ename: names[(i + k) % names.length], vid: 'v' + ((i * 7 + k) % 40), url: `https://shop.example/p/${k}` })))
    if (i % 3 === 0) await fetch(`${spoor.url}/img/v1/ename/email_open/app/shop/vid/v${i % 40}/content/newsletter-42`)
    i++
    await sleep(250)
  }
  mkdirSync(dirname(out), { recursive: true })
  await page.screenshot({ path: out, fullPage: true })
  await ctx.close()
})
