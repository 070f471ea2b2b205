// Browser test of the officer page's live part (src/officer-live.js) in real
// headless Chromium against a real `citytwin serve`, on a 390×844 phone with
// an emulated GPS: "Share my location" posts the officer's position to
// /api/v1/objects (layer officers) and follows moves; colleagues posted
// through the API are drawn with their names, the officer themself not; a
// server with --admin-token asks for a token and then accepts the updates.
//
// The screenshot goes to ./out (or $CITYTWIN_E2E_OUT) as officer-live.png.
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
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let tmp, bin, server, browser;
let here; // {latitude, longitude}: the centre of a unit grid of the sample city

before(async () => {
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-officer-live-'));
  bin = buildServer(tmp);
  server = await startServer(bin, join(tmp, 'data'));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  const g = (await call(server, 'GET', '/api/v1/layers/grids/features?limit=1&filter=community=锦绣社区')).body.features[0];
  const ring = g.geometry.coordinates[0].slice(0, -1);
  const [lng, lat] = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
  here = { latitude: lat, longitude: lng };
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function call(srv, method, path, body, token) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(srv.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const idle = (page) => page.waitForFunction(() => {
  const { map } = window.__citytwin;
  map.triggerRepaint();
  return map.loaded() && !map.isMoving() && map.areTilesLoaded();
}, null, { timeout: IDLE_MS, polling: 100 });

/** waitFor polls fn until it returns something truthy. */
async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function openOfficer(context, srv, errors) {
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(srv.url + '/officer');
  await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.officersConnected === true, null, { timeout: IDLE_MS });
  return page;
}

/** smallTargets lists visible controls under 48 px either way. */
const smallTargets = (page) => page.$$eval('button, a[href], input, select, textarea, [role=button], [role=switch]', (els) => els
  .filter((e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
  .map((e) => ({ what: e.id || e.className || e.tagName, r: e.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && (r.width < 48 || r.height < 48))
  .map(({ what, r }) => `${what} ${r.width.toFixed(0)}×${r.height.toFixed(0)}`));

const noOverflow = async (page) => {
  const w = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth, body: document.body.scrollWidth, inner: innerWidth }));
  assert.ok(w.scroll <= 390 && w.body <= 390, `horizontal overflow: ${JSON.stringify(w)}`);
};

describe('officer: share my location and colleagues', () => {
  let context, page;
  const errors = [];
  const ME = 'e2e-officer-7';

  before(async () => {
    context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { ...here, accuracy: 8 } });
    page = await openOfficer(context, server, errors);
  });
  after(async () => { await context?.close(); });

  test('off by default; turning it on asks for the officer id, then sends the position', async () => {
    assert.equal(await page.evaluate(() => window.__citytwin.sharing), false);
    assert.equal(await page.getAttribute('#share', 'aria-checked'), 'false');
    assert.match(await page.textContent('#share-status'), /Not sharing/);
    await noOverflow(page);
    assert.deepEqual(await smallTargets(page), [], 'touch targets under 48 px');

    await page.tap('#share');
    await page.waitForSelector('#share-dialog[open]');
    assert.match(await page.textContent('#share-msg'), /officer id/);
    assert.deepEqual(await smallTargets(page), [], 'touch targets under 48 px in the settings');
    await noOverflow(page);
    // Saving without an id is refused.
    await page.tap('#share-save');
    assert.equal(await page.isVisible('#share-dialog'), true);
    await page.fill('#set-id', ME);
    await page.fill('#set-name', 'Wang Li');
    await page.tap('#share-save');
    await page.waitForSelector('#share-dialog', { state: 'hidden' });
    await page.waitForFunction(() => window.__citytwin.lastSent != null, null, { timeout: 20000 });
    assert.equal(await page.evaluate(() => window.__citytwin.sharing), true);
    assert.equal(await page.getAttribute('#share', 'aria-checked'), 'true');
    assert.match(await page.textContent('#share-status'), /^Sharing · last sent \d\d:\d\d:\d\d$/);

    const o = await call(server, 'GET', `/api/v1/objects/${ME}`);
    assert.equal(o.status, 200, JSON.stringify(o.body));
    assert.equal(o.body.layer, 'officers');
    assert.ok(Math.abs(o.body.lon - here.longitude) < 1e-6 && Math.abs(o.body.lat - here.latitude) < 1e-6, JSON.stringify(o.body));
    assert.equal(o.body.state.name, 'Wang Li');
    assert.equal(o.body.state.accuracy_m, 8);
    assert.ok(Math.abs(Date.parse(o.body.time) - Date.now()) < 60000, `time ${o.body.time}`);
    const stored = await page.evaluate(() => [localStorage.getItem('citytwin-share'), JSON.parse(localStorage.getItem('citytwin-officer')).id]);
    assert.deepEqual(stored, ['1', ME]);
  });

  test('a move of more than 10 m reaches the server', async () => {
    const before = await page.evaluate(() => window.__citytwin.lastSent);
    const moved = { latitude: here.latitude + 0.0005, longitude: here.longitude + 0.0003, accuracy: 6 };
    await context.setGeolocation(moved);
    const after = await waitFor(async () => {
      const o = (await call(server, 'GET', `/api/v1/objects/${ME}`)).body;
      return Math.abs(o.lat - moved.latitude) < 1e-6 ? o : null;
    }, 'the server to see the move');
    assert.ok(Math.abs(after.lon - moved.longitude) < 1e-6);
    assert.equal(after.state.accuracy_m, 6);
    // at most one update every 5 s. The page records what it sent once the
    // server's answer is in, which can be a moment after the server has it.
    const sent = await waitFor(async () => {
      const s = await page.evaluate(() => window.__citytwin.lastSent);
      return s && s.lat === after.lat ? s : null;
    }, 'the page to record the move as sent');
    assert.equal(sent.lat, after.lat);
    assert.ok(Date.parse(sent.sentAt) - Date.parse(before.sentAt) >= 4900, `updates sent at ${before.sentAt} and ${sent.sentAt}`);
    const hist = await call(server, 'GET', `/api/v1/objects/${ME}/history`);
    assert.equal(hist.body.geometry.type, 'LineString', 'two positions in the history');
  });

  test('colleagues in the view are drawn with their names, I am not', async () => {
    const t = new Date().toISOString();
    const res = await call(server, 'POST', '/api/v1/objects', [
      { id: 'e2e-officer-8', layer: 'officers', lon: here.longitude - 0.0006, lat: here.latitude - 0.0002, time: t, state: { name: 'Li Na', accuracy_m: 5 } },
      { id: 'e2e-officer-far', layer: 'officers', lon: here.longitude + 0.2, lat: here.latitude + 0.2, time: t, state: { name: 'Far away' } },
      { id: 'e2e-bus-1', layer: 'vehicles', lon: here.longitude + 0.0004, lat: here.latitude, time: t, state: { kind: 'bus' } },
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await page.waitForFunction(() => window.__citytwin.officerCount === 1, null, { timeout: 20000 });
    assert.deepEqual(await page.evaluate(() => window.__citytwin.officers), ['e2e-officer-8']);
    await page.evaluate(([lng, lat]) => window.__citytwin.map.jumpTo({ center: [lng, lat], zoom: 16.5 }), [here.longitude, here.latitude]);
    await idle(page);
    const drawn = await page.evaluate(() => {
      const { map } = window.__citytwin;
      const ids = (l) => [...new Set(map.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties.id))].sort();
      return { dots: ids('officers-dot'), labels: ids('officers-label') };
    });
    assert.deepEqual(drawn, { dots: ['e2e-officer-8'], labels: ['e2e-officer-8'] });
    assert.equal(await page.evaluate(() => window.__citytwin.map.hasImage('officer:Li Na')), true);
    await noOverflow(page);
    assert.deepEqual(await smallTargets(page), [], 'touch targets under 48 px');
    await page.screenshot({ path: join(out, 'officer-live.png') });

    // A colleague that leaves (removed) disappears.
    assert.equal((await call(server, 'DELETE', '/api/v1/objects/e2e-officer-8')).status < 300, true);
    await page.waitForFunction(() => window.__citytwin.officerCount === 0, null, { timeout: 20000 });
  });

  test('remembered across a reload; turning it off stops', async () => {
    await page.reload();
    await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.sharing === true, null, { timeout: IDLE_MS });
    assert.equal(await page.evaluate(() => window.__citytwin.officerSettings().id), ME);
    await page.waitForFunction(() => ['ok', 'wait'].includes(window.__citytwin.shareState));
    await page.tap('#share');
    assert.equal(await page.evaluate(() => window.__citytwin.sharing), false);
    assert.equal(await page.evaluate(() => window.__citytwin.shareState), 'off');
    assert.equal(await page.evaluate(() => localStorage.getItem('citytwin-share')), '0');
    assert.deepEqual(errors, [], 'page errors');
  });
});

describe('officer: sharing on a server with tokens', () => {
  const TOKEN = 'e2e-admin-token-0123456789';
  const ME = 'e2e-officer-tok';
  let server2, context, page;
  const errors = [];

  before(async () => {
    server2 = await startServer(bin, join(tmp, 'data2'), { args: ['--admin-token', TOKEN] });
    context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { ...here, accuracy: 10 } });
    page = await openOfficer(context, server2, errors);
  });
  after(async () => {
    await context?.close();
    await server2?.stop();
  });

  test('without a token the sheet says one is needed; with it the position is sent', async () => {
    await page.tap('#share');
    await page.waitForSelector('#share-dialog[open]');
    await page.fill('#set-id', ME);
    await page.tap('#share-save');
    await page.waitForFunction(() => window.__citytwin.shareState === 'token', null, { timeout: 20000 });
    await page.waitForSelector('#share-dialog[open]');
    assert.match(await page.textContent('#share-msg'), /this server needs a device token to share your location/i);
    assert.match(await page.textContent('#share-status'), /needs a device token/);
    assert.equal(await page.evaluate(() => window.__citytwin.lastSent), null);
    assert.equal((await call(server2, 'GET', `/api/v1/objects/${ME}`)).status, 404);
    await noOverflow(page);
    await page.screenshot({ path: join(out, 'officer-live-token.png') });

    await page.fill('#set-token', TOKEN);
    await page.tap('#share-save');
    await page.waitForFunction(() => window.__citytwin.lastSent != null, null, { timeout: 20000 });
    assert.equal(await page.evaluate(() => window.__citytwin.shareState), 'ok');
    const o = await call(server2, 'GET', `/api/v1/objects/${ME}`);
    assert.equal(o.status, 200);
    assert.equal(o.body.layer, 'officers');

    // The colleagues' socket reconnected with ?access_token= and still works.
    const res = await call(server2, 'POST', '/api/v1/objects', { id: 'e2e-officer-9', layer: 'officers', lon: here.longitude + 0.0005,
      lat: here.latitude, time: new Date().toISOString(), state: { name: 'Zhao Lei' } }, TOKEN);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await page.waitForFunction(() => window.__citytwin.officersConnected && window.__citytwin.officerCount === 1, null, { timeout: 20000 });
    assert.deepEqual(errors.filter((e) => !/401|403/.test(e)), [], 'page errors');
  });
});
