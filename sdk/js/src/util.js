// Small helpers shared by the SDK: ids, storage, cookies. No dependencies.

// VERSION is replaced at build time with package.json's version.
export const VERSION = typeof __SPOOR_VERSION__ === 'string' ? __SPOOR_VERSION__ : 'dev'

const hex = (b) => Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join('')

// uuidv7 returns a time-ordered UUID (RFC 9562 version 7) for the time t in
// epoch milliseconds: the collector keeps it as the event_id, so a resend of
// the same event is deduplicated by JetStream and by every sink.
export function uuidv7(t) {
  const b = crypto.getRandomValues(new Uint8Array(16))
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256
    t = Math.floor(t / 256)
  }
  b[6] = (b[6] & 15) | 112
  b[8] = (b[8] & 63) | 128
  const h = hex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// store wraps one Web Storage area (localStorage by default) under a key
// prefix, with JSON values. When the area is missing, disabled or full, the
// values live in memory for this page instead, so tracking still works.
export function store(prefix, area) {
  const mem = new Map()
  let ls = null
  try {
    ls = area === undefined ? globalThis.localStorage : area
    ls.setItem(prefix + '.probe', '1')
    ls.removeItem(prefix + '.probe')
  } catch {
    ls = null
  }
  const full = (k) => prefix + '.' + k
  return {
    get(k) {
      try {
        const v = mem.has(k) ? mem.get(k) : ls && ls.getItem(full(k))
        return v == null ? null : JSON.parse(v)
      } catch {
        return null
      }
    },
    set(k, v) {
      const s = JSON.stringify(v)
      try {
        if (ls) {
          ls.setItem(full(k), s)
          mem.delete(k)
          return true
        }
      } catch {}
      mem.set(k, s)
      return false
    },
    del(k) {
      mem.delete(k)
      try {
        ls && ls.removeItem(full(k))
      } catch {}
    },
    // keys lists the keys (without the prefix) that start with p.
    keys(p) {
      const out = new Set([...mem.keys()].filter((k) => k.startsWith(p)))
      try {
        for (let i = 0; ls && i < ls.length; i++) {
          const k = ls.key(i)
          if (k && k.startsWith(full(p))) out.add(k.slice(prefix.length + 1))
        }
      } catch {}
      return [...out]
    },
  }
}

// cookie reads one cookie of the page ('' when absent).
export function cookie(name) {
  try {
    const m = document.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'))
    return m ? decodeURIComponent(m[1]) : ''
  } catch {
    return ''
  }
}
