// When to try again after a failed delivery.

// backoff is the wait before retry number n (0-based) after a network error
// or a 5xx: exponential from base, capped at max, with "equal jitter" (a
// random half on top of a fixed half) so a fleet of browsers does not come
// back in step.
export function backoff(n, base, max, rnd = Math.random()) {
  const d = Math.min(max, base * 2 ** Math.min(n, 30))
  return Math.round(d / 2 + (d / 2) * rnd)
}

// retryAfter turns a Retry-After header (seconds or an HTTP date) into
// milliseconds from now; -1 when the header is absent or unreadable.
export function retryAfter(h, now) {
  if (!h) return -1
  if (/^\s*\d+\s*$/.test(h)) return parseInt(h, 10) * 1000
  const t = Date.parse(h)
  return isNaN(t) ? -1 : Math.max(0, t - now)
}
