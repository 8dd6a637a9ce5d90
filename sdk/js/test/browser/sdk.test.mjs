// The SDK in headless Chromium against the real spoor pipeline.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Spoor, browser, faultProxy, open, pageServer, queued, sleep, spoorBinary, waitFor } from './harness.mjs'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
let spoor, pages, b

before(async () => {
  pages = await pageServer()
  spoor = new Spoor(spoorBinary(), [pages.url])
  await spoor.start()
  b = await browser()
})

after(async () => {
  await b?.close()
  await spoor?.stop()
  pages?.close()
  spoor?.cleanup()
})

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

// cidxRun asserts that the events carry the message indexes from..to, each once.
function cidxRun(evs, from, to) {
  assert.deepEqual(
    evs.map((e) => e.client_index),
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
  )
  assert.equal(new Set(evs.map((e) => e.event_id)).size, evs.length, 'an event stored twice')
}

test('page views, custom events, identify and clicks arrive with every identity field', async () => {
  const app = 'identity'
  const { ctx, page } = await open(
    b,
    pages.url + '/app/deal?utm_source=news&utm_medium=email&utm_campaign=Spring%20Sale&utm_term=shoes&utm_content=hero',
    { endpoint: spoor.url, app, flushInterval: 100 },
    { referer: 'https://search.example/?q=deals' },
  )
  await page.evaluate(() => {
    spoor.track('add_to_cart', { sku: 'A1', qty: 2, price: 9.99, gift: false, note: 'Grüße' })
    spoor.identify('user-7', { plan: 'pro' })
  })
  await page.click('#buy')
  await page.evaluate(() => spoor.flush())
  let evs = await spoor.waitApp(app, 4)
  assert.deepEqual(
    evs.map((e) => e.event_name),
    ['page_view', 'add_to_cart', 'identify', 'buy'],
  )
  const [pv, cart, ident, buy] = evs
  cidxRun(evs, 1, 4)
  for (const e of evs) {
    assert.match(e.event_id, uuid)
    assert.ok(e.visitor_id && e.visitor_id === pv.visitor_id, 'one visitor')
    assert.ok(e.session_id && e.session_id === pv.session_id, 'one session')
    assert.equal(e.page_view_id, pv.page_view_id, 'one page view')
    assert.equal(e.library_version, version)
    assert.equal(e.source, 'news')
    assert.equal(e.medium, 'email')
    assert.equal(e.campaign, 'Spring Sale')
    assert.equal(e.term, 'shoes')
    assert.equal(e.content, 'hero')
    assert.ok(e.url.startsWith(pages.url + '/app/deal?'))
    assert.ok(e.width > 0 && e.height > 0 && e.language && e.timezone)
    assert.ok(Math.abs(Date.parse(e.client_time) - Date.now()) < 60000, e.client_time)
  }
  assert.equal(pv.first, true, 'first event of the session')
  assert.equal(cart.first, undefined)
  assert.equal(pv.referrer, 'https://search.example/?q=deals')
  assert.equal(pv.parent_page_view_id, undefined)
  assert.deepEqual(cart.props, { sku: 'A1', qty: 2, price: 9.99, gift: false, note: 'Grüße' })
  assert.equal(cart.user_id, undefined)
  assert.equal(ident.user_id, 'user-7')
  assert.deepEqual(ident.props, { plan: 'pro' })
  assert.equal(buy.user_id, 'user-7')
  assert.deepEqual(buy.props, { deal_id: '42', text: 'Buy now', id: 'buy' })

  // A real navigation: a new page view whose parent is the first one.
  await page.click('#next')
  await page.waitForURL('**/app/next')
  // A single-page-app navigation: pushState makes a page view too.
  await waitFor('SDK on the next page', () => page.evaluate(() => !!window.spoor?.track))
  await page.evaluate(() => history.pushState({}, '', '/app/spa-view'))
  await page.evaluate(() => spoor.flush())
  evs = await spoor.waitApp(app, 6)
  cidxRun(evs, 1, 6)
  const [next, spa] = evs.slice(4)
  assert.equal(next.event_name, 'page_view')
  assert.equal(next.parent_page_view_id, pv.page_view_id)
  assert.equal(next.referrer, pv.url)
  assert.equal(next.session_id, pv.session_id)
  assert.equal(next.user_id, 'user-7', 'identity kept across pages')
  assert.equal(spa.event_name, 'page_view')
  assert.equal(spa.url, pages.url + '/app/spa-view')
  assert.equal(spa.parent_page_view_id, next.page_view_id)
  assert.equal(spa.referrer, pages.url + '/app/next')
  assert.notEqual(spa.page_view_id, next.page_view_id)
  await ctx.close()
})

