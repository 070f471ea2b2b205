// Browser tests of the planner (/) and officer (/officer) viewers in real
// headless Chromium (Debian's, with SwiftShader WebGL) against a real
// `citytwin serve` on the sample city. Run: npm ci && node --test
//
// Screenshots and metrics.json go to ./out (or $CITYTWIN_E2E_OUT).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildServer, chromiumArgs, chromiumPath, repo, startServer } from './browser.mjs';

const out = process.env.CITYTWIN_E2E_OUT || join(dirname(fileURLToPath(import.meta.url)), 'out');
const IDLE_MS = 90000;
const metrics = {};

let tmp, server, browser;

before(async () => {
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-'));
  const bin = buildServer(tmp);
  server = await startServer(bin, join(tmp, 'data'));
  const home = await fetch(server.url + '/');
  if (!(home.headers.get('content-type') || '').startsWith('text/html')) {
    throw new Error(`GET / answered ${home.status} ${home.headers.get('content-type')}: the viewer is not wired into cmd/citytwin serve (viewer.Register(mux))`);
  }
  // Playwright gives every launch a fresh temporary user data dir.
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  writeFileSync(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
});

const api = async (path) => {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
};

/** open loads a page, recording tile responses and off-site requests. */
async function open(context, path) {
  const page = await context.newPage();
  page.setDefaultTimeout(60000); // software WebGL on a busy 2-core machine
  const rec = { tiles: [], offsite: [], errors: [] };
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:')) rec.offsite.push(u);
  });
  page.on('response', (r) => { if (/\/api\/v1\/tiles\/.+\.mvt/.test(r.url())) rec.tiles.push({ url: r.url(), status: r.status() }); });
  page.on('pageerror', (e) => rec.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') rec.errors.push(m.text()); });
  await page.goto(server.url + path);
  await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: IDLE_MS });
  return { page, rec };
}

// idle waits until the map has drawn everything it needs. It polls the
// map's state rather than waiting for one 'idle' event, which may already
// have fired (or never fire when nothing changed), and it gives up with an
// error instead of hanging.
const idle = (page) => page.waitForFunction(() => {
  const { map } = window.__citytwin;
  map.triggerRepaint();
  return map.loaded() && !map.isMoving() && map.areTilesLoaded();
}, null, { timeout: IDLE_MS, polling: 100 });

/** pixelStats screenshots an element and measures its colours in the page. */
async function pixelStats(page, selector, file) {
  const png = await page.locator(selector).screenshot({ path: join(out, file) });
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    const colours = new Set();
    let sum = 0, sum2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      sum += l; sum2 += l * l; n++;
      colours.add((d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3));
    }
    return { colours: colours.size, stddev: Math.sqrt(sum2 / n - (sum / n) ** 2) };
  }, png.toString('base64'));
}

