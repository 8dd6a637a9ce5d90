// spoor's dashboard: one server-sent-events stream (/admin/api/tail) gives
// the events, each second's rates and the pipeline's counters. No library;
// event data is only ever set as text, never as HTML.
'use strict'

const $ = (id) => document.getElementById(id)
const WINDOW = 60 // seconds of rates kept
const TAIL_ROWS = 200

const rates = [] // the last WINDOW seconds: {total, by_event, by_endpoint}
const lagHistory = []
let source = null
let paused = false
let reconnectTimer = null

function filters () {
  const q = new URLSearchParams()
  for (const el of $('filters').elements) {
    if (el.name && el.value.trim()) q.set(el.name, el.value.trim())
  }
  return q
}

function connect () {
  if (source) source.close()
  const q = filters()
  q.set('rates', '1')
  q.set('health', '1')
  q.set('max', '50')
  source = new EventSource('/admin/api/tail?' + q.toString())
  source.onopen = () => setConn('waiting for the stream…', '')
  source.addEventListener('ready', () => setConn('live', 'live'))
  source.onerror = () => setConn('reconnecting…', 'down')
  source.addEventListener('event', (m) => { if (!paused) addRow(JSON.parse(m.data)) })
  source.addEventListener('rate', (m) => addRate(JSON.parse(m.data)))
  source.addEventListener('health', (m) => showHealth(JSON.parse(m.data)))
}

function setConn (text, cls) {
  const b = $('conn')
  b.textContent = text
  b.className = 'badge ' + cls
}

function cell (tr, text) {
  const td = document.createElement('td')
  td.textContent = text == null ? '' : String(text)
  tr.appendChild(td)
}

function details (e) {
  const parts = []
  if (e.user_id) parts.push('uid=' + e.user_id)
  if (e.bot) parts.push('bot' + (e.bot_family ? '=' + e.bot_family : ''))
  if (e.url) parts.push(e.url)
  if (e.props) for (const [k, v] of Object.entries(e.props)) parts.push(k + '=' + JSON.stringify(v))
  return parts.join(' ')
}

function addRow (e) {
  const tr = document.createElement('tr')
  const t = new Date(e.received_at)
  cell(tr, t.toLocaleTimeString([], { hour12: false }) + '.' + String(t.getMilliseconds()).padStart(3, '0'))
  cell(tr, e.app || '–')
  cell(tr, e.endpoint)
  cell(tr, e.event_name || '–')
  cell(tr, e.visitor_id || '–')
  cell(tr, details(e))
  const body = $('tail').tBodies[0]
  body.insertBefore(tr, body.firstChild)
  while (body.rows.length > TAIL_ROWS) body.deleteRow(-1)
}

function addRate (r) {
  rates.push(r)
  while (rates.length > WINDOW) rates.shift()
  $('rate').textContent = r.total
  $('rate60').textContent = rates.reduce((s, x) => s + x.total, 0)
  const max = Math.max(1, ...rates.map((x) => x.total))
  const pts = rates.map((x, i) => `${(i + WINDOW - rates.length) * (300 / (WINDOW - 1))},${60 - (x.total / max) * 56}`)
  $('spark').querySelector('polyline').setAttribute('points', pts.join(' '))
  table('by-event', 'by_event', r)
  table('by-endpoint', 'by_endpoint', r)
}

function table (id, key, now) {
  const sum = {}
  for (const x of rates) for (const [k, v] of Object.entries(x[key] || {})) sum[k] = (sum[k] || 0) + v
  const rows = Object.entries(sum).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 12)
  const body = $(id).tBodies[0]
  body.replaceChildren()
  for (const [k, v] of rows) {
    const tr = document.createElement('tr')
    cell(tr, k || '(none)')
    cell(tr, (now[key] || {})[k] || 0)
    cell(tr, v)
    body.appendChild(tr)
  }
}

const fmt = (n) => (n == null ? 'n/a' : Number(n).toLocaleString())
const count = (n, one, many) => fmt(n) + ' ' + (n === 1 ? one : many)

