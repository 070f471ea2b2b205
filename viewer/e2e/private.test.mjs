// Browser test of the viewers against `citytwin serve --tokens FILE
// --private-reads`, where every read needs a bearer token: the planner shows
// its sign-in banner and loads no tiles until a token is entered, then draws
// the city and the live objects; the officer page loads its grid with the
// token from its settings (and asks for one without it). A default server
// shows no banner.
//
// The screenshot goes to ./out (or $CITYTWIN_E2E_OUT) as planner-private.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildServer, chromiumArgs, chromiumPath, idle, startServer } from './browser.mjs';

const out = process.env.CITYTWIN_E2E_OUT || join(dirname(fileURLToPath(import.meta.url)), 'out');
const IDLE_MS = 90000;
const TOKEN = 'e2e-viewer-private-0123456789';
const DEVICE = 'e2e-device-private-0123456789';
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TILE = /\/api\/v1\/tiles\/.+\.mvt/;

let tmp, bin, server, plain, browser;

async function call(srv, method, path, body, token) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(srv.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-private-'));
  bin = buildServer(tmp);
  writeFileSync(join(tmp, 'tokens'), `${TOKEN} viewer e2e-viewer\n${DEVICE} device e2e-device\n`, { mode: 0o600 });
  server = await startServer(bin, join(tmp, 'data'), { args: ['--tokens', join(tmp, 'tokens'), '--private-reads'] });
  plain = await startServer(bin, join(tmp, 'plain'));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await plain?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** open loads a page, recording the tile responses. */
async function open(context, url) {
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  const tiles = [];
  page.on('response', (r) => { if (TILE.test(r.url())) tiles.push({ url: r.url(), status: r.status() }); });
  await page.goto(url);
  return { page, tiles };
}

describe('--private-reads', () => {
  test('the server wants a token for reads', async () => {
    const res = await call(server, 'GET', '/api/v1/style.json');
    assert.equal(res.status, 401);
    assert.ok(res.body.error, JSON.stringify(res.body));
    assert.equal((await call(server, 'GET', '/api/v1/style.json', null, TOKEN)).status, 200);
  });

  test('planner: sign in with a token, then tiles and live objects', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const { page, tiles } = await open(context, server.url + '/');
      await page.waitForSelector('#signin', { state: 'visible' });
      await page.waitForTimeout(1000);
      assert.deepEqual(tiles, [], 'no tiles before signing in');
      assert.equal(await page.evaluate(() => window.__citytwin.firstIdleMs), null);

      await page.fill('#signin-token', TOKEN);
      await page.click('#signin button[type=submit]');
      await page.waitForFunction(() => window.__citytwin.firstIdleMs != null, null, { timeout: IDLE_MS });
      await idle(page, IDLE_MS);
      assert.ok(await page.isHidden('#signin'), 'the banner is gone');
      assert.ok(tiles.some((r) => r.status === 200), `no tile answered 200: ${JSON.stringify(tiles.slice(0, 5))}`);
      assert.deepEqual(tiles.filter((r) => r.status >= 400), []);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('citytwin-token')), TOKEN);

      await page.waitForFunction(() => window.__citytwin.liveConnected === true, null, { timeout: 30000 });
      const [lon, lat] = await page.evaluate(() => window.__citytwin.map.getCenter().toArray());
      const obj = { id: 'e2e-private-car', layer: 'vehicles', lon, lat, heading: 45, speed: 8, time: new Date().toISOString(), state: { kind: 'car' } };
      assert.equal((await call(server, 'POST', '/api/v1/objects', [obj])).status, 401, 'a write without a token');
      const res = await call(server, 'POST', '/api/v1/objects', [obj], DEVICE);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await page.waitForFunction(() => window.__citytwin.liveCount >= 1 && window.__citytwin.liveObject('e2e-private-car'), null, { timeout: 30000 });
      await page.screenshot({ path: join(out, 'planner-private.png') });
    } finally {
      await context.close();
    }
  });

  test('officer: the settings token loads the grid; without one the banner asks', async () => {
    const context = await browser.newContext(phone);
    try {
      const { page } = await open(context, server.url + '/officer?demo=1');
      await page.waitForSelector('#signin', { state: 'visible' });
      assert.equal(await page.evaluate(() => window.__citytwin.grid), null);
      // The token in the settings, as the settings dialog keeps it.
      await page.evaluate((token) => localStorage.setItem('citytwin-officer', JSON.stringify({ id: '', name: '', token })), TOKEN);
      await page.reload();
      await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.grid != null, null, { timeout: IDLE_MS });
      assert.ok(await page.isHidden('#signin'), 'no banner with the settings token');
      assert.match(await page.textContent('#grid-code'), /\S/);
      await page.waitForFunction(() => window.__citytwin.officersConnected === true, null, { timeout: 30000 });
    } finally {
      await context.close();
    }
  });

  test('officer: signing in through the banner stores the token in the settings', async () => {
    const context = await browser.newContext(phone);
    try {
      const { page } = await open(context, server.url + '/officer?demo=1');
      await page.waitForSelector('#signin', { state: 'visible' });
      await page.fill('#signin-token', TOKEN);
      await page.tap('#signin button[type=submit]');
      await page.waitForFunction(() => window.__citytwin.firstIdleMs != null && window.__citytwin.grid != null, null, { timeout: IDLE_MS });
      assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('citytwin-officer'))).token, TOKEN);
    } finally {
      await context.close();
    }
  });
});

describe('default server (public reads)', () => {
  test('no sign-in banner on either page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const { page, tiles } = await open(context, plain.url + '/');
      await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null, null, { timeout: IDLE_MS });
      await idle(page, IDLE_MS);
      await page.waitForFunction(() => window.__citytwin.liveConnected === true, null, { timeout: 30000 });
      assert.ok(await page.isHidden('#signin'));
      assert.ok(tiles.some((r) => r.status === 200));
      const officer = await context.newPage();
      await officer.goto(plain.url + '/officer?demo=1');
      await officer.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.grid != null, null, { timeout: IDLE_MS });
      assert.ok(await officer.isHidden('#signin'));
    } finally {
      await context.close();
    }
  });
});
