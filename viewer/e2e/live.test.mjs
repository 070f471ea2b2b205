// Browser test of the planner's live layer (src/hooks/live-objects.js) in
// real headless Chromium against a real `citytwin serve`: objects posted to
// /api/v1/objects reach the page over the websocket, move, can be clicked,
// leave when removed and when the view moves away.
//
// The screenshot goes to ./out (or $CITYTWIN_E2E_OUT) as planner-live.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildServer, chromiumArgs, chromiumPath, startServer } from './browser.mjs';

const out = process.env.CITYTWIN_E2E_OUT || join(dirname(fileURLToPath(import.meta.url)), 'out');
const IDLE_MS = 90000;

let tmp, server, browser;

before(async () => {
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-live-'));
  server = await startServer(buildServer(tmp), join(tmp, 'data'));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function call(method, path, body) {
  const res = await fetch(server.url + path, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const idle = (page) => page.waitForFunction(() => {
  const { map } = window.__citytwin;
  map.triggerRepaint();
  return map.loaded() && !map.isMoving() && map.areTilesLoaded();
}, null, { timeout: IDLE_MS, polling: 100 });

/** rendered returns the live dots MapLibre draws: {id: [lon, lat]}. */
const rendered = (page) => page.evaluate(() => Object.fromEntries(window.__citytwin.map
  .queryRenderedFeatures({ layers: ['ct-live-dot'] }).map((f) => [f.properties.id, f.geometry.coordinates])));

describe('planner live layer', () => {
  let context, page;
  const errors = [];
  let centre;
  const t0 = Date.now() - 60000;
  const obj = (id, kind, dx, dy, at, heading) => ({
    id, layer: 'vehicles', lon: centre[0] + dx, lat: centre[1] + dy, heading, speed: 9.5,
    time: new Date(at).toISOString(), state: { kind, route: kind === 'bus' ? '23' : 'private', occupancy: 7 },
  });

  before(async () => {
    const style = (await call('GET', '/api/v1/style.json')).body;
    centre = style.center;
    assert.ok(Array.isArray(centre), 'the style has a centre');
    const res = await call('POST', '/api/v1/objects', [
      obj('e2e-bus-1', 'bus', 0.0005, 0.0003, t0, 90),
      obj('e2e-taxi-2', 'taxi', -0.0008, -0.0002, t0, 200),
      obj('e2e-car-3', 'car', 0.0002, -0.0006, t0, 10),
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 3);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(60000);
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(server.url + '/');
    await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: IDLE_MS });
  });
  after(async () => { await context?.close(); });

  test('objects in the view arrive over the websocket and are drawn', async () => {
    await page.waitForFunction(() => window.__citytwin.liveConnected === true && window.__citytwin.liveCount === 3, null, { timeout: 30000 });
    assert.deepEqual(await page.evaluate(() => window.__citytwin.liveLayers), { vehicles: 3 });
    const bus = await page.evaluate(() => window.__citytwin.liveObject('e2e-bus-1'));
    assert.ok(Math.abs(bus.lon - (centre[0] + 0.0005)) < 1e-9 && bus.heading === 90, JSON.stringify(bus));
    await idle(page);
    const dots = await rendered(page);
    assert.deepEqual(Object.keys(dots).sort(), ['e2e-bus-1', 'e2e-car-3', 'e2e-taxi-2']);
    const panel = await page.textContent('#live-objects');
    assert.match(panel, /Connected/);
    assert.match(panel, /vehicles\s*3/);
    assert.equal(await page.getAttribute('#live-objects', 'data-hook-state'), 'mounted');
  });

  test('a move is drawn at the new position', async () => {
    const before = (await rendered(page))['e2e-bus-1'];
    const res = await call('POST', '/api/v1/objects', [obj('e2e-bus-1', 'bus', 0.0015, 0.0003, t0 + 5000, 80)]);
    assert.equal(res.body.applied, 1, JSON.stringify(res.body));
    const want = centre[0] + 0.0015;
    await page.waitForFunction((lon) => Math.abs(window.__citytwin.liveObject('e2e-bus-1')?.lon - lon) < 1e-9, want, { timeout: 10000 });
    await idle(page);
    const after = (await rendered(page))['e2e-bus-1'];
    assert.ok(after, 'the bus is still drawn');
    assert.ok(Math.abs(after[0] - want) < 2e-5 && Math.abs(after[0] - before[0]) > 5e-4, `drawn at ${after}, before ${before}, want lon ${want}`);
    assert.equal(await page.evaluate(() => window.__citytwin.liveCount), 3);
  });

  test('clicking an object shows it in the inspector', async () => {
    const server = (await call('GET', '/api/v1/objects/e2e-bus-1')).body;
    const pt = await page.evaluate(() => {
      const { map } = window.__citytwin;
      const o = window.__citytwin.liveObject('e2e-bus-1');
      const p = map.project([o.lon, o.lat]);
      const r = map.getCanvas().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    });
    await page.mouse.click(pt.x, pt.y);
    await page.waitForFunction(() => document.querySelector('#inspector-title')?.textContent === 'e2e-bus-1');
    const body = await page.textContent('#inspector-body');
    for (const want of [server.code, '9.5 m/s', '80°', 'vehicles', 'occupancy', 'bus', '23']) {
      assert.ok(body.includes(want), `inspector lacks ${want}: ${body}`);
    }
    assert.equal(await page.textContent('#inspector-kicker'), 'Live · vehicles');
    assert.deepEqual(await page.evaluate(() => window.__citytwin.selected), { layer: 'vehicles', id: 'e2e-bus-1', live: true });
    await idle(page);
    await page.screenshot({ path: join(out, 'planner-live.png') });
    await page.click('#inspector-close');
  });

  test('a layer can be toggled off and on', async () => {
    await page.uncheck('input[data-live-layer="vehicles"]');
    await page.waitForFunction(() => window.__citytwin.liveObject('e2e-bus-1') === null);
    await idle(page);
    assert.deepEqual(await rendered(page), {});
    await page.check('input[data-live-layer="vehicles"]');
    await page.waitForFunction(() => window.__citytwin.liveObject('e2e-bus-1') !== null);
  });

  test('a removed object leaves', async () => {
    const res = await call('DELETE', '/api/v1/objects/e2e-car-3');
    assert.equal(res.status, 204);
    await page.waitForFunction(() => window.__citytwin.liveCount === 2, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.__citytwin.liveObject('e2e-car-3')), null);
    await idle(page);
    assert.deepEqual(Object.keys(await rendered(page)).sort(), ['e2e-bus-1', 'e2e-taxi-2']);
    assert.match(await page.textContent('#live-objects'), /vehicles\s*2/);
  });

  test('moving the view re-subscribes to the new box', async () => {
    await page.evaluate(([lng, lat]) => window.__citytwin.map.jumpTo({ center: [lng + 0.2, lat + 0.2], zoom: 16 }), centre);
    await page.waitForFunction(() => window.__citytwin.liveCount === 0, null, { timeout: 10000 });
    // An object posted outside the view does not arrive.
    await call('POST', '/api/v1/objects', [obj('e2e-far-4', 'truck', 0.05, 0.05, t0, 0)]);
    await page.evaluate(([lng, lat]) => window.__citytwin.map.jumpTo({ center: [lng, lat], zoom: 16 }), centre);
    await page.waitForFunction(() => window.__citytwin.liveCount === 2, null, { timeout: 10000 });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await page.evaluate(() => window.__citytwin.liveCount), 2);
    assert.deepEqual(errors, [], 'page errors');
  });
});
