// Builds dist/spoor.mjs (ES module) and dist/spoor.js (minified script for a
// <script> tag, served by the collector at /sdk/spoor.js). With --check it
// builds in memory and fails when dist/ is not what the sources give.
import { build } from 'esbuild'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const here = new URL('.', import.meta.url).pathname
const { version } = JSON.parse(readFileSync(here + 'package.json', 'utf8'))
const check = process.argv.includes('--check')
const common = {
  bundle: true,
  minify: true,
  write: false,
  target: ['es2019'],
  legalComments: 'none',
  define: { __SPOOR_VERSION__: JSON.stringify(version) },
  banner: { js: `/* spoor browser SDK ${version} */` },
}
const outputs = [
  { entry: 'src/index.js', out: 'dist/spoor.mjs', format: 'esm' },
  { entry: 'src/global.js', out: 'dist/spoor.js', format: 'iife' },
]
let stale = []
const sizes = []
mkdirSync(here + 'dist', { recursive: true })
for (const { entry, out, format } of outputs) {
  const r = await build({ ...common, entryPoints: [here + entry], format })
  const text = r.outputFiles[0].text
  const gz = gzipSync(text, { level: 9 }).length
  console.log(`${out}: ${text.length} bytes, ${gz} bytes gzipped`)
  sizes.push(`| \`sdk/js/${out}\` (${format}) | ${text.length} | ${gz} |`)
  if (check) {
    let have = ''
    try {
      have = readFileSync(here + out, 'utf8')
    } catch {}
    if (have !== text) stale.push(out)
  } else writeFileSync(here + out, text)
}
if (stale.length) {
  console.error(`stale build output: ${stale.join(', ')}; run "npm run build" in sdk/js and commit dist/`)
  process.exit(1)
}

// The sizes go to docs/benchmarks.md, between the BENCH:sdk markers.
if (!check) {
  const doc = here + '../../docs/benchmarks.md'
  const md = readFileSync(doc, 'utf8')
  const table = [
    '<!-- BENCH:sdk -->',
    `SDK ${version}, esbuild ${(await import('esbuild')).version}, minified; gzip -9. Budget: 5,120 bytes gzipped (tested).`,
    '',
    '| file | bytes | gzipped |',
    '|---|---|---|',
    ...sizes,
    '<!-- /BENCH:sdk -->',
  ].join('\n')
  const next = md.replace(/<!-- BENCH:sdk -->[\s\S]*<!-- \/BENCH:sdk -->/, table)
  writeFileSync(doc, next === md && !md.includes('BENCH:sdk') ? md + '\n## Browser SDK size (`npm run build` in sdk/js)\n\n' + table + '\n' : next)
}
