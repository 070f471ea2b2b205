// Builds the CityTwin web viewers into ../dist, deterministically: the same
// sources and the same locked packages give the same bytes, so CI can
// rebuild and compare (see ../check-dist.sh).
//
//   dist/planner.html, dist/officer.html   pages (served as / and /officer)
//   dist/assets/NAME-HASH.{js,css,mjs,svg} content-hashed assets
//
// MapLibre GL 6 runs its tile parsing in a module worker loaded from a URL
// of its own; the worker file is copied under a content hash and its URL
// compiled into the bundles (setWorkerUrl in src/lib/common.js).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const assets = join(dist, 'assets');

// hash8 is a content hash in the same alphabet and length as esbuild's.
const hash8 = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 8).toUpperCase();

// copyHashed writes buf as assets/NAME-HASH.EXT and returns its URL path.
function copyHashed(name, buf) {
  const ext = extname(name);
  const out = `${basename(name, ext)}-${hash8(buf)}${ext}`;
  writeFileSync(join(assets, out), buf);
  return `/assets/${out}`;
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

// The worker, without its source-map comment (no maps are shipped).
const workerSrc = readFileSync(join(here, 'node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs'), 'utf8')
  .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
const workerURL = copyHashed('maplibre-gl-worker.mjs', Buffer.from(workerSrc));
const iconURL = copyHashed('icon.svg', readFileSync(join(here, 'src/icon.svg')));

const pages = ['planner', 'officer'];
const result = await build({
  absWorkingDir: here,
  entryPoints: Object.fromEntries(pages.map((p) => [p, `src/${p}.js`])),
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: 'shared-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  define: { __MAPLIBRE_WORKER_URL__: JSON.stringify(workerURL) },
});

const rel = (p) => '/assets/' + basename(p);
const sizes = [];
for (const page of pages) {
  const [out, meta] = Object.entries(result.metafile.outputs).find(([, m]) => m.entryPoint === `src/${page}.js`);
  const preload = meta.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path);
  const head = [
    meta.cssBundle && `<link rel="stylesheet" href="${rel(meta.cssBundle)}">`,
    ...preload.map((p) => `<link rel="modulepreload" href="${rel(p)}">`),
    `<script type="module" src="${rel(out)}"></script>`,
  ].filter(Boolean).join('\n');
  const html = readFileSync(join(here, `src/${page}.html`), 'utf8')
    .replace('<!--ASSETS-->', head)
    .replaceAll('%ICON%', iconURL);
  writeFileSync(join(dist, `${page}.html`), html);
}

for (const [p, m] of Object.entries(result.metafile.outputs).sort()) sizes.push([basename(p), m.bytes]);
sizes.push([basename(workerURL), Buffer.byteLength(workerSrc)]);
for (const [name, bytes] of sizes) console.log(`${String(bytes).padStart(9)}  dist/assets/${name}`);
