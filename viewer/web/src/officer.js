// The officer's phone viewer (served at /officer): a full-screen map at the
// officer's position, the unit grids around them outlined, the grid they
// stand in in a bottom sheet. Without a GPS fix (no permission, no device,
// or a position outside the city) it falls back to a demo position in the
// sample district. ?lat=&lon= pins a position; ?demo=1 skips the GPS.
// Sharing the officer's position and showing colleagues: officer-live.js;
// case work in the officer's grid: officer-cases.js (the 'cases' hook).
import { AttributionControl, Map as MapLibreMap } from 'maplibre-gl';
import { API, denied, emptyFC, fmt, getJSON, transformRequest, useToken } from './lib/common.js';
import { mountHooks, notifyHooks, registerHook } from './lib/hooks.js';
import { loadSettings, saveToken, startLive, watchDevice } from './officer-live.js';
import './officer-cases.js';
import './officer.css';

const $ = (id) => document.getElementById(id);
const DEMO = { lng: 121.63995, lat: 38.92007 }; // 北岭社区, 中山区 of the sample city
const NEAR = 0.006; // degrees of longitude around the officer whose grids are drawn
const GPS_WAIT_MS = 6000;

const params = new URLSearchParams(location.search);
const pinned = params.has('lat') && params.has('lon') ? { lng: +params.get('lon'), lat: +params.get('lat') } : null;
const start = pinned || DEMO;

const ct = (window.__citytwin = { map: null, firstIdleMs: null, position: null, grid: null, registerHook });

// Servers with --private-reads answer 401 without a token: every request
// carries the settings' access token, and a 401 shows the sign-in banner,
// which saves the token into the settings.
let loaded = false; // the style has loaded once
useToken(() => loadSettings().token, () => {
  const form = $('signin');
  if (!form.hidden) return;
  $('signin-msg').textContent = loadSettings().token ? 'That token was not accepted.' : '';
  form.hidden = false;
  ct.signIn = true;
});
$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('signin-token').value.trim();
  if (!t) return;
  saveToken(t);
  $('signin').hidden = true;
  $('signin-token').value = '';
  ct.signIn = false;
  if (!loaded) { map.setStyle(`${API}/style.json`, { diff: false }); return; }
  if (ct.position) loadGrids(ct.position);
  notifyHooks('signedIn');
});

const map = new MapLibreMap({
  container: 'map',
  style: `${API}/style.json`,
  transformRequest,
  center: [start.lng, start.lat],
  zoom: 16,
  pitch: 0,
  maxPitch: 0,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
  attributionControl: false,
});
ct.map = map;
map.touchZoomRotate.disableRotation();
map.keyboard.disableRotation();
map.addControl(new AttributionControl({ compact: false }), 'top-right');
map.once('idle', () => { ct.firstIdleMs = Math.round(performance.now()); });

let cityBounds = null; // [w,s,e,n] of the unit grids
let fetchedAt = null; // where the grids were last fetched
let gpsSeen = false;

// The map's padding keeps the officer's position clear of the bar and the
// sheet: centring puts it in the middle of what is visible.
const padding = () => ({ top: 56, bottom: $('sheet').offsetHeight, left: 0, right: 0 });
const centreOn = (p) => map.easeTo({ center: [p.lng, p.lat], zoom: Math.max(map.getZoom(), 16), padding: padding(), duration: 600 });

const inCity = (p) => !cityBounds || (p.lng >= cityBounds[0] && p.lng <= cityBounds[2] && p.lat >= cityBounds[1] && p.lat <= cityBounds[3]);
const metres = (a, b) => Math.hypot((a.lng - b.lng) * 111320 * Math.cos(a.lat * Math.PI / 180), (a.lat - b.lat) * 110540);