describe('planner', () => {
  let context, page, rec;
  before(async () => {
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    ({ page, rec } = await open(context, '/'));
  });
  after(async () => { await context?.close(); });

  test('renders the city from this server’s vector tiles', async (t) => {
    const firstIdle = await page.evaluate(() => window.__citytwin.firstIdleMs);
    metrics.plannerFirstIdleMs = firstIdle;
    t.diagnostic(`planner first render (navigation start → first idle): ${firstIdle} ms`);
    const ok = rec.tiles.filter((r) => r.status === 200);
    assert.ok(ok.length > 0, `no tile answered 200: ${JSON.stringify(rec.tiles.slice(0, 5))}`);
    assert.deepEqual(rec.tiles.filter((r) => r.status >= 400), []);
    metrics.plannerTileRequests = rec.tiles.length;
    const s = await pixelStats(page, '#map', 'planner.png');
    t.diagnostic(`map canvas: ${s.colours} colours, luminance σ ${s.stddev.toFixed(1)}`);
    assert.ok(s.colours > 40 && s.stddev > 10, `the map looks blank: ${JSON.stringify(s)}`);
    const rendered = await page.evaluate(() => window.__citytwin.map.queryRenderedFeatures({ layers: ['buildings'] }).length);
    assert.ok(rendered > 50, `${rendered} buildings rendered`);
    assert.deepEqual(rec.offsite, [], 'requests to other sites');
    assert.deepEqual(rec.errors, [], 'page errors');
  });

  test('layer switcher and legend follow the style', async () => {
    const layers = await page.$$eval('#layer-list input[type=checkbox]', (xs) => xs.map((x) => x.dataset.layer));
    for (const l of ['buildings', 'streets', 'grids', 'sea']) assert.ok(layers.includes(l), `no switch for ${l}`);
    await page.uncheck('#lyr-streets');
    assert.equal(await page.evaluate(() => window.__citytwin.map.getLayoutProperty('streets', 'visibility')), 'none');
    await page.check('#lyr-streets');
    assert.equal(await page.evaluate(() => window.__citytwin.map.getLayoutProperty('streets', 'visibility')), 'visible');
    const legend = await page.textContent('#legend');
    for (const w of ['Residential', 'Office', 'Arterial', 'Secondary', 'Local']) assert.ok(legend.includes(w), `legend lacks ${w}`);
  });

  test('clicking a building shows its properties and grid codes', async (t) => {
    await page.evaluate(() => window.__citytwin.map.jumpTo({ center: [121.64, 38.918], zoom: 16.5, pitch: 45, bearing: 0 }));
    await idle(page);
    const hit = await page.evaluate(() => {
      const { map } = window.__citytwin;
      const canvas = map.getCanvas().getBoundingClientRect();
      const seen = new Set();
      for (const f of map.queryRenderedFeatures({ layers: ['buildings'] })) {
        const id = f.properties.id;
        if (seen.has(id) || f.geometry.type !== 'Polygon') continue;
        seen.add(id);
        const ring = f.geometry.coordinates[0].slice(0, -1);
        const c = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
        const pt = map.project(c);
        if (pt.x < 40 || pt.y < 40 || pt.x > canvas.width - 40 || pt.y > canvas.height - 40) continue;
        const top = map.queryRenderedFeatures(pt).find((x) => x.source === 'citytwin');
        if (top && top.sourceLayer === 'buildings' && top.properties.id === id) {
          return { id, x: canvas.left + pt.x, y: canvas.top + pt.y };
        }
      }
      return null;
    });
    assert.ok(hit, 'no building found whose projected centre hits it');
    const f = await api(`/api/v1/layers/buildings/features/${encodeURIComponent(hit.id)}`);
    await page.mouse.click(hit.x, hit.y);
    await page.waitForSelector('#inspector:not([hidden]) table.codes tr.code-row');
    await page.waitForFunction((code) => document.querySelector('#inspector-body')?.textContent.includes(code), f.properties.gridcode);
    const body = await page.textContent('#inspector-body');
    assert.ok(body.includes(f.properties.gridcode), 'the feature’s own GeoSOT code is shown');
    const rows = await page.$$eval('tr.code-row', (rs) => rs.map((r) => r.querySelector('th').textContent));
    t.diagnostic(`grid code rows: ${rows.join(' | ')}`);
    for (const want of ['GeoSOTL15', 'GeoSOTL19', 'GeoSOTL23', 'BeiDouL6', 'H3res 9']) assert.ok(rows.includes(want), `no ${want} row`);
    const codes = await page.$$eval('tr.code-row code', (cs) => cs.map((c) => c.textContent));
    assert.ok(codes.some((c) => /^G\d+-\d{6}-\d{6}\.\d{2}$/.test(c)), `no level-23 GeoSOT code in ${codes}`);
    assert.ok(codes.some((c) => /^[0-9a-f]{15}$/.test(c)), 'no H3 index');
    assert.ok(codes.some((c) => /^N\d{2}[A-Z]/.test(c)), 'no BeiDou code');
    assert.equal(await page.evaluate(() => window.__citytwin.selected.id), hit.id);
    assert.ok((await page.textContent('#inspector-body')).includes(String(f.properties.floors)), 'properties shown');
    await idle(page);
    await page.screenshot({ path: join(out, 'planner-selected.png') });
  });

  test('search by GeoSOT code flies to the cell and outlines it', async () => {
    // A level-19 cell on a building away from the current view.
    const b = (await api('/api/v1/layers/buildings/features?limit=1&filter=use=hospital')).features[0];
    const [lon, lat] = b.geometry.coordinates[0][0];
    const cell = await api(`/api/v1/grid/locate?lat=${lat}&lon=${lon}&level=19`);
    await page.fill('#search-input', cell.code);
    await page.press('#search-input', 'Enter');
    await page.waitForFunction(([w, s, e, n]) => {
      const { map } = window.__citytwin;
      const c = map.getCenter();
      return !map.isMoving() && c.lng >= w && c.lng <= e && c.lat >= s && c.lat <= n;
    }, cell.bounds, { timeout: 20000 });
    assert.deepEqual(await page.evaluate(() => window.__citytwin.outlined), [cell.code]);
    assert.equal(await page.textContent('#inspector-title'), cell.code);
    await idle(page);
    await page.screenshot({ path: join(out, 'planner-search-cell.png') });
  });

  test('search by building id and by unit-grid code', async () => {
    const fc = await api('/api/v1/layers/buildings/features?limit=1&filter=use=school');
    const b = fc.features[0];
    for (const [q, layer] of [[b.id, 'buildings'], [b.properties.grid, 'grids']]) {
      await page.fill('#search-input', q);
      await page.press('#search-input', 'Enter');
      await page.waitForFunction(([l, id]) => window.__citytwin.selected?.layer === l && window.__citytwin.selected?.id === id, [layer, q]);
      await page.waitForFunction(() => !window.__citytwin.map.isMoving());
    }
    await page.fill('#search-input', 'no-such-thing');
    await page.press('#search-input', 'Enter');
    await page.waitForFunction(() => document.querySelector('#search-msg').textContent.includes('Nothing found'));
  });

  test('"as of" reloads tiles for an earlier date', async () => {
    await page.evaluate(() => window.__citytwin.map.jumpTo({ center: [121.64, 38.92], zoom: 14.5, pitch: 0, bearing: 0 }));
    await idle(page);
    const count = () => page.evaluate(() => new Set(window.__citytwin.map.queryRenderedFeatures({ layers: ['buildings'] }).map((f) => f.properties.id)).size);
    const now = await count();
    const before = rec.tiles.length;
    await page.fill('#asof-date', '1985-06-30');
    await page.dispatchEvent('#asof-date', 'change');
    await page.waitForFunction(() => window.__citytwin.asOf === '1985-06-30T23:59:59+08:00');
    const timedTiles = () => rec.tiles.slice(before).filter((r) => r.url.includes('time=1985-06-30T23%3A59%3A59%2B08%3A00'));
    for (let waited = 0; !timedTiles().some((r) => r.status === 200) && waited < IDLE_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await idle(page);
    const timed = timedTiles();
    assert.ok(timed.some((r) => r.status === 200), 'no tile fetched with ?time=');
    const then = await count();
    assert.ok(then < now, `buildings as of 1985: ${then}, now: ${now}`);
    await page.screenshot({ path: join(out, 'planner-1985.png') });
    await page.click('#asof-now');
    await page.waitForFunction(() => window.__citytwin.asOf === null);
  });
});

describe('officer', () => {
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

  test('phone layout: no overflow, big touch targets, the grid I stand in', async (t) => {
    const context = await browser.newContext(phone);
    try {
      const { page, rec } = await open(context, '/officer');
      metrics.officerFirstIdleMs = await page.evaluate(() => window.__citytwin.firstIdleMs);
      t.diagnostic(`officer first render (navigation start → first idle): ${metrics.officerFirstIdleMs} ms`);
      await page.waitForFunction(() => window.__citytwin.grid != null, null, { timeout: 20000 });
      const pos = await page.evaluate(() => window.__citytwin.position);
      assert.equal(pos.source, 'demo', 'without permission the demo position is used');
      const here = await api(`/api/v1/layers/grids/features?limit=1&intersects=${encodeURIComponent(JSON.stringify({ type: 'Point', coordinates: [pos.lng, pos.lat] }))}`);
      const code = here.features[0].properties.code;
      assert.equal(await page.textContent('#grid-code'), code);
      const width = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth, body: document.body.scrollWidth, inner: innerWidth }));
      assert.ok(width.scroll <= 390 && width.body <= 390, `horizontal overflow: ${JSON.stringify(width)}`);
      const small = await page.$$eval('button, a[href], input, select, textarea, [role=button]', (els) => els
        .filter((e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
        .map((e) => ({ what: e.id || e.className || e.tagName, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
        .map(({ what, r }) => `${what} ${r.width.toFixed(0)}×${r.height.toFixed(0)}`));
      assert.deepEqual(small, [], 'touch targets under 44 px');
      await idle(page);
      const shown = await page.evaluate(() => window.__citytwin.map.queryRenderedFeatures({ layers: ['me-grids-line'] }).length);
      assert.ok(shown >= 4, `${shown} neighbouring grid outlines drawn`);
      const s = await pixelStats(page, 'body', 'officer.png');
      assert.ok(s.colours > 40 && s.stddev > 10, `the map looks blank: ${JSON.stringify(s)}`);
      await page.tap('#sheet-toggle');
      await page.waitForSelector('#grid-facts dt');
      assert.equal(await page.getAttribute('#sheet-toggle', 'aria-expanded'), 'true');
      // The cases hook (officer-cases.js) lists the grid's cases: none yet.
      await page.waitForFunction(() => document.querySelector('[data-hook=cases]').dataset.hookState === 'mounted'
        && document.querySelector('#sheet-body').textContent.includes('No cases in this grid'));
      await page.waitForFunction(() => document.querySelector('#grid-facts').textContent.includes('Buildings'));
      await page.screenshot({ path: join(out, 'officer-sheet.png') });
      // Locate me brings the map back to the officer.
      await page.evaluate(() => window.__citytwin.map.jumpTo({ center: [121.66, 38.93] }));
      await page.tap('#locate');
      await page.waitForFunction(([lng, lat]) => {
        const { map } = window.__citytwin;
        const c = map.getCenter();
        return !map.isMoving() && Math.abs(c.lng - lng) < 1e-4 && Math.abs(c.lat - lat) < 1e-4;
      }, [pos.lng, pos.lat]);
      assert.deepEqual(rec.offsite, []);
      assert.deepEqual(rec.errors, []);
    } finally {
      await context.close();
    }
  });

  test('uses the device position when it is in the city', async () => {
    const g = (await api('/api/v1/layers/grids/features?limit=1&filter=community=锦绣社区')).features[0];
    const ring = g.geometry.coordinates[0].slice(0, -1);
    const [lng, lat] = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
    const context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { latitude: lat, longitude: lng, accuracy: 12 } });
    try {
      const { page } = await open(context, '/officer');
      await page.waitForFunction((code) => window.__citytwin.grid === code, g.properties.code, { timeout: 20000 });
      assert.equal((await page.evaluate(() => window.__citytwin.position)).source, 'gps');
      assert.match(await page.textContent('#fix'), /^GPS ±12 m/);
    } finally {
      await context.close();
    }
  });

  test('falls back to the demo position outside the city', async () => {
    const context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { latitude: 39.9, longitude: 116.4 } });
    try {
      const { page } = await open(context, '/officer');
      await page.waitForFunction(() => window.__citytwin.position?.source === 'demo', null, { timeout: 20000 });
      assert.match(await page.textContent('#fix'), /Outside the city/);
    } finally {
      await context.close();
    }
  });
});

