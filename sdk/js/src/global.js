// The script-tag build: window.spoor. Either
//   <script src="https://t.example.com/sdk/spoor.js" data-app="shop" async></script>
// (init from the data-* attributes, endpoint = the script's origin), or a
// stub array window.spoor = [["init", {...}], ["track", "x"]] set earlier,
// whose calls are replayed in order.
import * as sdk from './index.js'

const w = window
const pre = w.spoor
w.spoor = sdk
const el = document.currentScript
if (el && el.dataset.app !== undefined) {
  const d = el.dataset
  sdk.init({
    endpoint: d.endpoint || new URL(el.src).origin,
    app: d.app,
    ...(d.path && { path: d.path }),
    ...(d.consent && { consent: d.consent !== 'false' }),
  })
}
if (Array.isArray(pre)) for (const [m, ...a] of pre) if (typeof sdk[m] == 'function') sdk[m](...a)