function showHealth (h) {
  $('h-received').textContent = fmt(h.received)
  $('h-acked').textContent = fmt(h.acked)
  $('h-published').textContent = fmt(h.published)
  $('h-spool').textContent = count(h.spool_records, 'message', 'messages') + (h.spool_records ? ` (${fmt(h.spool_bytes)} bytes)` : '')
  $('h-stored').textContent = h.stored == null ? 'n/a: the sink runs elsewhere' : fmt(h.stored)
  $('h-dead').textContent = fmt(h.dead_lettered)
  $('h-lag').textContent = h.lag == null ? 'unknown' : count(h.lag, 'message', 'messages')
  $('h-lost').textContent = fmt(h.lost)
  if (h.lag != null) {
    lagHistory.push(h.lag)
    while (lagHistory.length > 10) lagHistory.shift()
  }
  const warn = []
  if (!h.nats_connected) warn.push(['bad', 'The collector cannot reach NATS: events are answered from the local spool and replayed when NATS is back.'])
  if (h.spool_records > 0) warn.push(['', `${count(h.spool_records, 'message waits', 'messages wait')} in the spool (${fmt(h.spool_bytes)} bytes).`])
  if (h.store_down) warn.push(['bad', 'The store refuses writes: the sink holds its batch and retries until the store is back.'])
  const growing = lagHistory.length >= 5 && lagHistory[lagHistory.length - 1] > lagHistory[0] && lagHistory[lagHistory.length - 1] > 1000
  if (growing) warn.push(['', `The store is falling behind: ${fmt(h.lag)} messages not stored yet, and growing.`])
  showDestinations(h.destinations || [], warn)
  showQuality(h.quality || {}, warn)
  $('missed').textContent = h.live_dropped ? `${fmt(h.live_dropped)} not shown so far.` : ''
  const box = $('warnings')
  box.replaceChildren(...warn.map(([cls, text]) => { const p = document.createElement('p'); p.className = cls; p.textContent = text; return p }))
}

// showDestinations fills the destinations table (docs/destinations.md),
// and warns about a destination that is down or dead-letters.
function showDestinations (ds, warn) {
  const table = $('destinations')
  table.hidden = ds.length === 0
  const body = table.tBodies[0]
  body.replaceChildren()
  for (const d of ds) {
    const tr = document.createElement('tr')
    const left = Object.entries(d.skipped || {}).filter(([, n]) => n > 0).map(([why, n]) => `${fmt(n)} ${why}`).join(', ')
    cell(tr, d.name)
    cell(tr, fmt(d.delivered))
    cell(tr, d.lag == null ? 'unknown' : fmt(d.lag))
    cell(tr, left || '0')
    cell(tr, fmt(d.dead_lettered))
    cell(tr, d.down ? 'down: retrying' : 'ok')
    body.appendChild(tr)
    if (d.down) warn.push(['bad', `Destination ${d.name} refuses whole batches: its events wait in NATS and are retried; the store and the other destinations go on.`])
    if (d.dead_lettered > 0) warn.push(['', `Destination ${d.name} refused ${count(d.dead_lettered, 'event', 'events')}: spoor dlq list, then spoor dlq replay --destination ${d.name}.`])
  }
}

