import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { backoff, retryAfter } from '../../src/retry.js'
import { Queue, upgrade, FORMAT } from '../../src/queue.js'
import { Identity } from '../../src/identity.js'
import { campaign, dataProps } from '../../src/tracker.js'
import { store, uuidv7 } from '../../src/util.js'
import { MemStorage } from './memstore.mjs'

test('retryAfter reads seconds and HTTP dates', () => {
  const now = Date.parse('2026-11-22T10:00:00Z')
  const cases = [
    ['3', 3000],
    [' 120 ', 120000],
    ['Sun, 22 Nov 2026 10:00:05 GMT', 5000],
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0],
    ['soon', -1],
    [null, -1],
    ['', -1],
  ]
  for (const [h, want] of cases) assert.equal(retryAfter(h, now), want, String(h))
})

test('backoff grows exponentially, stays within [d/2, d] and the cap', () => {
  for (let n = 0; n < 40; n++) {
    const d = Math.min(60000, 1000 * 2 ** n)
    assert.equal(backoff(n, 1000, 60000, 0), d / 2)
    assert.equal(backoff(n, 1000, 60000, 1), d)
    const r = backoff(n, 1000, 60000)
    assert.ok(r >= d / 2 && r <= d, `${n}: ${r}`)
  }
})

test('uuidv7 carries the time and the version bits', () => {
  const t = Date.parse('2026-11-22T10:00:00.123Z')
  const a = uuidv7(t)
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(parseInt(a.replace(/-/g, '').slice(0, 12), 16), t)
  assert.notEqual(uuidv7(t), a)
  assert.ok(uuidv7(t + 1) > a)
})

const ev = (i, pad = '') => ({ eid: 'e' + i, cidx: i, ename: 'x' + pad })

test('queue drops the oldest over its event and byte caps', () => {
  const s = store('t', new MemStorage())
  const q = new Queue(s, { max: 5, maxBytes: 1e6, stale: 1000, now: () => 0 })
  for (let i = 1; i <= 12; i++) q.push(ev(i))
  assert.deepEqual(q.items.map((e) => e.cidx), [8, 9, 10, 11, 12])
  assert.equal(q.dropped, 7)
  const b = new Queue(s, { max: 100, maxBytes: 1000, stale: 1000, now: () => 0 })
  for (let i = 1; i <= 50; i++) b.push(ev(i, 'y'.repeat(50)))
  assert.ok(b.bytes <= 1000, `${b.bytes}`)
  assert.equal(b.bytes, b.items.reduce((n, e) => n + JSON.stringify(e).length, 0))
  assert.equal(b.items.at(-1).cidx, 50)
})

test('queue take respects count, bytes and in-flight ids; remove persists', async () => {
  const ls = new MemStorage()
  const s = store('t', ls)
  const q = new Queue(s, { max: 100, maxBytes: 1e6, stale: 1000, now: () => 7 })
  for (let i = 1; i <= 10; i++) q.push(ev(i, 'z'.repeat(20)))
  assert.equal(q.take(3, 1e6).length, 3)
  assert.equal(q.take(100, 120).length, 2) // 2 + 2 × 55 bytes
  assert.equal(q.take(1, 10).length, 1, 'one event always fits')
  assert.deepEqual(q.take(2, 1e6, new Set(['e1', 'e2'])).map((e) => e.eid), ['e3', 'e4'])
  await Promise.resolve()
  assert.equal(JSON.parse(ls.getItem('t.' + q.key)).q.length, 10, 'saved after the burst')
  q.remove(q.take(4, 1e6))
  const saved = JSON.parse(ls.getItem('t.' + q.key))
  assert.equal(saved.v, FORMAT)
  assert.equal(saved.ts, 7)
  assert.deepEqual(saved.q.map((e) => e.cidx), [5, 6, 7, 8, 9, 10])
  assert.equal(q.bytes, q.items.reduce((n, e) => n + JSON.stringify(e).length, 0))
})

test('a page takes over stale and orphaned queues, migrates old formats, leaves live ones', () => {
  const ls = new MemStorage()
  let now = 100000
  ls.setItem('t.q.live', JSON.stringify({ v: 2, ts: now - 500, q: [ev(1)] }))
  ls.setItem('t.q.stale', JSON.stringify({ v: 2, ts: now - 5000, q: [ev(3), ev(2)] }))
  ls.setItem('t.q.orphan', JSON.stringify({ v: 2, ts: 0, q: [ev(4)] }))
  ls.setItem('t.q.v1', JSON.stringify({ v: 1, events: [ev(5), ev(2)] }))
  ls.setItem('t.q.junk', '{not json')
  ls.setItem('t.q.future', JSON.stringify({ v: 99, q: [ev(6)] }))
  const q = new Queue(store('t', ls), { max: 100, maxBytes: 1e6, stale: 1000, now: () => now })
  assert.equal(q.reclaim(), 4)
  assert.deepEqual(q.items.map((e) => e.cidx), [2, 3, 4, 5], 'merged, in cidx order, no duplicate eid')
  const left = [...ls.m.keys()].sort()
  assert.deepEqual(left, ['t.q.live', 't.' + q.key].sort())
})

