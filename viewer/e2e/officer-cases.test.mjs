// Browser test of the officer page's case work (src/officer-cases.js) in
// real headless Chromium against a real `citytwin serve --tokens FILE`, on a
// 390×844 phone with an emulated GPS inside a unit grid of the sample city:
// the officer (token bound to the GeoSOT cell of their position) reports a
// case through the page, sees it in the list and on the map, works it to
// closed with the buttons (with a rework on the way); a case posted through
// the API arrives live with a toast; an officer bound elsewhere gets the
// token message on a transition.
//
// Screenshots go to ./out (or $CITYTWIN_E2E_OUT): officer-cases.png
// (the list), officer-case-detail.png, officer-case-report.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildServer, chromiumArgs, chromiumPath, startServer } from './browser.mjs';

const out = process.env.CITYTWIN_E2E_OUT || join(dirname(fileURLToPath(import.meta.url)), 'out');
const IDLE_MS = 90000;
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TOKEN = 'e2e-officer-here-0123456789';
const FAR_TOKEN = 'e2e-officer-far-0123456789';
const ME = 'wang.li';

let tmp, bin, server, browser;
let here; // {latitude, longitude}: the centre of a unit grid of the sample city

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
  tmp = mkdtempSync(join(tmpdir(), 'citytwin-e2e-officer-cases-'));
  bin = buildServer(tmp);
  // A first server (no tokens) finds the place and its GeoSOT cells.
  const probe = await startServer(bin, join(tmp, 'probe'));
  try {
    const g = (await call(probe, 'GET', '/api/v1/layers/grids/features?limit=1&filter=community=锦绣社区')).body.features[0];
    const ring = g.geometry.coordinates[0].slice(0, -1);
    const [lng, lat] = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
    here = { latitude: lat, longitude: lng };
    const cell = (await call(probe, 'GET', `/api/v1/grid/locate?lat=${lat}&lon=${lng}&level=15`)).body.code;
    const far = (await call(probe, 'GET', '/api/v1/grid/locate?lat=39.5&lon=122.5&level=15')).body.code;
    assert.ok(cell && far && cell !== far, `cells ${cell} ${far}`);
    writeFileSync(join(tmp, 'tokens'), `${TOKEN} officer ${ME} ${cell}\n${FAR_TOKEN} officer zhao.si ${far}\n`, { mode: 0o600 });
  } finally {
    await probe.stop();
  }
  server = await startServer(bin, join(tmp, 'data'), { args: ['--tokens', join(tmp, 'tokens')] });
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function openOfficer(context, srv, errors) {
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(srv.url + '/officer');
  await page.waitForFunction(() => window.__citytwin?.firstIdleMs != null && window.__citytwin.grid != null
    && window.__citytwin.caseFeed === 'subscribed', null, { timeout: IDLE_MS });
  return page;
}

async function settings(page, id, token) {
  await page.tap('#share-settings');
  await page.waitForSelector('#share-dialog[open]');
  await page.fill('#set-id', id);
  await page.fill('#set-token', token);
  await page.tap('#share-save');
  await page.waitForSelector('#share-dialog', { state: 'hidden' });
}

