// Browser test of the planner's geofences panel (src/hooks/fences.js) and
// the selected live object's trail (src/hooks/live-objects.js) in real
// headless Chromium against a real `citytwin serve`: fences posted to
// /api/v1/fences are listed and drawn, a vehicle driving into a polygon
// fence raises a fence.enter event in the feed, and the clicked vehicle's
// trail comes from its history and grows with its new states.
//
// The screenshot goes to ./out (or $CITYTWIN_E2E_OUT) as planner-fences.png.
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
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-fences-'));
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
}, null, { timeout: IDLE_MS });

/** drawnFences returns the ids of the fences MapLibre draws, sorted. */
const drawnFences = (page) => page.evaluate(() => [...new Set(window.__citytwin.map
  .queryRenderedFeatures({ layers: ['ct-fences-line'] }).map((f) => f.properties.id))].sort());

/** screen returns the page coordinates of a map position. */
const screen = (page, lngLat) => page.evaluate((ll) => {
  const { map } = window.__citytwin;
  const p = map.project(ll);
  const r = map.getCanvas().getBoundingClientRect();
  return { x: r.left + p.x, y: r.top + p.y };
}, lngLat);

describe('planner geofences and trails', () => {
  let context, page;
  const errors = [];
  let centre;
  const van = (dx, dy, agoMs) => ({
    id: 'e2e-van', layer: 'vehicles', lon: centre[0] + dx, lat: centre[1] + dy, heading: 270, speed: 6,
    time: new Date(Date.now() - agoMs).toISOString(), state: { kind: 'truck' },
  });

  before(async () => {
    const style = (await call('GET', '/api/v1/style.json')).body;
    centre = style.center;
    assert.ok(Array.isArray(centre), 'the style has a centre');
    const [x, y] = centre;
    const cell = (await call('GET', `/api/v1/grid/locate?lon=${x - 0.002}&lat=${y - 0.0012}&scheme=geosot&level=18`)).body;
    const defs = [
      { id: 'e2e-poly', name: 'E2E polygon', layers: ['vehicles'],
        geometry: { type: 'Polygon', coordinates: [[[x - 0.0012, y - 0.0009], [x + 0.0012, y - 0.0009], [x + 0.0012, y + 0.0009], [x - 0.0012, y + 0.0009], [x - 0.0012, y - 0.0009]]] } },
      { id: 'e2e-circle', name: 'E2E circle', geometry: { type: 'Point', coordinates: [x - 0.0025, y + 0.0012] }, radius: 60 },
      { id: 'e2e-grid', grid: cell.code, detect: ['enter', 'exit'] },
      { id: 'e2e-roam', name: 'E2E roaming', roam: { layer: 'ambulances', near: { layer: 'buses' }, meters: 50 } },
    ];
    for (const d of defs) {
      const res = await call('POST', '/api/v1/fences', d);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(60000);
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('dialog', (d) => d.accept());
    await page.goto(server.url + '/');
    await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: IDLE_MS });
    await page.evaluate((c) => window.__citytwin.map.jumpTo({ center: c, zoom: 16 }), centre);
  });
  after(async () => { await context?.close(); });

  test('fences are listed and the static ones drawn', async () => {
    await page.waitForFunction(() => window.__citytwin.fenceCount === 4, null, { timeout: 30000 });
    assert.equal(await page.getAttribute('#fences', 'data-hook-state'), 'mounted');
    const panel = await page.textContent('#fences');
    for (const want of ['E2E polygon', 'E2E circle', 'e2e-grid', 'E2E roaming', 'circle 60 m', 'roaming · ambulances near buses', 'vehicles']) {
      assert.ok(panel.includes(want), `panel lacks ${want}: ${panel}`);
    }
    await idle(page);
    assert.deepEqual(await drawnFences(page), ['e2e-circle', 'e2e-grid', 'e2e-poly']);
    const fill = await page.evaluate(() => window.__citytwin.map.queryRenderedFeatures({ layers: ['ct-fences-fill'] }).length);
    assert.ok(fill >= 3, `fence fills drawn: ${fill}`);
    // A roaming fence has no area: its checkbox is disabled.
    assert.equal(await page.isDisabled('li[data-fence="e2e-roam"] input'), true);
  });

  test('fences can be hidden one by one and all together', async () => {
    await page.uncheck('li[data-fence="e2e-poly"] input');
    await idle(page);
    assert.deepEqual(await drawnFences(page), ['e2e-circle', 'e2e-grid']);
    await page.check('li[data-fence="e2e-poly"] input');
    await page.uncheck('#fence-all');
    await idle(page);
    assert.deepEqual(await drawnFences(page), []);
    await page.check('#fence-all');
    await idle(page);
    assert.deepEqual(await drawnFences(page), ['e2e-circle', 'e2e-grid', 'e2e-poly']);
  });

  test('a vehicle driving into a fence raises fence.enter in the feed', async () => {
    await page.waitForFunction(() => window.__citytwin.fenceFeed === 'subscribed' && window.__citytwin.liveConnected, null, { timeout: 30000 });
    let res = await call('POST', '/api/v1/objects', [van(0.0025, 0, 30000)]);
    assert.equal(res.body.applied, 1, JSON.stringify(res.body));
    await page.waitForFunction(() => window.__citytwin.liveObject('e2e-van') !== null, null, { timeout: 10000 });
    res = await call('POST', '/api/v1/objects', [van(0, 0, 20000)]);
    assert.equal(res.body.applied, 1, JSON.stringify(res.body));
    await page.waitForFunction(() => window.__citytwin.fenceEvents.some((e) => e.type === 'fence.enter' && e.fence === 'e2e-poly' && e.object.id === 'e2e-van'), null, { timeout: 10000 });
    const ev = await page.evaluate(() => window.__citytwin.fenceEvents.find((e) => e.fence === 'e2e-poly'));
    assert.equal(ev.name, 'E2E polygon');
    assert.ok(Math.abs(ev.object.lon - centre[0]) < 1e-9, JSON.stringify(ev));
    await page.waitForFunction(() => /enter/i.test(document.querySelector('.fence-events')?.textContent || ''));
    const feed = await page.textContent('.fence-events');
    assert.ok(feed.includes('E2E polygon') && feed.includes('e2e-van'), feed);
  });

  test('clicking a vehicle draws its trail, which grows with new states', async () => {
    await page.waitForFunction((lon) => Math.abs(window.__citytwin.liveObject('e2e-van')?.lon - lon) < 1e-9, centre[0], { timeout: 10000 });
    await idle(page);
    const pt = await screen(page, centre);
    await page.mouse.click(pt.x, pt.y);
    await page.waitForFunction(() => document.querySelector('#inspector-title')?.textContent === 'e2e-van');
    await page.waitForFunction(() => window.__citytwin.trailPoints >= 2, null, { timeout: 10000 });
    // A new state is appended at once (the history is refetched later).
    const res = await call('POST', '/api/v1/objects', [van(-0.0008, 0.0004, 10000)]);
    assert.equal(res.body.applied, 1, JSON.stringify(res.body));
    await page.waitForFunction(() => window.__citytwin.trailPoints >= 3, null, { timeout: 10000 });
    await idle(page);
    const lines = await page.evaluate(() => window.__citytwin.map.queryRenderedFeatures({ layers: ['ct-trail-line'] }).length);
    assert.ok(lines >= 1, 'the trail is drawn');
    assert.match(await page.textContent('#inspector-body'), /Trail[\s\S]*3 positions/);
    await page.click('button[data-trail="60"]');
    await page.waitForFunction(() => window.__citytwin.trailWindow === 60 && window.__citytwin.trailPoints === 3);
    await page.screenshot({ path: join(out, 'planner-fences.png') });
    // Another selection clears it.
    await page.click('#inspector-close');
    await page.waitForFunction(() => window.__citytwin.trailPoints === 0);
  });

  test('clicking an event flies to the object', async () => {
    await page.evaluate(([x, y]) => window.__citytwin.map.jumpTo({ center: [x + 0.01, y + 0.01] }), centre);
    const i = await page.evaluate(() => window.__citytwin.fenceEvents.findIndex((e) => e.type === 'fence.enter' && e.fence === 'e2e-poly'));
    const ev = await page.evaluate((n) => window.__citytwin.fenceEvents[n], i);
    await page.click(`.fence-events li:nth-child(${i + 1}) button`);
    await page.waitForFunction(([x, y]) => {
      const { map } = window.__citytwin;
      const c = map.getCenter();
      return !map.isMoving() && Math.abs(c.lng - x) < 1e-6 && Math.abs(c.lat - y) < 1e-6;
    }, [ev.object.lon, ev.object.lat], { timeout: 10000 });
  });

  test('a fence drawn as a rectangle is created and deleted from the page', async () => {
    if (await page.isVisible('#inspector')) await page.click('#inspector-close');
    await idle(page);
    await page.click('#fence-new');
    assert.equal(await page.evaluate(() => window.__citytwin.drawingFence), true);
    await page.fill('.fence-new input', 'E2E drawn');
    const a = await screen(page, [centre[0] + 0.0015, centre[1] + 0.0011]);
    const b = await screen(page, [centre[0] + 0.0030, centre[1] + 0.0020]);
    await page.mouse.click(a.x, a.y);
    await page.mouse.move(b.x, b.y, { steps: 3 });
    await page.mouse.click(b.x, b.y);
    await page.waitForFunction(() => window.__citytwin.fenceCount === 5, null, { timeout: 10000 });
    assert.equal(await page.isHidden('#inspector'), true, 'drawing does not open the inspector');
    const made = (await call('GET', '/api/v1/fences')).body.fences.find((f) => f.name === 'E2E drawn');
    assert.ok(made && made.geometry.type === 'Polygon', JSON.stringify(made));
    await idle(page);
    assert.ok((await drawnFences(page)).includes(made.id));
    await page.click(`li[data-fence="${made.id}"] .fence-del`);
    await page.waitForFunction(() => window.__citytwin.fenceCount === 4, null, { timeout: 10000 });
    assert.equal((await call('GET', `/api/v1/fences/${made.id}`)).status, 404);
    assert.deepEqual(errors, [], 'page errors');
  });
});