test('upgrade', () => {
  assert.deepEqual(upgrade({ v: 1, events: [ev(1)] }), { v: 2, ts: 0, q: [ev(1)] })
  assert.equal(upgrade({ v: 1 }).q.length, 0)
  assert.equal(upgrade(null), null)
  assert.equal(upgrade([ev(1)]), null)
  assert.equal(upgrade({ v: 3, q: [] }), null)
})

test('sessions renew after the inactivity timeout; cidx counts per visitor', () => {
  const s = store('t', new MemStorage())
  const id = new Identity(s, { cookie: '', timeout: 30 * 60000 })
  const t0 = Date.parse('2026-11-22T10:00:00Z')
  const a = id.session(t0)
  assert.ok(a.first)
  const b = id.session(t0 + 29 * 60000)
  assert.equal(b.id, a.id)
  assert.ok(!b.first)
  const c = id.session(t0 + 58 * 60000)
  assert.equal(c.id, a.id, 'activity at 29 min keeps it alive')
  const d = id.session(t0 + 88 * 60000 + 1)
  assert.notEqual(d.id, a.id)
  assert.ok(d.first)
  const v = id.visitor(t0)
  assert.equal(id.visitor(t0 + 1), v, 'kept')
  assert.deepEqual([id.next(v), id.next(v), id.next(v)], [1, 2, 3])
  assert.equal(id.next('other'), 1, 'a new visitor id starts again')
  id.forget()
  assert.notEqual(id.visitor(t0), v)
})

test('campaign parameters and data attributes', () => {
  assert.deepEqual(campaign('?utm_source=news&utm_medium=email&utm_campaign=Spring%20Sale&x=1&ref=v9'), {
    source: 'news',
    medium: 'email',
    campaign: 'Spring Sale',
    ref: 'v9',
  })
  assert.deepEqual(campaign(''), {})
  assert.deepEqual(dataProps({ spoorClick: 'buy', spoorDealId: '42', spoorX: 'y', other: 'no', spoor: '' }), {
    deal_id: '42',
    x: 'y',
  })
})

test('the script build stays within 5 KB gzipped', () => {
  for (const f of ['dist/spoor.js', 'dist/spoor.mjs']) {
    const n = gzipSync(readFileSync(new URL('../../' + f, import.meta.url)), { level: 9 }).length
    assert.ok(n <= 5120, `${f}: ${n} bytes gzipped`)
  }
})

test("requests carry the site's cookies only as configured, and consent(false) asks the server to forget its cookie", async () => {
  const calls = []
  const realFetch = globalThis.fetch
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init })
    return { ok: true, status: 200, headers: { get: () => null } }
  }
  try {
    const { createTracker } = await import('../../src/tracker.js')
    const t = createTracker({ endpoint: 'https://shop.example/_e', path: '/tr/v1/', app: 'x', autoPageViews: false, clicks: false, forms: false })
    t.track('a')
    await t.flush()
    assert.equal(calls.length, 1)
    assert.equal(calls[0].url, 'https://shop.example/_e/tr/v1/')
    assert.equal(calls[0].init.credentials, 'same-origin')
    t.consent(false)
    assert.equal(calls.length, 2)
    assert.equal(calls[1].url, 'https://shop.example/_e/tr/v1/forget')
    assert.equal(calls[1].init.method, 'POST')
    const off = createTracker({ endpoint: 'https://t.example', app: 'y', credentials: 'omit', autoPageViews: false, clicks: false, forms: false, prefix: 'other' })
    off.track('b')
    await off.flush()
    assert.equal(calls[2].init.credentials, 'omit')
    off.consent(false)
    assert.equal(calls.length, 3, 'omit: no cookie to forget')
  } finally {
    globalThis.fetch = realFetch
  }
})

test('consent categories ride on every event until consent(false), and survive the next visit', async () => {
  const bodies = []
  const realFetch = globalThis.fetch
  const realStorage = globalThis.localStorage
  globalThis.localStorage = new MemStorage() // the next page reads what this one stored
  globalThis.fetch = async (url, init) => {
    if (init.body) bodies.push(...JSON.parse(init.body))
    return { ok: true, status: 200, headers: { get: () => null } }
  }
  try {
    const { createTracker, categoriesOf } = await import('../../src/tracker.js')
    assert.equal(categoriesOf(true), null)
    assert.deepEqual(categoriesOf({ analytics: true, ads: false, junk: 'yes' }), { analytics: true, ads: false })
    const opts = { endpoint: 'https://t.example', app: 'c', autoPageViews: false, clicks: false, forms: false, prefix: 'cats', credentials: 'omit' }
    const t = createTracker({ ...opts, consent: false })
    t.track('before')
    t.consent({ analytics: true, ads: false })
    t.track('granted')
    await t.flush()
    assert.deepEqual(bodies.map((e) => [e.ename, e.consent]), [['granted', { analytics: true, ads: false }]])
    const next = createTracker(opts) // the next page: the categories were kept
    next.track('next_page')
    await next.flush()
    assert.deepEqual(bodies[1].consent, { analytics: true, ads: false })
    next.consent(false)
    next.consent(true)
    next.track('after_withdrawal')
    await next.flush()
    assert.equal(bodies[2].ename, 'after_withdrawal')
    assert.equal(bodies[2].consent, undefined)
  } finally {
    globalThis.fetch = realFetch
    globalThis.localStorage = realStorage
  }
})
