// The tracker: builds events, queues them, delivers them in batches.
import { createForms } from './forms.js'
import { Identity } from './identity.js'
import { Queue } from './queue.js'
import { backoff, retryAfter } from './retry.js'
import { VERSION, store, uuidv7 } from './util.js'

export const defaults = {
  endpoint: '', // collector base URL, e.g. "https://t.example.com"; '' = this page's origin
  path: '/tr/v1/', // collector path; change it (and the collector's proxy) if ad blockers block it
  app: '',
  batchSize: 20, // events per request
  flushInterval: 2000, // ms an event may wait for its batch to fill
  maxBatchBytes: 60000, // per request, below the 64 KiB keepalive/beacon limit
  maxQueue: 1000, // events kept while the collector is unreachable...
  maxQueueBytes: 500000, // ...and their JSON size; the oldest go first
  sessionTimeout: 30 * 60000,
  retryBase: 1000,
  retryMax: 5 * 60000,
  autoPageViews: true, // a page view at init and at every single-page-app navigation
  clicks: true, // track clicks on elements with data-spoor-click
  forms: true, // track forms marked data-spoor-form (and those passed to trackForm): fields' names and positions, never values
  consent: true, // false: nothing stored, nothing sent until consent(true); or the consent categories, e.g. {analytics: true, ads: false}
  cookie: 'vid', // the server's first-party visitor cookie (read when scripts may; sent with credentials below)
  // Cookies on requests to the collector: 'same-origin' sends the server's HttpOnly vid cookie when the
  // collector is this site (first-party mode, /_e), 'include' also to a collector on another origin
  // listed in its http.cors_origins (never with "*"), 'omit' never.
  credentials: 'same-origin',
  prefix: 'spoor', // storage key prefix
}

const campaignKeys = ['source', 'medium', 'campaign', 'term', 'content']

// campaign reads utm_* (and ref/rcode) from a query string.
export function campaign(search) {
  const q = new URLSearchParams(search)
  const out = {}
  for (const k of campaignKeys) if (q.get('utm_' + k)) out[k] = q.get('utm_' + k)
  if (q.get('ref')) out.ref = q.get('ref')
  if (q.get('rcode')) out.rcode = q.get('rcode')
  return out
}

// dataProps turns data-spoor-* attributes (except data-spoor-click) into
// props: data-spoor-deal-id="42" gives {deal_id: "42"}.
export function dataProps(ds) {
  const p = {}
  for (const k in ds) {
    if (k.startsWith('spoor') && k !== 'spoorClick' && k.length > 5) {
      p[k.slice(5).replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase())] = ds[k]
    }
  }
  return p
}