// showQuality fills the data quality panel (docs/plans.md, docs/quality.md):
// each plan's verdicts, the violations by event and type with their rate
// over the last minute, today's browser message loss per app against the
// agreed threshold, and the failed events by reason.
const qualityHistory = []
function showQuality (q, warn) {
  const plans = q.plans || []
  const failed = Object.entries(q.failed || {}).filter(([, n]) => n > 0)
  const now = { at: Date.now(), counts: {} }
  for (const p of plans) for (const v of p.violations || []) now.counts[`v|${p.app}|${v.event}|${v.type}`] = v.count
  for (const [why, n] of failed) now.counts[`f|${why}`] = n
  qualityHistory.push(now)
  while (qualityHistory.length > 1 && now.at - qualityHistory[0].at > 60000) qualityHistory.shift()
  const then = qualityHistory[0]
  const perMin = (key) => {
    const mins = (now.at - then.at) / 60000
    if (mins <= 0) return '–'
    return fmt(Math.round(((now.counts[key] || 0) - (then.counts[key] || 0)) / mins))
  }
  const losses = q.loss || []
  $('q-none').hidden = plans.length > 0 || failed.length > 0 || losses.length > 0
  const lt = $('loss')
  lt.hidden = losses.length === 0
  const pct = (x) => `${(x * 100).toFixed(2)}%`
  lt.tBodies[0].replaceChildren(...losses.map((l) => {
    const tr = document.createElement('tr')
    cell(tr, l.app)
    cell(tr, fmt(l.expected))
    cell(tr, fmt(l.missing))
    cell(tr, fmt(l.late))
    cell(tr, fmt(l.duplicate))
    cell(tr, pct(l.share))
    cell(tr, `≤ ${pct(q.loss_threshold || 0)}`)
    if (l.over) {
      tr.className = 'bad'
      warn.push(['bad', `${l.app} lost ${pct(l.share)} of its browser messages today, above the agreed ${pct(q.loss_threshold || 0)}.`])
    }
    return tr
  }))
  const pt = $('plans')
  pt.hidden = plans.length === 0
  pt.tBodies[0].replaceChildren()
  const vt = $('violations')
  const vrows = []
  for (const p of plans) {
    const tr = document.createElement('tr')
    const v = p.verdicts || {}
    cell(tr, p.app)
    cell(tr, p.error ? `${p.version || 'none'} (file refused: ${p.error})` : (p.version || '–'))
    cell(tr, fmt(v.passed || 0))
    cell(tr, fmt(v.audited || 0))
    cell(tr, fmt(v.dropped_properties || 0))
    cell(tr, fmt(v.blocked || 0))
    pt.tBodies[0].appendChild(tr)
    if (p.error) warn.push(['bad', `The tracking plan of ${p.app} was refused (${p.error}); its last good version stays in force.`])
    for (const x of p.violations || []) vrows.push([p.app, x])
  }
  vrows.sort((a, b) => b[1].count - a[1].count)
  vt.hidden = vrows.length === 0
  vt.tBodies[0].replaceChildren(...vrows.slice(0, 20).map(([app, x]) => {
    const tr = document.createElement('tr')
    cell(tr, app)
    cell(tr, x.event)
    cell(tr, x.type.replace(/_/g, ' '))
    cell(tr, fmt(x.count))
    cell(tr, perMin(`v|${app}|${x.event}|${x.type}`))
    return tr
  }))
  const ft = $('failed')
  ft.hidden = failed.length === 0
  ft.tBodies[0].replaceChildren(...failed.sort((a, b) => b[1] - a[1]).map(([why, n]) => {
    const tr = document.createElement('tr')
    cell(tr, why)
    cell(tr, fmt(n))
    cell(tr, perMin(`f|${why}`))
    return tr
  }))
}

// The link builder.
function builderFields () {
  const f = $('builder').elements
  const fields = [['ename', f.ename.value.trim() || 'click']]
  if (f.app.value.trim()) fields.push(['app', f.app.value.trim()])
  for (const kv of f.fields.value.split(',')) {
    const [k, ...v] = kv.split('=')
    if (k.trim() && v.length) fields.push([k.trim(), v.join('=').trim()])
  }
  return fields
}

const tuplets = (fields) => fields.map(([k, v]) => '/' + encodeURIComponent(k) + '/' + encodeURIComponent(v)).join('')

let signTimer = null
function build () {
  const fields = builderFields()
  const origin = location.origin
  $('b-track').textContent = origin + '/tr/v1' + tuplets(fields)
  $('b-pixel').textContent = `<img src="${origin}/img/v1${tuplets(fields)}" width="1" height="1" alt="">`
  clearTimeout(signTimer)
  signTimer = setTimeout(sign, 300)
}

async function api (path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Spoor-Admin': '1' }, body: JSON.stringify(body), credentials: 'same-origin' })
  const data = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(data.error || res.statusText)
  return data
}

async function sign () {
  const to = $('builder').elements.to.value.trim()
  const out = $('b-signed')
  if (!to) { out.textContent = 'enter a target to sign'; return }
  try {
    const r = await api('/admin/api/sign', { to, fields: Object.fromEntries(builderFields()) })
    out.textContent = r.url
  } catch (err) {
    out.textContent = 'not signed: ' + err.message
  }
}

async function shortLink () {
  const to = $('builder').elements.to.value.trim()
  const out = $('b-short')
  if (!to) { out.textContent = 'enter a target first'; return }
  try {
    const r = await api('/admin/api/links', { to, fields: Object.fromEntries(builderFields()) })
    out.textContent = r.short_url
    const img = $('b-qr')
    img.src = r.qr_url
    img.alt = 'QR code for ' + r.short_url
    img.hidden = false
  } catch (err) {
    out.textContent = 'not created: ' + err.message
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('filters').addEventListener('input', () => { clearTimeout(reconnectTimer); reconnectTimer = setTimeout(connect, 300) })
  $('filters').addEventListener('submit', (e) => e.preventDefault())
  $('pause').addEventListener('click', () => {
    paused = !paused
    $('pause').textContent = paused ? 'Resume' : 'Pause'
    $('pause').setAttribute('aria-pressed', String(paused))
  })
  $('builder').addEventListener('input', build)
  $('builder').addEventListener('submit', (e) => e.preventDefault())
  $('b-short-make').addEventListener('click', shortLink)
  build()
  connect()
})
