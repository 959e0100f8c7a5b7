/**
 * Builds the dashboard (issue #12) into dist/ui/: esbuild bundles ui/src/main.tsx with Preact and uPlot
 * into one app.js and one app.css, minified, beside index.html; each file is also written gzip- and
 * brotli-compressed, which the daemon serves to browsers that accept them (@fastify/static
 * `preCompressed`). Prints what the page weighs and fails when it is over the budget, or when the page
 * bundled anything of the daemon (it may import the daemon's types only: DESIGN.md).
 *
 * Usage: node ui/build.mjs
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist', 'ui');
/** The whole page, compressed (brotli), at most this: "well under 300 KB compressed" (issue #12). */
const BUDGET_BYTES = 100 * 1024;
/** The only folders the bundle may take code from. */
const ALLOWED = [/^ui\//, /^node_modules\/(preact|uplot)\//];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  // Browsers of the last few years (a stage laptop, a tablet): what the code is written in.
  target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
  minify: true,
  legalComments: 'eof',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
});

const strays = Object.keys(result.metafile.inputs).filter((p) => !ALLOWED.some((re) => re.test(p)));
if (strays.length > 0) {
  console.error(`ui build: the page bundled code from outside ui/ and its packages: ${strays.join(', ')}`);
  console.error('The dashboard imports nothing of the daemon but types (import type).');
  process.exit(1);
}

copyFileSync(join(here, 'index.html'), join(out, 'index.html'));

let gzipTotal = 0;
let brotliTotal = 0;
const rows = [];
for (const name of ['index.html', 'app.js', 'app.css']) {
  const file = join(out, name);
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 });
  const br = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(`${file}.br`, br);
  gzipTotal += gz.length;
  brotliTotal += br.length;
  rows.push(
    `${name.padEnd(11)} ${kb(raw.length).padStart(9)} ${kb(gz.length).padStart(9)} ${kb(br.length).padStart(9)}`,
  );
}

function kb(n) {
  return `${(n / 1024).toFixed(1)} KB`;
}

console.log(`dashboard built in ${relative(process.cwd(), out) || '.'}/`);
console.log(`${'file'.padEnd(11)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`);
for (const r of rows) console.log(r);
console.log(
  `${'page'.padEnd(11)} ${''.padStart(9)} ${kb(gzipTotal).padStart(9)} ${kb(brotliTotal).padStart(9)}`,
);
if (brotliTotal > BUDGET_BYTES) {
  console.error(
    `ui build: the page weighs ${kb(brotliTotal)} compressed, over its budget of ${kb(BUDGET_BYTES)}`,
  );
  process.exit(1);
}