test("the server's first-party vid cookie is the visitor id", async () => {
  const app = 'cookie'
  const { ctx, page } = await open(
    b,
    pages.url + '/app/home',
    { endpoint: spoor.url, app, flushInterval: 100 },
    { cookies: [{ name: 'vid', value: 'srv-visitor-1', url: pages.url }] },
  )
  await page.evaluate(() => spoor.flush())
  const [pv] = await spoor.waitApp(app, 1)
  assert.equal(pv.visitor_id, 'srv-visitor-1')
  await ctx.close()
})

test('a new session starts after 30 minutes of inactivity (fake clock)', async () => {
  const app = 'sessions'
  const t0 = new Date('2026-11-22T10:00:00Z')
  const { ctx, page } = await open(b, pages.url + '/app/home', { endpoint: spoor.url, app }, { clock: t0 })
  await page.evaluate(() => spoor.track('a'))
  await page.clock.fastForward('29:00')
  await page.evaluate(() => spoor.track('b'))
  await page.clock.fastForward('30:01')
  await page.evaluate(() => spoor.track('c'))
  await page.evaluate(() => spoor.flush())
  const [pv, a, bb, c] = await spoor.waitApp(app, 4)
  assert.deepEqual([pv, a, bb, c].map((e) => e.event_name), ['page_view', 'a', 'b', 'c'])
  assert.equal(a.session_id, pv.session_id)
  assert.equal(bb.session_id, pv.session_id, '29 minutes apart: same session')
  assert.notEqual(c.session_id, bb.session_id, '30 minutes and a second apart: new session')
  assert.equal(c.first, true)
  assert.equal(bb.first, undefined)
  // The fake clock starts at t0 and then runs on by itself too.
  const at = (e) => Date.parse(e.client_time) - t0.getTime()
  assert.ok(at(pv) >= 0 && at(pv) < 5000, `page view at t0 + ${at(pv)} ms`)
  assert.ok(at(c) - at(pv) >= 59 * 60000 + 1000 && at(c) - at(pv) < 59 * 60000 + 6000, `c at t0 + ${at(c)} ms`)
  assert.equal(c.visitor_id, pv.visitor_id)
  await ctx.close()
})

test('collector down: events wait in localStorage, across a navigation, then all arrive once, cidx without gaps', async () => {
  const app = 'outage'
  const { ctx, page } = await open(b, pages.url + '/app/home', {
    endpoint: spoor.url,
    app,
    flushInterval: 100,
    retryBase: 200,
    retryMax: 1000,
  })
  await page.evaluate(() => spoor.flush())
  await spoor.waitApp(app, 1)
  await spoor.stop()
  try {
    await page.evaluate(() => {
      for (let i = 0; i < 25; i++) spoor.track('while_down', { i })
      return spoor.flush()
    })
    await waitFor('25 queued events', async () => (await queued(page)).events.length === 25)
    // Leave the page while the collector is down: no beacon (it would be
    // lost), the queue is left for the next page, which takes it over.
    await page.click('#next')
    await page.waitForURL('**/app/next')
    await waitFor('26 queued events', async () => (await queued(page)).events.length === 26)
    const q = await queued(page)
    assert.equal(new Set(q.events.map((e) => e.eid)).size, 26)
    await sleep(1500) // several failed retries
  } finally {
    await spoor.start()
  }
  const evs = await spoor.waitApp(app, 27)
  cidxRun(evs, 1, 27)
  assert.equal(evs.filter((e) => e.event_name === 'while_down').length, 25)
  await waitFor('an empty queue', async () => (await queued(page)).events.length === 0)
  await sleep(1000)
  assert.equal(spoor.events().filter((e) => e.app === app).length, 27, 'nothing sent twice')
  await ctx.close()
})

for (const status of [503, 429]) {
  test(`${status} with Retry-After is honoured`, async () => {
    const app = 'retry-after-' + status
    const proxy = await faultProxy(spoor.url)
    const { ctx, page } = await open(b, pages.url + '/app/home', {
      endpoint: proxy.url,
      app,
      flushInterval: 100,
      retryBase: 50,
    })
    await spoor.waitApp(app, 1) // the page view went through
    proxy.fail(status, { 'Retry-After': '2' })
    await page.evaluate(() => spoor.track('x'))
    const evs = await spoor.waitApp(app, 2)
    cidxRun(evs, 1, 2)
    const posts = proxy.log.filter((r) => r.method === 'POST')
    assert.deepEqual(posts.map((r) => r.status), [200, status, 200])
    const gap = posts[2].t - posts[1].t
    assert.ok(gap >= 2000 && gap < 4000, `retried after ${gap} ms, want 2 s (Retry-After)`)
    assert.equal(posts[2].body, posts[1].body, 'the retry resends the same batch')
    proxy.close()
    await ctx.close()
  })
}