function addOverlays() {
  map.addSource('me-grids', { type: 'geojson', data: emptyFC() });
  map.addSource('me-grid', { type: 'geojson', data: emptyFC() });
  map.addSource('me', { type: 'geojson', data: emptyFC() });
  map.addLayer({ id: 'me-grids-fill', type: 'fill', source: 'me-grids', paint: { 'fill-color': '#f97316', 'fill-opacity': 0.05 } });
  map.addLayer({ id: 'me-grids-line', type: 'line', source: 'me-grids', paint: { 'line-color': '#ea580c', 'line-width': 1.5, 'line-opacity': 0.85 } });
  map.addLayer({ id: 'me-grid-fill', type: 'fill', source: 'me-grid', paint: { 'fill-color': '#2563eb', 'fill-opacity': 0.12 } });
  map.addLayer({ id: 'me-grid-line', type: 'line', source: 'me-grid', layout: { 'line-join': 'round' }, paint: { 'line-color': '#1d4ed8', 'line-width': 4 } });
  map.addLayer({ id: 'me-accuracy', type: 'circle', source: 'me', paint: {
    // metres to pixels: 512-pixel tiles, 40 075 km around the equator
    'circle-radius': ['interpolate', ['exponential', 2], ['zoom'], 0, ['get', 'acc_px0'], 22, ['*', ['get', 'acc_px0'], 4194304]],
    'circle-color': '#3b82f6', 'circle-opacity': 0.14, 'circle-stroke-color': '#3b82f6', 'circle-stroke-width': 1, 'circle-stroke-opacity': 0.4,
  } });
  map.addLayer({ id: 'me-dot', type: 'circle', source: 'me', paint: {
    'circle-radius': 8, 'circle-color': ['case', ['get', 'demo'], '#6b7280', '#2563eb'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 3,
  } });
}

function setFix(text, kind) {
  const el = $('fix');
  el.textContent = text;
  el.dataset.kind = kind;
}

/** setPosition moves the officer and reloads their grids when needed. */
function setPosition(p, how, centre) {
  ct.position = { ...p, source: how };
  const acc = p.accuracy || 0;
  const px0 = acc / (40075016.686 * Math.cos(p.lat * Math.PI / 180) / 512);
  map.getSource('me').setData({ type: 'Feature', properties: { acc_px0: px0, demo: how !== 'gps' },
    geometry: { type: 'Point', coordinates: [p.lng, p.lat] } });
  if (centre) centreOn(p);
  if (!fetchedAt || metres(fetchedAt, p) > 25) loadGrids(p);
}

function fallback(reason) {
  if (gpsSeen) return;
  setFix(`${reason} · demo position`, 'demo');
  setPosition(pinned || DEMO, pinned ? 'pinned' : 'demo', true);
}

async function loadGrids(p) {
  fetchedAt = p;
  const bbox = [p.lng - NEAR, p.lat - NEAR * 0.78, p.lng + NEAR, p.lat + NEAR * 0.78].map((v) => v.toFixed(6)).join(',');
  const here = JSON.stringify({ type: 'Point', coordinates: [p.lng, p.lat] });
  try {
    const [around, inside] = await Promise.all([
      getJSON(`${API}/layers/grids/features`, { bbox, limit: 300 }),
      getJSON(`${API}/layers/grids/features`, { intersects: here, limit: 1 }),
    ]);
    map.getSource('me-grids').setData(around);
    showGrid(inside.features[0] || null);
  } catch (e) {
    $('grid-place').textContent = `Could not load grids: ${e.message}`;
  }
}

async function showGrid(g) {
  map.getSource('me-grid').setData(g || emptyFC());
  const code = g ? g.properties.code || String(g.id) : null;
  if (code === ct.grid && g) return;
  ct.grid = code;
  notifyHooks('gridChanged', g);
  const facts = $('grid-facts');
  if (!g) {
    $('grid-code').textContent = '—';
    $('grid-place').textContent = 'Not inside a unit grid';
    facts.replaceChildren();
    return;
  }
  const p = g.properties;
  $('grid-code').textContent = code;
  $('grid-place').textContent = [p.community, p.street].filter(Boolean).join(' · ');
  const row = (k, v, cls) => [Object.assign(document.createElement('dt'), { textContent: k }),
    Object.assign(document.createElement('dd'), { textContent: v, className: cls || '' })];
  const rows = [
    row('Community', `${p.community || '—'}  ${p.community_code || ''}`),
    row('Street', `${p.street || '—'}  ${p.street_code || ''}`),
    row('District', p.district_code || '—'),
    row('Area', p.area_m2 ? `${fmt(Math.round(p.area_m2))} m²` : '—'),
    row('Officer', p.officer_id || 'unassigned'),
    row('GeoSOT', p.gridcode || '—', 'mono'),
  ];
  facts.replaceChildren(...rows.flat());
  try {
    const b = await getJSON(`${API}/layers/buildings/features`, { filter: `grid=${code}`, limit: 1000 });
    if (ct.grid === code) facts.append(...row('Buildings', fmt(b.numberReturned)));
  } catch { /* the count is a nicety */ }
}

function startGPS() {
  if (!('geolocation' in navigator)) { fallback('No location on this device'); return; }
  const timer = setTimeout(() => fallback('No GPS fix yet'), GPS_WAIT_MS);
  watchDevice((pos) => {
    const p = { lng: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy };
    if (!inCity(p)) { clearTimeout(timer); fallback('Outside the city'); return; }
    clearTimeout(timer);
    const first = !gpsSeen;
    gpsSeen = true;
    setFix(`GPS ±${Math.round(p.accuracy)} m`, 'gps');
    setPosition(p, 'gps', first);
  }, (err) => {
    clearTimeout(timer);
    fallback(err.code === err.PERMISSION_DENIED ? 'Location denied' : 'No GPS fix');
  });
}

map.on('load', async () => {
  loaded = true;
  addOverlays();
  startLive({ map, ct });
  try { cityBounds = (await getJSON(`${API}/layers/grids`)).bounds; } catch { /* then any position counts */ }
  if (pinned || params.get('demo') === '1') fallback(pinned ? 'Pinned' : 'Demo');
  else startGPS();
  mountHooks({ map, position: () => ct.position, grid: () => ct.grid });
});

$('locate').addEventListener('click', () => {
  const p = ct.position;
  if (p) centreOn(p);
  if (!gpsSeen && !pinned && 'geolocation' in navigator) {
    setFix('Locating…', 'wait');
    navigator.geolocation.getCurrentPosition((pos) => {
      const q = { lng: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy };
      if (!inCity(q)) { setFix('Outside the city · demo position', 'demo'); return; }
      gpsSeen = true;
      setFix(`GPS ±${Math.round(q.accuracy)} m`, 'gps');
      setPosition(q, 'gps', true);
    }, () => setFix(`${p && p.source === 'demo' ? 'No GPS' : 'Location denied'} · demo position`, 'demo'), { enableHighAccuracy: true, timeout: 10000 });
  }
});
map.on('error', (e) => { if (e.error?.status === 401) denied(); });
$('zoom-in').addEventListener('click', () => map.zoomIn());
$('zoom-out').addEventListener('click', () => map.zoomOut());
$('sheet-toggle').addEventListener('click', () => {
  const open = $('sheet').dataset.state !== 'open';
  $('sheet').dataset.state = open ? 'open' : 'peek';
  $('sheet-toggle').setAttribute('aria-expanded', String(open));
  map.easeTo({ padding: padding(), duration: 250 });
});