describe('planner fence writes on a server with tokens', () => {
  const TOKEN = 'e2e-admin-token-0123456789';
  let server2, context, page;
  const errors = [];

  before(async () => {
    server2 = await startServer(buildServer(tmp), join(tmp, 'data2'), { args: ['--admin-token', TOKEN] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(60000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server2.url + '/');
    await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.fenceCount === 0, null, { timeout: IDLE_MS });
  });
  after(async () => {
    await context?.close();
    await server2?.stop();
  });

  test('a write without a token asks for one, and succeeds with it', async () => {
    const { width, height } = await page.evaluate(() => ({ width: innerWidth, height: innerHeight }));
    await page.click('#fence-new');
    await page.mouse.click(width * 0.5, height * 0.45);
    await page.mouse.click(width * 0.6, height * 0.55);
    await page.waitForFunction(() => /bearer token/.test(document.querySelector('.fence-msg')?.textContent || ''));
    assert.equal(await page.isVisible('.fence-token input'), true);
    assert.equal(await page.evaluate(() => window.__citytwin.fenceCount), 0);
    await page.fill('.fence-token input', TOKEN);
    await page.click('.fence-token button');
    await page.waitForFunction(() => window.__citytwin.fenceCount === 1, null, { timeout: 10000 });
    assert.equal(await page.isHidden('.fence-token'), true);
    assert.deepEqual(errors, [], 'page errors');
  });
});