/** smallTargets lists visible controls under 48 px either way. */
const smallTargets = (page) => page.$$eval('button, a[href], input, select, textarea, [role=button], [role=switch]', (els) => els
  .filter((e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
  .map((e) => ({ what: e.id || e.className || e.tagName, r: e.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && (r.width < 48 || r.height < 48))
  .map(({ what, r }) => `${what} ${r.width.toFixed(0)}×${r.height.toFixed(0)}`));

const fits = async (page, where) => {
  const w = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth, body: document.body.scrollWidth,
    panel: document.getElementById('case-panel-body').scrollWidth }));
  assert.ok(w.scroll <= 390 && w.body <= 390 && w.panel <= 390, `horizontal overflow (${where}): ${JSON.stringify(w)}`);
  assert.deepEqual(await smallTargets(page), [], `touch targets under 48 px (${where})`);
};

const status = (page) => page.evaluate(() => window.__citytwin.caseDetail?.status);

/** step taps a case action and waits for the case to reach a status. */
async function step(page, to, want) {
  await page.tap(`#case-panel-body button[data-to="${to}"]`);
  await page.waitForFunction((s) => window.__citytwin.caseDetail?.status === s
    && !document.querySelector('#case-panel-body .case-actions button:disabled'), want, { timeout: 20000 });
}

describe('officer: case work', () => {
  let context, page, id;
  const errors = [];

  before(async () => {
    context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { ...here, accuracy: 8 } });
    page = await openOfficer(context, server, errors);
  });
  after(async () => { await context?.close(); });

  test('report a case through the page', async () => {
    assert.equal(await page.evaluate(() => window.__citytwin.caseCount), 0);
    await settings(page, ME, TOKEN);
    await fits(page, 'sheet');
    await page.tap('#case-report');
    await page.waitForSelector('#case-panel:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#rep-cat option').length > 5);
    // Without a title the page asks for one.
    await page.selectOption('#rep-cat', 'event:01');
    await page.tap('#rep-send');
    assert.match(await page.evaluate(() => window.__citytwin.caseMsg), /title/i);
    await page.fill('#rep-title', '垃圾堆放 e2e');
    await page.fill('#rep-desc', '路边垃圾');
    assert.match(await page.textContent('#rep-where'), /Your position/);
    // A point tapped on the map outside every unit grid is refused inline.
    await page.evaluate(() => window.__citytwin.map.jumpTo({ center: [122.5, 39.5] }));
    await page.tap('#rep-pick');
    await page.waitForFunction(() => window.__citytwin.casePicking === true);
    await page.touchscreen.tap(195, 250);
    await page.waitForSelector('#case-panel:not([hidden])');
    assert.match(await page.textContent('#rep-where'), /Point on the map/);
    await page.tap('#rep-send');
    await page.waitForFunction(() => /no unit grid/i.test(window.__citytwin.caseMsg), null, { timeout: 20000 });
    assert.match(await page.textContent('#case-panel-body .form-msg'), /This point is in no unit grid/);
    await page.tap('#rep-here');
    assert.match(await page.textContent('#rep-where'), /Your position/);
    await fits(page, 'report');
    await page.screenshot({ path: join(out, 'officer-case-report.png') });
    await page.tap('#rep-send');
    await page.waitForFunction(() => window.__citytwin.caseDetail != null, null, { timeout: 20000 });
    id = await page.evaluate(() => window.__citytwin.caseDetail.id);
    await page.waitForFunction((i) => window.__citytwin.caseCount === 1 && window.__citytwin.cases[0].id === i, id);

    const c = await call(server, 'GET', `/api/v1/cases/${id}`);
    assert.equal(c.status, 200);
    assert.equal(c.body.status, 'intake');
    assert.equal(c.body.title, '垃圾堆放 e2e');
    assert.equal(c.body.kind, 'event');
    assert.equal(c.body.category, '01');
    assert.equal(c.body.grid, await page.evaluate(() => window.__citytwin.grid));
    assert.ok(Math.abs(c.body.lon - here.longitude) < 1e-6 && Math.abs(c.body.lat - here.latitude) < 1e-6);
    assert.equal(c.body.log[0].by, ME);
    assert.equal(c.body.log[0].role, 'officer');
  });

  test('the detail shows the case and its place on the map', async () => {
    assert.equal(await page.textContent('#case-panel-title'), id);
    assert.match(await page.textContent('#case-panel-body'), /市容环境/);
    assert.match(await page.textContent('#case-panel-body'), /due in/);
    const marker = await page.evaluate(() => window.__citytwin.caseMarker);
    assert.ok(Math.abs(marker[0] - here.longitude) < 1e-6 && Math.abs(marker[1] - here.latitude) < 1e-6, JSON.stringify(marker));
    await page.waitForFunction(() => {
      const { map } = window.__citytwin;
      return !map.isMoving() && map.queryRenderedFeatures({ layers: ['case-sel-ring'] }).length === 1;
    }, null, { timeout: 20000 });
    await fits(page, 'detail');
    await page.screenshot({ path: join(out, 'officer-case-detail.png') });
  });

  test('work it to closed through the buttons', async () => {
    await step(page, 'registered', 'registered');
    assert.equal(await page.inputValue('#case-assignee'), ME, 'dispatch defaults to the officer');
    await page.fill('#case-assignee', 'zhang.san');
    await step(page, 'dispatched', 'dispatched');
    // handled needs a note
    await page.tap('#case-panel-body button[data-to="handled"]');
    assert.match(await page.evaluate(() => window.__citytwin.caseMsg), /note/);
    assert.equal(await status(page), 'dispatched');
    await page.fill('#case-note', '清理了一半');
    await step(page, 'handled', 'handled');
    await page.fill('#case-note', '仍有垃圾');
    await step(page, 'verified-rework', 'dispatched');
    await page.fill('#case-note', '清理完毕');
    await step(page, 'handled', 'handled');
    await step(page, 'verified', 'verified');
    await fits(page, 'detail verified');
    await step(page, 'closed', 'closed');
    assert.match(await page.textContent('#case-panel-body'), /This case is closed/);

    const c = (await call(server, 'GET', `/api/v1/cases/${id}`)).body;
    assert.equal(c.status, 'closed');
    assert.equal(c.assignee, 'zhang.san');
    assert.equal(c.reworks, 1);
    assert.deepEqual(c.log.map((l) => l.event), ['case.created', 'case.registered', 'case.dispatched', 'case.handled',
      'case.reworked', 'case.handled', 'case.verified', 'case.closed']);
    assert.ok(c.log.every((l) => l.by === ME && l.role === 'officer'), JSON.stringify(c.log));
    assert.equal(c.log[3].note, '清理了一半');
    assert.equal(c.log[4].note, '仍有垃圾');
    // The page's log shows the same.
    assert.equal(await page.$$eval('.case-log li', (l) => l.length), 8);
  });

  test('a case posted elsewhere arrives live with a toast, in the list and on the map', async () => {
    await page.tap('#case-back');
    await page.waitForSelector('#case-panel', { state: 'hidden' });
    const r = await call(server, 'POST', '/api/v1/cases', { kind: 'component', category: '01', title: '井盖缺失 e2e',
      lon: here.longitude + 0.0001, lat: here.latitude + 0.0001 }, TOKEN);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await page.waitForFunction((i) => window.__citytwin.caseCount === 2 && window.__citytwin.cases[0].id === i, r.body.id, { timeout: 20000 });
    assert.match(await page.evaluate(() => window.__citytwin.caseToast), new RegExp(`New case ${r.body.id}`));
    assert.equal(await page.isVisible('#case-toast'), true);
    assert.equal(await page.textContent('#case-count'), '1', 'open cases');
    // Only the open case is drawn.
    await page.waitForFunction((i) => {
      const { map } = window.__citytwin;
      const f = map.queryRenderedFeatures({ layers: ['cases-dot'] });
      return f.length === 1 && f[0].properties.id === i;
    }, r.body.id, { timeout: 20000 });
    // The list, newest first, with status chips.
    await page.tap('#cases-open');
    await page.waitForSelector(`.case-item[data-id="${r.body.id}"]`);
    assert.deepEqual(await page.$$eval('.case-item', (els) => els.map((e) => [e.dataset.id, e.querySelector('.chip').textContent])),
      [[r.body.id, 'intake'], [id, 'closed']]);
    await fits(page, 'list');
    await page.screenshot({ path: join(out, 'officer-cases.png') });
    // A move made elsewhere refreshes the detail shown.
    await page.tap(`.case-item[data-id="${r.body.id}"]`);
    await page.waitForFunction((i) => window.__citytwin.caseDetail?.id === i, r.body.id);
    assert.equal((await call(server, 'POST', `/api/v1/cases/${r.body.id}/transitions`, { to: 'registered' }, TOKEN)).status, 200);
    await page.waitForFunction(() => window.__citytwin.caseDetail?.status === 'registered', null, { timeout: 20000 });
    assert.equal(await page.isVisible('#case-panel-body button[data-to="dispatched"]'), true);
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'page errors (the 400 is the point outside every grid)');
  });
});

