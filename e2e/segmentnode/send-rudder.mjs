// Drives RudderStack's own Node library (@rudderstack/rudder-sdk-node)
// against spoor's collector, which speaks the same Segment-spec API: the
// URL and write key from the environment, then every kind of call, flushed.
// e2e/segment_libs_test.go runs it and checks what the store holds.
import Analytics from '@rudderstack/rudder-sdk-node'

let errors = 0
let settled = 0
const cb = (err) => { settled++; if (err) { errors++; console.error('rudder-sdk-node error:', err.message || err) } }
const client = new Analytics(process.env.WRITE_KEY, { dataPlaneUrl: process.env.SPOOR_URL, flushAt: 20, flushInterval: 500, retryCount: 3, logLevel: 'error' })
const n = Number(process.env.TRACKS || 50)
client.identify({ userId: 'rudder-user-1', traits: { email: 'Peter.Gibbons@example.com', plan: 'pro' } }, cb)
for (let i = 0; i < n; i++) {
  client.track({ userId: 'rudder-user-1', event: 'Item Purchased', properties: { revenue: 14.99, item: i }, context: { campaign: { name: 'spring', source: 'news' } } }, cb)
}
client.page({ anonymousId: 'rudder-anon-1', name: 'Pricing', properties: { url: 'https://shop.example/pricing' } }, cb)
client.screen({ userId: 'rudder-user-1', name: 'Home' }, cb)
client.group({ userId: 'rudder-user-1', groupId: 'initech', traits: { employees: 420 } }, cb)
client.alias({ userId: 'rudder-user-1', previousId: 'rudder-anon-1' }, cb)
// Each call's callback runs once its batch was answered; flush sends one
// batch of up to flushAt, so flush until every call is settled.
const deadline = Date.now() + 30000
while (settled < n + 5 && Date.now() < deadline) {
  await new Promise((resolve) => client.flush(() => resolve()))
  await new Promise((resolve) => setTimeout(resolve, 100))
}
if (settled < n + 5) { errors++; console.error(`only ${settled} of ${n + 5} calls settled`) }
console.log(JSON.stringify({ sent: n + 5, errors }))
process.exit(errors ? 1 : 0)
