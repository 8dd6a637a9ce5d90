// spoor's browser SDK. Use the functions below after init(), or
// createTracker() for a tracker of your own.
import { createTracker } from './tracker.js'

export { createTracker, defaults } from './tracker.js'
export { VERSION } from './util.js'

let t = null
const early = []

// init starts the page's tracker (once); calls made before it are replayed.
export function init(opts) {
  if (!t) {
    t = createTracker(opts)
    for (const [m, a] of early.splice(0)) t[m](...a)
  }
  return t
}

const call =
  (m) =>
  (...a) =>
    t ? t[m](...a) : (early.push([m, a]), undefined)

export const track = call('track')
export const page = call('page')
export const identify = call('identify')
export const consent = call('consent')
export const trackForm = call('trackForm')
export const flush = (...a) => (t ? t.flush(...a) : Promise.resolve())