test('one invalid event does not hold up its batch: the rest arrives, it is kept aside as failed', async () => {
  const app = 'isolate'
  const { ctx, page } = await open(b, pages.url + '/app/home', { endpoint: spoor.url, app, flushInterval: 100 })
  await page.evaluate(() => {
    spoor.track('ok1')
    // Nested deeper than the collector takes: in a batch it is kept as a failed
    // event and the others are stored (a lone one would be a 400, which the SDK
    // isolates by halving the batch and drops).
    spoor.track('bad', { x: [[[[[[[[[[1]]]]]]]]]] })
    spoor.track('ok2')
    spoor.track('ok3')
    return spoor.flush()
  })
  const evs = await spoor.waitApp(app, 4)
  assert.deepEqual(evs.map((e) => e.event_name), ['page_view', 'ok1', 'ok2', 'ok3'])
  assert.deepEqual(evs.map((e) => e.client_index), [1, 2, 4, 5], 'the gap at 3 is the dropped event')
  await waitFor('an empty queue', async () => (await queued(page)).events.length === 0)
  await ctx.close()
})

test('leaving the page sends the last events by beacon', async () => {
  const app = 'beacon'
  const proxy = await faultProxy(spoor.url)
  const { ctx, page } = await open(b, pages.url + '/app/home', {
    endpoint: proxy.url,
    app,
    flushInterval: 60000, // nothing leaves by timer
  })
  await page.evaluate(() => {
    spoor.track('last1')
    spoor.track('last2', { n: 2 })
  })
  await page.goto(pages.url + '/plain.html')
  const evs = await spoor.waitApp(app, 3)
  assert.deepEqual(evs.map((e) => e.event_name), ['page_view', 'last1', 'last2'])
  cidxRun(evs, 1, 3)
  const posts = proxy.log.filter((r) => r.method === 'POST')
  assert.equal(posts.length, 1)
  assert.equal(posts[0].headers['sec-fetch-mode'], 'no-cors', 'a beacon, not a fetch')
  assert.equal((await queued(page)).events.length, 0, 'handed over, not kept')
  proxy.close()
  await ctx.close()
})

test('the queue cap holds under a flood; the newest events are kept and arrive', async () => {
  const app = 'flood'
  const { ctx, page } = await open(b, pages.url + '/app/home', {
    endpoint: spoor.url,
    app,
    flushInterval: 100,
    retryBase: 200,
    retryMax: 1000,
    maxQueue: 300,
    maxQueueBytes: 200000,
  })
  await spoor.waitApp(app, 1)
  await spoor.stop()
  try {
    const ms = await page.evaluate(() => {
      const t = performance.now()
      for (let i = 0; i < 5000; i++) spoor.track('flood', { i, pad: 'x'.repeat(200) })
      return performance.now() - t
    })
    console.log(`5000 track() calls: ${ms.toFixed(0)} ms`)
    await sleep(300)
    const q = await queued(page)
    assert.ok(q.events.length <= 300 && q.events.length > 200, `${q.events.length} queued`)
    assert.ok(q.bytes <= 200000, `${q.bytes} bytes queued`)
    assert.equal(q.events.at(-1).cidx, 5001, 'the newest is kept')
  } finally {
    await spoor.start()
  }
  await waitFor('an empty queue', async () => (await queued(page)).events.length === 0)
  const evs = (await spoor.waitApp(app, 2)).filter((e) => e.event_name === 'flood')
  const kept = evs.length
  assert.ok(kept > 200 && kept <= 300, `${kept} delivered`)
  cidxRun(evs, 5001 - kept + 1, 5001)
  await ctx.close()
})

test('without consent nothing is stored or sent; consent(false) erases', async () => {
  const app = 'consent'
  const proxy = await faultProxy(spoor.url)
  const { ctx, page } = await open(b, pages.url + '/app/home', {
    endpoint: proxy.url,
    app,
    flushInterval: 100,
    consent: false,
  })
  await page.evaluate(() => {
    spoor.track('ignored')
    return spoor.flush()
  })
  await sleep(300)
  const keys = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('spoor.')))
  assert.deepEqual(await keys(), [])
  assert.equal(proxy.log.length, 0)
  await page.evaluate(() => spoor.consent(true))
  await page.evaluate(() => spoor.track('after'))
  const evs = await spoor.waitApp(app, 2)
  assert.deepEqual(evs.map((e) => e.event_name), ['page_view', 'after'])
  assert.ok((await keys()).includes('spoor.vid'))
  await page.evaluate(() => spoor.consent(false))
  assert.deepEqual(await keys(), [])
  proxy.close()
  await ctx.close()
})

