// Who and when: the visitor id, the session, the per-visitor message index.
import { cookie, uuidv7 } from './util.js'

export class Identity {
  // store: a store() from util.js; o: {cookie: name of the server's
  // first-party visitor cookie, timeout: session inactivity in ms}.
  constructor(store, o) {
    this.s = store
    this.o = o
  }

  // visitor is the server's first-party cookie when present, else an id
  // generated once and kept in storage.
  visitor(now) {
    const c = this.o.cookie && cookie(this.o.cookie)
    if (c) return c
    let v = this.s.get('vid')
    if (!v) this.s.set('vid', (v = uuidv7(now)))
    return v
  }

  // session returns the session for an event at time t: the same id while
  // events keep coming less than timeout apart, a new one after a pause.
  // first is true for the first event of a session.
  session(t) {
    let s = this.s.get('s')
    const first = !s || !s.id || t - s.last > this.o.timeout
    if (first) s = { id: uuidv7(t), start: t, last: t }
    s.last = Math.max(s.last, t)
    this.s.set('s', s)
    return { id: s.id, first }
  }

  // next returns the visitor's next message index (cidx): 1, 2, 3, ... per
  // visitor id, so the server counts gaps to measure loss.
  next(vid) {
    const c = this.s.get('c')
    const n = c && c.vid === vid ? c.n + 1 : 1
    this.s.set('c', { vid, n })
    return n
  }

  // forget removes everything stored about the visitor (consent withdrawn).
  forget() {
    for (const k of ['vid', 's', 'c', 'u']) this.s.del(k)
  }
}
