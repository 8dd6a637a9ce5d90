// The persisted queue of events not yet acknowledged by the collector.
//
// Every page (tab) keeps its own queue under "<prefix>.q.<page id>", so two
// tabs never overwrite each other's events. A queue whose page stopped
// beating (closed, crashed, navigated away) is taken over by the next page
// that loads: nothing accepted by track() is lost to a navigation or a
// crash, and events the collector acknowledged are removed at once, so they
// are never sent again.

// FORMAT is the stored format: {v: 2, ts: <heartbeat, epoch ms>, q: [events]}.
export const FORMAT = 2

// migrations upgrade an older stored queue by one version each. Version 1
// (the 0.0.x pre-releases) stored {v: 1, events: [...]} without a heartbeat.
export const migrations = {
  1: (d) => ({ v: 2, ts: 0, q: Array.isArray(d.events) ? d.events : [] }),
}

// upgrade returns the stored value in the current format, or null when it
// cannot be read (it is then discarded).
export function upgrade(d) {
  while (d && typeof d === 'object' && d.v < FORMAT && migrations[d.v]) d = migrations[d.v](d)
  return d && d.v === FORMAT && Array.isArray(d.q) ? d : null
}

const size = (e) => JSON.stringify(e).length

export class Queue {
  // store: a store() from util.js; o: {max, maxBytes, stale (ms without a
  // heartbeat before another page takes the queue over), now}.
  constructor(store, o) {
    this.s = store
    this.o = o
    this.id = Math.random().toString(36).slice(2, 10)
    this.key = 'q.' + this.id
    this.items = []
    this.bytes = 0
    this.dropped = 0
    this.pending = false
  }

  get length() {
    return this.items.length
  }

  // push adds one event; over the cap the oldest events are dropped (their
  // cidx gap shows the loss on the server).
  push(e) {
    this.items.push(e)
    this.bytes += size(e)
    this.cap()
    this.later()
  }

  cap() {
    while (this.items.length > 1 && (this.items.length > this.o.max || this.bytes > this.o.maxBytes)) {
      this.bytes -= size(this.items.shift())
      this.dropped++
    }
  }

  // take returns up to n of the oldest events whose JSON fits in bytes,
  // skipping those in skip (a Set of event ids already in flight).
  take(n, bytes, skip) {
    const out = []
    let b = 2
    for (const e of this.items) {
      if (out.length >= n) break
      if (skip && skip.has(e.eid)) continue
      const z = size(e) + 1
      if (out.length && b + z > bytes) break
      out.push(e)
      b += z
    }
    return out
  }

  // remove drops the given events (acknowledged, handed to a beacon, or
  // refused as invalid) and saves at once.
  remove(batch) {
    const ids = new Set(batch.map((e) => e.eid))
    this.items = this.items.filter((e) => !ids.has(e.eid) || ((this.bytes -= size(e)), false))
    this.save()
  }

  clear() {
    this.items = []
    this.bytes = 0
    this.s.del(this.key)
  }

  // later saves once after the current task: a burst of track() calls costs
  // one write.
  later() {
    if (this.pending) return
    this.pending = true
    queueMicrotask(() => this.pending && this.save())
  }

  // save writes the queue with a fresh heartbeat; orphan=true writes a zero
  // heartbeat so the next page takes the events over at once.
  save(orphan) {
    this.pending = false
    if (!this.items.length) return this.s.del(this.key)
    this.s.set(this.key, { v: FORMAT, ts: orphan ? 0 : this.o.now(), q: this.items })
  }

  // reclaim takes over the queues of pages that stopped beating, and drops
  // unreadable ones. It returns how many events it took.
  reclaim() {
    const now = this.o.now()
    const have = new Set(this.items.map((e) => e.eid))
    let n = 0
    for (const k of this.s.keys('q.')) {
      if (k === this.key) continue
      const raw = this.s.get(k)
      const d = upgrade(raw)
      if (d && now - d.ts < this.o.stale) continue
      for (const e of d ? d.q : []) {
        if (e && e.eid && !have.has(e.eid)) {
          have.add(e.eid)
          this.items.push(e)
          n++
        }
      }
      this.s.del(k)
    }
    if (n) {
      this.items.sort((a, b) => (a.cidx || 0) - (b.cidx || 0))
      this.bytes = this.items.reduce((t, e) => t + size(e), 0)
      this.cap()
      this.save()
    }
    return n
  }
}