test('bundle sizes', (t) => {
  const dir = join(repo, 'viewer/dist/assets');
  const sizes = {};
  for (const name of readdirSync(dir).sort()) {
    const buf = readFileSync(join(dir, name));
    sizes[name] = { bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
    t.diagnostic(`${name}: ${(buf.length / 1024).toFixed(1)} KiB, gzip ${(sizes[name].gzip / 1024).toFixed(1)} KiB`);
  }
  metrics.assets = sizes;
  const total = (pre) => Object.entries(sizes).filter(([n]) => pre.some((p) => n.startsWith(p))).reduce((a, [, s]) => a + s.gzip, 0);
  metrics.plannerGzipBytes = total(['planner-', 'shared-', 'maplibre-gl-worker-', 'icon-']);
  metrics.officerGzipBytes = total(['officer-', 'shared-', 'maplibre-gl-worker-', 'icon-']);
  t.diagnostic(`planner page total gzip: ${(metrics.plannerGzipBytes / 1024).toFixed(1)} KiB; officer: ${(metrics.officerGzipBytes / 1024).toFixed(1)} KiB`);
  // MapLibre is most of it; a budget keeps the rest honest.
  assert.ok(metrics.plannerGzipBytes < 600 * 1024, `planner ships ${metrics.plannerGzipBytes} bytes gzipped`);
});