test('the collector serves the script build, which works from a plain <script> tag', async () => {
  const app = 'script-tag'
  const ctx = await b.newContext()
  const page = await ctx.newPage()
  await page.goto(pages.url + '/plain.html')
  await page.evaluate(
    ({ src, app }) =>
      new Promise((resolve, reject) => {
        const s = document.createElement('script')
        s.src = src
        s.dataset.app = app
        s.onload = resolve
        s.onerror = reject
        document.head.append(s)
      }),
    { src: spoor.url + '/sdk/spoor.js', app },
  )
  await page.evaluate(() => {
    window.spoor.track('from_script_tag')
    return window.spoor.flush()
  })
  const evs = await spoor.waitApp(app, 2)
  assert.deepEqual(evs.map((e) => e.event_name), ['page_view', 'from_script_tag'])
  await ctx.close()
})

// The form events of a stored list, as [name, field, pos].
const formEvents = (evs) => evs.filter((e) => e.event_name.startsWith('form_')).map((e) => [e.event_name, e.props.field, e.props.pos])

test('form tracking: each field by name and position, abandonment on leaving, and no typed value ever leaves the page', async () => {
  const app = 'forms'
  const proxy = await faultProxy(spoor.url)
  const { ctx, page } = await open(b, pages.url + '/app/checkout', { endpoint: proxy.url, app, flushInterval: 100 })
  const secrets = ['jane.secret@example.com', 'Jane Q. Secret', '4111111111111111', 'hidden-t0ken']
  await page.click('#email')
  await page.keyboard.type(secrets[0])
  await page.keyboard.press('Tab') // to the name: email changed, left
  await page.keyboard.type(secrets[1])
  await page.focus('#country')
  await page.selectOption('#country', 'FR')
  await page.click('#card')
  await page.keyboard.type(secrets[2])
  await page.evaluate(() => spoor.flush())
  await page.goto(pages.url + '/plain.html') // leaves with the form started, not submitted
  const evs = await spoor.waitApp(app, 12)
  const got = formEvents(evs)
  assert.deepEqual(got.slice(0, 10), [
    ['form_focus', 'email', 1], ['form_change', 'email', 1], ['form_blur', 'email', 1],
    ['form_focus', 'name', 2], ['form_change', 'name', 2], ['form_blur', 'name', 2],
    ['form_focus', 'country', 3], ['form_change', 'country', 3], ['form_blur', 'country', 3],
    ['form_focus', 'card', 4],
  ])
  assert.deepEqual(got.filter(([n]) => n === 'form_abandon'), [['form_abandon', 'card', 4]], 'abandoned once, at the last field')
  for (const e of evs.filter((e) => e.event_name.startsWith('form_'))) {
    assert.equal(e.props.form, 'checkout')
    assert.deepEqual(Object.keys(e.props).sort(), ['field', 'form', 'pos'], 'a name and a position, nothing else')
  }
  // Nothing typed left the page: not in any request, not in what was stored.
  const sent = proxy.log.map((r) => r.url + ' ' + r.body).join('\n') + JSON.stringify(spoor.events())
  for (const s of secrets) assert.ok(!sent.includes(s), `${s} left the page`)
  assert.ok(proxy.log.length > 0)
  proxy.close()
  await ctx.close()
})

test('a submitted form is not abandoned; trackForm tracks a form without the attribute', async () => {
  const app = 'forms-submit'
  const { ctx, page } = await open(b, pages.url + '/app/checkout', { endpoint: spoor.url, app, flushInterval: 100 })
  await page.evaluate(() => spoor.trackForm('#other', 'newsletter'))
  await page.click('#email')
  await page.keyboard.type('a@b.example')
  await page.click('#pay')
  await page.click('#nl')
  await page.evaluate(() => spoor.flush())
  await page.goto(pages.url + '/plain.html') // the newsletter form was started: abandoned; checkout was submitted
  const evs = await spoor.waitApp(app, 7)
  const got = evs.filter((e) => e.event_name.startsWith('form_')).map((e) => [e.event_name, e.props.form, e.props.field])
  assert.deepEqual(got.filter(([n]) => n === 'form_submit'), [['form_submit', 'checkout', undefined]])
  assert.deepEqual(got.filter(([n]) => n === 'form_abandon'), [['form_abandon', 'newsletter', 'newsletter_email']])
  assert.ok(got.some(([n, f, fld]) => n === 'form_focus' && f === 'newsletter' && fld === 'newsletter_email'))
  await ctx.close()
})