export function createTracker(opts) {
  const o = { ...defaults, ...opts }
  const w = globalThis.window
  const doc = globalThis.document
  const now = () => Date.now()
  const st = store(o.prefix)
  const tabStore = store(o.prefix, w && w.sessionStorage)
  const id = new Identity(st, { cookie: o.cookie, timeout: o.sessionTimeout })
  const q = new Queue(st, { max: o.maxQueue, maxBytes: o.maxQueueBytes, stale: 3 * Math.max(o.flushInterval, 1000), now })
  const url = (o.endpoint || (w ? w.location.origin : '')).replace(/\/$/, '') + o.path
  // consent: tracking on or off, and the visitor's consent categories,
  // which every event carries (its "consent" field) so that destinations
  // send it only where it was granted (docs/destinations.md).
  let consented = !!o.consent
  let categories = categoriesOf(o.consent) || st.get('consent')
  let timer = null
  let flying = null // the request in flight
  const inFlight = new Set()
  let retryAt = 0
  let fails = 0
  let limit = o.batchSize // halves after a 400/413 to isolate a bad event
  let again = null // a failed batch, resent as it was: same ids, same JetStream dedup id
  let page = { pvid: '', url: '', utm: {} }
  let lastUrl = ''
  let uid = st.get('u') || ''

  function build(name, props, extra) {
    const t = now()
    const vid = id.visitor(t)
    const s = id.session(t)
    const ev = {
      eid: uuidv7(t),
      ename: name,
      created: t,
      vid,
      sid: s.id,
      cidx: id.next(vid),
      lv: VERSION,
    }
    if (s.first) ev.first = true
    if (o.app) ev.app = o.app
    if (uid) ev.uid = uid
    if (w) {
      ev.url = w.location.href
      ev.w = w.innerWidth
      ev.h = w.innerHeight
      ev.lang = w.navigator.language
    }
    try {
      ev.tz = Intl.DateTimeFormat().resolvedOptions().timeZone
    } catch {}
    if (page.pvid) ev.pvid = page.pvid
    if (categories) ev.consent = categories
    Object.assign(ev, page.utm, extra)
    if (props && Object.keys(props).length) ev.props = props
    return ev
  }

  function enqueue(name, props, extra) {
    if (!consented) return null
    const ev = build(name, props, extra)
    q.push(ev)
    if (q.length >= o.batchSize) flush()
    else schedule(o.flushInterval)
    return ev.eid
  }

  function schedule(ms) {
    if (timer || !consented) return
    timer = setTimeout(() => {
      timer = null
      flush()
    }, Math.max(ms, retryAt - now(), 0))
  }

  // flush sends every queued event, batch after batch, and resolves when the
  // queue is empty or a delivery failed (a retry is then scheduled).
  function flush() {
    if (flying) return flying
    if (!consented || !q.length) return Promise.resolve()
    if (now() < retryAt) {
      schedule(0)
      return Promise.resolve()
    }
    const batch = (again && again.filter((e) => q.items.includes(e))) || []
    if (!batch.length) batch.push(...q.take(limit, o.maxBatchBytes))
    again = null
    batch.forEach((e) => inFlight.add(e.eid))
    flying = send(batch).then((more) => {
      batch.forEach((e) => inFlight.delete(e.eid))
      flying = null
      return more && q.length ? flush() : undefined
    })
    return flying
  }

  // forgetServer asks the collector to expire its visitor cookie, which
  // scripts cannot delete (HttpOnly). Best effort: nothing is retried.
  function forgetServer() {
    if (typeof fetch !== 'function' || o.credentials === 'omit') return
    try {
      fetch(url + 'forget', { method: 'POST', keepalive: true, credentials: o.credentials }).catch(() => {})
    } catch {
      // a browser without fetch: the cookie expires on its own
    }
  }

  // send posts one batch and decides what happens to it; true means the
  // next batch may go at once.
  async function send(batch) {
    const body = JSON.stringify(batch)
    let res
    try {
      res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'text/plain' }, // a "simple" request: no CORS preflight
        keepalive: body.length < 60000,
        credentials: o.credentials,
      })
    } catch {
      return fail(batch, -1)
    }
    if (res.ok) {
      fails = 0
      limit = o.batchSize
      q.remove(batch)
      return true
    }
    if (res.status === 400 || res.status === 413) {
      // One bad event must not block the rest: halve until it is alone, then drop it.
      if (batch.length > 1) {
        limit = Math.ceil(batch.length / 2)
        return true
      }
      q.remove(batch)
      q.dropped++
      return true
    }
    return fail(batch, retryAfter(res.headers.get('Retry-After'), now()))
  }

  function fail(batch, after) {
    again = batch
    const wait = after >= 0 ? Math.min(after, o.retryMax) + backoff(0, 200, 200) : backoff(fails, o.retryBase, o.retryMax)
    fails++
    retryAt = now() + wait
    schedule(wait)
    return false
  }

  // unload hands what is still queued to sendBeacon when the page is hidden
  // or left: the browser sends it even after the page is gone, but nobody
  // learns whether it arrived. So only while the collector answers: after a
  // failure the queue stays in storage (orphaned at once when leaving) and
  // the next page of the site takes it over. Events in a fetch still in
  // flight stay queued too; a resend keeps its event ids.
  function unload(leaving) {
    if (!consented) return
    const nav = w && w.navigator
    while (nav && nav.sendBeacon && !fails) {
      const batch = q.take(o.batchSize, o.maxBatchBytes, inFlight)
      if (!batch.length || !nav.sendBeacon(url, JSON.stringify(batch))) break
      q.remove(batch)
    }
    q.save(leaving)
  }

  function pageView(props) {
    const prev = page.pvid || tabStore.get('pv') || ''
    const href = w ? w.location.href : ''
    page = { pvid: uuidv7(now()), url: href, utm: w ? campaign(w.location.search) : {} }
    tabStore.set('pv', page.pvid)
    const extra = { last: lastUrl || (doc && doc.referrer) || undefined }
    if (prev) extra.ppvid = prev
    lastUrl = href
    return enqueue('page_view', props, extra)
  }

  function spa() {
    if (!w || !o.autoPageViews) return
    const h = w.history
    const changed = () => {
      const u = w.location.href.split('#')[0]
      if (u !== page.url.split('#')[0]) pageView()
    }
    for (const m of ['pushState', 'replaceState']) {
      const orig = h[m]
      h[m] = function () {
        const r = orig.apply(this, arguments)
        changed()
        return r
      }
    }
    w.addEventListener('popstate', changed)
  }

  function clicks() {
    if (!doc || !o.clicks) return
    doc.addEventListener(
      'click',
      (e) => {
        const el = e.target && e.target.closest && e.target.closest('[data-spoor-click]')
        if (!el) return
        const p = dataProps(el.dataset)
        const text = (el.innerText || el.value || '').trim().slice(0, 100)
        if (text) p.text = text
        if (el.href) p.href = el.href
        if (el.id) p.id = el.id
        enqueue(el.dataset.spoorClick || 'click', p)
      },
      true,
    )
  }

  function start() {
    q.reclaim()
    if (q.length) schedule(0)
    if (o.autoPageViews && w && !page.pvid) pageView()
  }

  const forms = createForms(o.forms ? doc : null, (name, props) => enqueue(name, props))

  const api = {
    version: VERSION,
    // track records one event; props keep their JSON types. Returns the event id.
    track: (name, props) => enqueue(String(name), props),
    // page records a page view (called automatically unless autoPageViews is false).
    page: (props) => pageView(props),
    // identify attaches a user id to this and every later event; null forgets it.
    identify(u, traits) {
      uid = u == null ? '' : String(u)
      if (!consented) return null
      uid ? st.set('u', uid) : st.del('u')
      return enqueue('identify', traits)
    },
    flush,
    // trackForm tracks a form (an element or a selector) under a name, as
    // data-spoor-form="name" does: focus, change and blur per field (name
    // and position, never the value), submit, and abandonment on leaving.
    trackForm: (form, name) => forms.track(form, name),
    // consent(false) stops tracking and erases the queue and every stored id;
    // consent(true) starts (or resumes) it; consent({analytics: true, ads:
    // false}) starts it with these categories, which every later event
    // carries (and which are kept for the next visit).
    consent(on) {
      if (!on) {
        consented = false
        categories = null
        clearTimeout(timer)
        timer = null
        q.clear()
        id.forget()
        tabStore.del('pv')
        st.del('consent')
        forgetServer()
        return
      }
      const c = categoriesOf(on)
      if (c) {
        categories = c
        st.set('consent', c)
      }
      if (consented) return
      consented = true
      start()
    },
    // queued is the number of events not yet acknowledged.
    queued: () => q.length,
  }

  if (w) {
    w.addEventListener('pagehide', () => {
      forms.hidden()
      unload(true)
    })
    w.addEventListener('pageshow', (e) => e.persisted && q.save())
    doc.addEventListener('visibilitychange', () => {
      if (doc.visibilityState !== 'hidden') return
      forms.hidden()
      unload(false)
    })
    w.addEventListener('online', () => {
      retryAt = 0
      flush()
    })
    // Heartbeat: keep this page's queue claimed, take over those of pages gone.
    setInterval(() => {
      if (!consented) return
      if (q.length) q.save()
      if (q.reclaim()) schedule(0)
    }, Math.max(o.flushInterval, 1000))
  }
  spa()
  clicks()
  if (consented) start()
  return api
}

// categoriesOf is consent's categories when it is an object of booleans
// ({analytics: true, ads: false}), else null.
export function categoriesOf(c) {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return null
  const out = {}
  for (const [k, v] of Object.entries(c)) if (typeof v === 'boolean') out[k] = v
  return Object.keys(out).length ? out : null
}