describe('officer: a case outside the officer\'s cells', () => {
  let context, page;
  const errors = [];

  before(async () => {
    context = await browser.newContext({ ...phone, permissions: ['geolocation'], geolocation: { ...here, accuracy: 8 } });
    page = await openOfficer(context, server, errors);
  });
  after(async () => { await context?.close(); });

  test('an officer bound elsewhere gets the token message on a transition', async () => {
    await settings(page, 'zhao.si', FAR_TOKEN);
    const r = await call(server, 'POST', '/api/v1/cases', { kind: 'event', category: '05', title: '占道经营 e2e',
      lon: here.longitude - 0.0001, lat: here.latitude }, TOKEN);
    assert.equal(r.status, 201);
    await page.waitForFunction((i) => window.__citytwin.cases.some((c) => c.id === i), r.body.id, { timeout: 20000 });
    await page.tap('#cases-open');
    await page.tap(`.case-item[data-id="${r.body.id}"]`);
    await page.waitForFunction((i) => window.__citytwin.caseDetail?.id === i, r.body.id);
    await page.tap('#case-panel-body button[data-to="registered"]');
    await page.waitForFunction(() => /officer token bound to this grid/.test(window.__citytwin.caseMsg), null, { timeout: 20000 });
    assert.match(await page.textContent('#case-panel-body .form-msg'), /officer token bound to this grid/);
    assert.doesNotMatch(await page.textContent('#case-panel-body'), /null|undefined/);
    assert.equal((await call(server, 'GET', `/api/v1/cases/${r.body.id}`)).body.status, 'intake');
    await fits(page, '403');
    await page.screenshot({ path: join(out, 'officer-case-403.png') });
    assert.deepEqual(errors.filter((e) => !/40[13]/.test(e)), [], 'page errors');
  });
});
