// Makes ecommerce-v2.ndjson from the page's examples (ecommerce-v2.js): each analytics.track call as
// the track message analytics.js sends for it (type, event, properties, an anonymousId).
//   node e2e/testdata/segment-spec/ecommerce-v2.mjs > e2e/testdata/segment-spec/ecommerce-v2.ndjson
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const src = readFileSync(new URL('./ecommerce-v2.js', import.meta.url), 'utf8');
const lines = [];
const analytics = {
  track: (event, properties) =>
    lines.push(JSON.stringify({ type: 'track', event, properties, anonymousId: '507f191e810c19729de860ea' })),
};
vm.runInNewContext(src, { analytics });
process.stdout.write(lines.join('\n') + '\n');
