// Drives Segment's own Node library against spoor's collector: the URL and
// write key from the environment, then every kind of call, flushed.
// e2e/segment_test.go runs it and checks what the store holds.
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: process.env.WRITE_KEY, host: process.env.SPOOR_URL, flushAt: 15, flushInterval: 500, maxRetries: 3 })
let errors = 0
analytics.on('error', (err) => { errors++; console.error('analytics-node error:', err.code || err.message || err) })
const n = Number(process.env.TRACKS || 50)
analytics.identify({ userId: 'node-user-1', traits: { email: 'Peter.Gibbons@example.com', plan: 'pro' } })
for (let i = 0; i < n; i++) {
  analytics.track({ userId: 'node-user-1', event: 'Item Purchased', properties: { revenue: 14.99, item: `sku-${i}` }, context: { campaign: { name: 'spring', source: 'news' } } })
}
analytics.page({ anonymousId: 'node-anon-1', name: 'Pricing', properties: { url: 'https://shop.example/pricing', title: 'Pricing' } })
analytics.screen({ userId: 'node-user-1', name: 'Home' })
analytics.group({ userId: 'node-user-1', groupId: 'initech', traits: { employees: 420 } })
analytics.alias({ userId: 'node-user-1', previousId: 'node-anon-1' })
await analytics.closeAndFlush({ timeout: 20000 })
console.log(JSON.stringify({ sent: n + 5, errors }))
process.exit(errors ? 1 : 0)
