// First-render figures of the viewers, for docs/PERFORMANCE.md:
//   node measure.mjs [runs]            builds and starts its own server
//   node measure.mjs [runs] URL        measures a running server
// Each run is a fresh browser context (empty HTTP cache). "First idle" is
// navigation start → MapLibre's first 'idle' event (style, tiles and all
// layers drawn). The first run of a fresh server also pays for tile
// generation; later runs hit its tile cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildServer, chromiumArgs, chromiumPath, startServer } from './browser.mjs';

const runs = Number(process.argv[2] || 5);
let base = process.argv[3];
let server, tmp;
if (!base) {
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-measure-'));
  server = await startServer(buildServer(tmp), join(tmp, 'data'));
  base = server.url;
}
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
const pages = [
  ['planner', '/', { viewport: { width: 1440, height: 900 } }],
  ['officer', '/officer?demo=1', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const [name, path, opts] of pages) {
    const rows = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext(opts);
      const page = await context.newPage();
      // Tiles are fetched by MapLibre's worker: count them here, not in
      // the page's resource timings.
      const tiles = [];
      page.on('response', (r) => {
        if (/\/api\/v1\/tiles\/.+\.mvt/.test(r.url())) tiles.push(Number(r.headers()['content-length'] || 0));
      });
      await page.goto(base + path);
      await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: 120000 });
      const row = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const assets = res.filter((r) => r.name.includes('/assets/'));
        const sum = (xs) => xs.reduce((a, r) => a + r.transferSize, 0);
        return {
          firstIdle: window.__citytwin.firstIdleMs,
          dcl: Math.round(nav.domContentLoadedEventEnd),
          assetKiB: Math.round((sum(assets) + nav.transferSize) / 1024),
        };
      });
      rows.push({ ...row, tiles: tiles.length, tileKiB: Math.round(tiles.reduce((a, b) => a + b, 0) / 1024) });
      await context.close();
    }
    const f = (k) => `median ${median(rows.map((r) => r[k]))}, min ${Math.min(...rows.map((r) => r[k]))}, max ${Math.max(...rows.map((r) => r[k]))}`;
    console.log(`${name}: ${runs} runs`);
    console.log(`  first run (cold tile cache): first idle ${rows[0].firstIdle} ms`);
    console.log(`  first idle ms: ${f('firstIdle')}`);
    console.log(`  DOMContentLoaded ms: ${f('dcl')}`);
    console.log(`  page + assets transferred: ${rows[0].assetKiB} KiB; tiles by first idle: ${rows[0].tiles} requests, ${rows[0].tileKiB} KiB (gzip)`);
  }
} finally {
  await browser.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
