// The planner's viewer (served at /): a 3D city map from this server's
// style and vector tiles, an inspector with a feature's properties and its
// grid codes, search by grid code, id or address, a layer switcher, a
// legend and an "as of" date that reloads the tiles for another time.
import { AttributionControl, Map as MapLibreMap, NavigationControl, ScaleControl } from 'maplibre-gl';
import { API, CITY_TZ, boundsPolygon, cellSize, denied, emptyFC, fmt, geometryBounds, getJSON, h, locate, transformRequest, useToken } from './lib/common.js';
import { mountHooks, notifyHooks, registerHook } from './lib/hooks.js';
import './hooks/live-objects.js';
import { TOKEN_KEY } from './hooks/fences.js';
import './planner.css';

const $ = (id) => document.getElementById(id);

const LABELS = {
  sea: 'Sea', land_lowres: 'Land (overview)', land: 'Land', districts: 'District boundary',
  blocks: 'Blocks', grids: 'Unit grids', streets: 'Streets', buildings: 'Buildings',
  stations: 'Stations', sensors: 'Sensors',
};
const label = (layer) => LABELS[layer] || layer.replace(/[_-]/g, ' ');
// Layers a click falls through unless nothing else is there.
const BACKDROP = new Set(['sea', 'land', 'land_lowres', 'districts']);
// Properties that name a feature of another layer.
const REFS = { grid: 'grids', block: 'blocks', link: 'streets' };
// Shown first, in this order; the rest follow alphabetically.
const FIRST = ['name', 'name_zh', 'name_en', 'address', 'code', 'use', 'class', 'type', 'zone', 'height', 'floors',
  'year_built', 'status', 'community', 'street', 'grid', 'block', 'valid_from', 'valid_to'];
const HIDDEN = new Set(['layer', 'gridcode']);
// Grid codes shown for a clicked point: scheme, level, label.
const SELECTED = '#c026d3'; // selection: a colour no layer uses
const CELL = '#1d4ed8'; // outlined grid cells
const CODES = [
  ['geosot', 15, 'GeoSOT'], ['geosot', 19, 'GeoSOT'], ['geosot', 23, 'GeoSOT'],
  ['beidou', 6, 'BeiDou'], ['h3', 9, 'H3'],
];

const ct = (window.__citytwin = { map: null, firstIdleMs: null, selected: null, registerHook });

// Servers with --private-reads answer 401 without a token: the sign-in
// banner asks for one (any role), kept in sessionStorage under the fences
// panel's key, so that one token serves reads and fence writes.
const readToken = () => { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; } };
let loaded = false; // the style has loaded once
useToken(readToken, () => {
  const form = $('signin');
  if (!form.hidden) return;
  $('signin-msg').textContent = readToken() ? 'That token was not accepted.' : '';
  form.hidden = false;
  ct.signIn = true;
  $('signin-token').focus();
});
$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('signin-token').value.trim();
  if (!t) return;
  try { sessionStorage.setItem(TOKEN_KEY, t); } catch { /* private mode: kept for this page only */ }
  $('signin').hidden = true;
  $('signin-token').value = '';
  ct.signIn = false;
  if (!loaded) { map.setStyle(`${API}/style.json`, { diff: false }); return; }
  const src = map.getSource('citytwin');
  if (src?.tiles) src.setTiles([...src.tiles]); // refetch what was refused
  notifyHooks('signedIn');
});

const map = new MapLibreMap({
  container: 'map',
  style: `${API}/style.json`,
  transformRequest,
  hash: 'view',
  maxPitch: 75,
  attributionControl: false,
});
ct.map = map;
map.addControl(new NavigationControl({ visualizePitch: true }), 'top-right');
map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
map.addControl(new AttributionControl({ compact: true }), 'bottom-right');
map.once('idle', () => { ct.firstIdleMs = Math.round(performance.now()); });

let tileBase = null; // the source's tile URL template without ?time
let asOf = null; // RFC 3339 or null for now
let token = 0; // drops answers to superseded selections

// ---------------------------------------------------------------- overlays

function addOverlays() {
  map.addSource('ct-selection', { type: 'geojson', data: emptyFC() });
  map.addSource('ct-cells', { type: 'geojson', data: emptyFC() });
  map.addLayer({
    id: 'ct-selection-extrusion', type: 'fill-extrusion', source: 'ct-selection',
    filter: ['==', ['get', 'layer'], 'buildings'],
    paint: { 'fill-extrusion-color': SELECTED, 'fill-extrusion-height': ['coalesce', ['get', 'height'], 3], 'fill-extrusion-opacity': 0.95 },
  });
  map.addLayer({
    id: 'ct-selection-line', type: 'line', source: 'ct-selection',
    filter: ['all', ['!=', ['geometry-type'], 'Point'], ['!=', ['get', 'layer'], 'buildings']],
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': SELECTED, 'line-width': 4, 'line-opacity': 0.9 },
  });
  map.addLayer({
    id: 'ct-selection-point', type: 'circle', source: 'ct-selection', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 9, 'circle-color': 'rgba(192,38,211,0.2)', 'circle-stroke-color': SELECTED, 'circle-stroke-width': 3 },
  });
  // Cells wider than a few km are outlined but not tinted.
  map.addLayer({ id: 'ct-cells-fill', type: 'fill', source: 'ct-cells', paint: { 'fill-color': CELL, 'fill-opacity': ['case', ['get', 'tint'], 0.08, 0] } });
  map.addLayer({
    id: 'ct-cells-line', type: 'line', source: 'ct-cells',
    paint: { 'line-color': CELL, 'line-width': 2.5, 'line-dasharray': [3, 1.5] },
  });
}

/** outline draws grid cells ([w,s,e,n] with a code) on the map. */
function outline(cells) {
  map.getSource('ct-cells').setData({ type: 'FeatureCollection', features: cells.map((c) => boundsPolygon(c.bounds, { code: c.code, tint: c.bounds[2] - c.bounds[0] < 0.05 })) });
  ct.outlined = cells.map((c) => c.code);
}

function highlight(feature) {
  map.getSource('ct-selection').setData(feature ? { type: 'FeatureCollection', features: [feature] } : emptyFC());
  // Hide the tile's own extrusion of a selected building so they do not z-fight.
  const id = feature && feature.properties.layer === 'buildings' ? String(feature.id) : '';
  if (map.getLayer('buildings')) map.setFilter('buildings', id ? ['!=', ['to-string', ['get', 'id']], id] : null);
}

function flyToBounds(b, maxZoom = 19) {
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 100, maxZoom, duration: 900 });
}

// --------------------------------------------------------------- inspector

// showInspector opens or closes the docked inspector, resizing the map at
// once and panning so that what is on screen stays put (the map would keep
// its centre and shift everything sideways).
function showInspector(open) {
  const panel = $('inspector');
  if (panel.hidden === !open) return;
  const before = map.getContainer().clientWidth;
  panel.hidden = !open;
  map.resize();
  map.panBy([(map.getContainer().clientWidth - before) / 2, 0], { animate: false });
}

function openInspector(kicker, title, sub) {
  showInspector(true);
  $('maphint').hidden = true;
  $('inspector-kicker').textContent = kicker;
  $('inspector-title').textContent = title;
  $('inspector-sub').textContent = sub || '';
  $('inspector-body').replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
}

function closeInspector() {
  token++;
  showInspector(false);
  ct.selected = null;
  highlight(null);
  outline([]);
  notifyHooks('featureSelected', null);
}

const section = (title, ...body) => h('section', { class: 'isec' }, h('h3', null, title), ...body);

function codeRow(c, active) {
  const row = h('tr', { class: 'code-row' + (active ? ' active' : ''), tabindex: 0, title: 'Outline this cell', 'data-code': c.code },
    h('th', null, c.label, h('span', { class: 'lvl' }, c.scheme === 'h3' ? `res ${c.level}` : `L${c.level}`)),
    h('td', null, h('code', null, c.code), h('div', { class: 'dim' }, c.note || cellSize(c.bounds))));
  const pick = () => {
    row.parentElement.querySelectorAll('.code-row').forEach((r) => r.classList.toggle('active', r === row));
    outline([c]);
  };
  row.addEventListener('click', pick);
  row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
  return row;
}

async function gridCodes(lngLat, gridcode) {
  const jobs = CODES.map(([scheme, level, lbl]) => locate(lngLat.lng, lngLat.lat, scheme, level)
    .then((d) => ({ ...d, label: lbl, note: scheme === 'h3' ? `hexagon, bbox ${cellSize(d.bounds)}` : null })));
  if (gridcode) {
    jobs.unshift(getJSON(`${API}/grid/${encodeURIComponent(gridcode)}`)
      .then((d) => ({ ...d, label: 'Feature', note: `smallest GeoSOT cell holding the whole feature · ${cellSize(d.bounds)}` })));
  }
  const got = await Promise.allSettled(jobs);
  return got.filter((g) => g.status === 'fulfilled').map((g) => g.value);
}

function propsTable(props) {
  const keys = Object.keys(props).filter((k) => !HIDDEN.has(k));
  keys.sort((a, b) => {
    const ia = FIRST.indexOf(a), ib = FIRST.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  return h('table', { class: 'props' }, h('tbody', null, keys.map((k) => {
    const v = props[k];
    let cell = fmt(v);
    if (k === 'height' && typeof v === 'number') cell = `${fmt(v)} m`;
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT00:00:00/.test(v)) cell = v.slice(0, 10);
    if (REFS[k] && typeof v === 'string' && v) {
      cell = h('a', { href: '#', onclick: (e) => { e.preventDefault(); selectById(REFS[k], v, true); } }, v);
    }
    return h('tr', null, h('th', null, keyLabel(k)), h('td', null, cell));
  })));
}

const UNITS = { m2: 'm²', km2: 'km²', m: 'm', s: 's', kmh: 'km/h' };
function keyLabel(k) {
  const m = /^(.*)_(m2|km2|m|s|kmh)$/.exec(k);
  return m ? `${m[1].replace(/_/g, ' ')} (${UNITS[m[2]]})` : k.replace(/_/g, ' ');
}

function titleOf(layer, p, id) {
  if (layer === 'grids') return `Unit grid ${p.code || id}`;
  return p.name || p.name_zh || p.address || (p.class ? `${p.class} street` : '') || id;
}

/** showFeature fills the inspector with a GeoJSON feature from the API. */
async function showFeature(f, lngLat) {
  const my = ++token;
  const p = f.properties;
  const layer = p.layer;
  ct.selected = { layer, id: String(f.id), gridcode: p.gridcode };
  openInspector(label(layer), titleOf(layer, p, f.id), String(f.id) === titleOf(layer, p, f.id) ? '' : String(f.id));
  highlight(f);
  notifyHooks('featureSelected', f);
  const at = lngLat || centreOf(f.geometry);
  const codes = await gridCodes(at, p.gridcode);
  if (my !== token) return;
  // Outline the feature's own cell unless it is a city-sized one (a
  // feature across a major cell boundary); then the point's level-19 cell.
  const own = codes.find((c) => c.label === 'Feature' && c.level >= 14) || codes.find((c) => c.scheme === 'geosot' && c.level === 19);
  if (own) outline([own]);
  $('inspector-body').replaceChildren(
    section('Grid codes', h('p', { class: 'hint' }, `At ${at.lat.toFixed(6)}, ${at.lng.toFixed(6)} · click a row to outline its cell`),
      h('table', { class: 'codes' }, h('tbody', null, codes.map((c) => codeRow(c, c === own))))),
    section('Properties', propsTable(p)),
  );
}

function centreOf(geom) {
  if (geom.type === 'Point') return { lng: geom.coordinates[0], lat: geom.coordinates[1] };
  const b = geometryBounds(geom);
  return { lng: (b[0] + b[2]) / 2, lat: (b[1] + b[3]) / 2 };
}

async function showPoint(lngLat) {
  const my = ++token;
  ct.selected = null;
  highlight(null);
  openInspector('Location', `${lngLat.lat.toFixed(6)}, ${lngLat.lng.toFixed(6)}`, 'latitude, longitude');
  const codes = await gridCodes(lngLat, null);
  if (my !== token) return;
  outline(codes.slice(0, 1));
  $('inspector-body').replaceChildren(section('Grid codes', h('p', { class: 'hint' }, 'Click a row to outline its cell'),
    h('table', { class: 'codes' }, h('tbody', null, codes.map((c, i) => codeRow(c, i === 0))))));
}

/** showCell fills the inspector with a GeoSOT cell and what lies in it. */
function showCell(cell, fly) {
  ++token;
  ct.selected = { cell: cell.code };
  highlight(null);
  outline([cell]);
  openInspector(`GeoSOT cell · level ${cell.level}`, cell.code, cellSize(cell.bounds));
  if (fly) flyToBounds(cell.bounds, 20);
  const counts = Object.entries(cell.counts || {}).sort((a, b) => b[1] - a[1]);
  const link = (code) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); runSearch(code); } }, h('code', null, code));
  $('inspector-body').replaceChildren(
    section('Cell', h('table', { class: 'props' }, h('tbody', null,
      h('tr', null, h('th', null, 'level'), h('td', null, cell.level)),
      h('tr', null, h('th', null, 'size'), h('td', null, cellSize(cell.bounds))),
      h('tr', null, h('th', null, 'centre'), h('td', null, `${cell.centre[1].toFixed(6)}, ${cell.centre[0].toFixed(6)}`)),
      h('tr', null, h('th', null, 'bounds'), h('td', null, h('code', null, cell.bounds.map((v) => v.toFixed(6)).join(', ')))),
      cell.parent && h('tr', null, h('th', null, 'parent'), h('td', null, link(cell.parent))),
      cell.integer && h('tr', null, h('th', null, 'integer'), h('td', null, h('code', null, cell.integer))),
    ))),
    section(asOf ? `Features in the cell (as of ${asOf.slice(0, 10)})` : 'Features in the cell',
      counts.length ? h('table', { class: 'props counts' }, h('tbody', null, counts.map(([l, n]) =>
        h('tr', null, h('th', null, label(l)), h('td', null, n.toLocaleString('en')))))) : h('p', { class: 'muted' }, 'None.')),
  );
}

/**
 * inspect opens the inspector on something a hook shows (a live object):
 * the hook fills body; active() tells whether it still shows it.
 */
function inspect(kicker, title, sub, selected) {
  const my = ++token;
  ct.selected = selected || null;
  highlight(null);
  outline([]);
  openInspector(kicker, title, sub);
  return { body: $('inspector-body'), active: () => my === token && !$('inspector').hidden };
}

async function selectById(layer, id, fly) {
  const f = await getJSON(`${API}/layers/${encodeURIComponent(layer)}/features/${encodeURIComponent(id)}`);
  const shown = showFeature(f, null); // opens the inspector: fly after
  if (fly) flyToBounds(geometryBounds(f.geometry), 18);
  await shown;
  return f;
}

// ------------------------------------------------------------------ search

function say(text, isError) {
  const m = $('search-msg');
  m.textContent = text || '';
  m.classList.toggle('error', !!isError);
}

async function runSearch(raw) {
  const q = raw.trim();
  $('search-input').value = q;
  if (!q) return;
  say('Searching…');
  try {
    if (/^g[0-9]/i.test(q)) {
      const cell = await getJSON(`${API}/grid/${encodeURIComponent(q.toUpperCase())}`, asOf ? { time: asOf } : null);
      showCell(cell, true);
      say('');
      return;
    }
    const layers = /^\d{15}$/.test(q) ? ['grids'] : ['buildings', 'grids', 'blocks', 'streets', 'stations', 'sensors', 'districts'];
    const hits = await Promise.all(layers.map((l) => getJSON(`${API}/layers/${l}/features/${encodeURIComponent(q)}`)
      .catch((e) => (e.status === 404 ? null : Promise.reject(e)))));
    let f = hits.find(Boolean);
    if (!f) {
      for (const key of ['address', 'name']) {
        const fc = await getJSON(`${API}/layers/buildings/features`, { filter: `${key}=${q}`, limit: 1 });
        if ((f = fc.features[0])) break;
      }
    }
    if (!f) { say(`Nothing found for “${q}”`, true); return; }
    say('');
    const shown = showFeature(f, null);
    flyToBounds(geometryBounds(f.geometry), 18);
    await shown;
  } catch (e) {
    say(e.message, true);
  }
}

// ------------------------------------------------------------------- as of

function setAsOf(day) {
  asOf = day ? `${day}T23:59:59${CITY_TZ}` : null;
  if (tileBase) map.getSource('citytwin').setTiles([asOf ? `${tileBase}?time=${encodeURIComponent(asOf)}` : tileBase]);
  ct.asOf = asOf;
  $('asof-now').setAttribute('aria-pressed', String(!asOf));
  $('asof-date').value = day || '';
  if (day) $('asof-year').value = day.slice(0, 4);
  else $('asof-year').value = $('asof-year').max;
  $('status-asof').textContent = asOf ? `As of ${day} (end of day, UTC${CITY_TZ})` : 'As of now';
  document.body.classList.toggle('historic', !!asOf);
  $('asof-badge').hidden = !asOf;
  $('asof-badge').textContent = asOf ? `Historic view · as of ${day}` : '';
  notifyHooks('asOfChanged', asOf);
}

function wireAsOf() {
  const year = $('asof-year');
  const now = new Date().getFullYear();
  year.max = String(now);
  year.value = String(now);
  $('asof-date').max = `${now}-12-31`;
  let t = 0;
  year.addEventListener('input', () => {
    clearTimeout(t);
    t = setTimeout(() => setAsOf(`${year.value}-12-31`), 200);
  });
  $('asof-date').addEventListener('change', (e) => setAsOf(e.target.value || null));
  $('asof-now').addEventListener('click', () => setAsOf(null));
}

// ------------------------------------------------------- layers and legend

const swatchColor = (v) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[v.length - 1] === 'string' ? v[v.length - 1] : '#999');

function paintColor(l) {
  const p = l.paint || {};
  return swatchColor(p['fill-extrusion-color'] || p['fill-color'] || p['line-color'] || p['circle-color'] || p['background-color']);
}

function swatch(kind, color, extra = {}) {
  return h('span', { class: `sw sw-${kind}`, style: `--c:${color};${extra.style || ''}`, 'aria-hidden': 'true' });
}

function buildLayerList(styleLayers, counts) {
  const ul = $('layer-list');
  ul.replaceChildren();
  for (const l of [...styleLayers].reverse()) {
    if (l.source !== 'citytwin') continue;
    const layer = l['source-layer'];
    const id = `lyr-${l.id}`;
    const visible = (l.layout || {}).visibility !== 'none';
    const kind = l.type === 'fill-extrusion' ? 'fill' : l.type;
    ul.append(h('li', null,
      h('input', { type: 'checkbox', id, checked: visible, 'data-layer': l.id,
        onchange: (e) => map.setLayoutProperty(l.id, 'visibility', e.target.checked ? 'visible' : 'none') }),
      h('label', { for: id }, swatch(kind, paintColor(l)), h('span', { class: 'lname' }, label(layer)),
        counts[layer] != null && h('span', { class: 'count' }, counts[layer].toLocaleString('en')))));
  }
}

function matchStops(expr) {
  if (!Array.isArray(expr) || expr[0] !== 'match') return null;
  const out = [];
  for (let i = 2; i < expr.length - 1; i += 2) out.push([expr[i], expr[i + 1]]);
  out.push([null, expr[expr.length - 1]]);
  return out;
}

function findMatch(expr) {
  if (!Array.isArray(expr)) return null;
  if (expr[0] === 'match') return expr;
  for (const e of expr) { const m = findMatch(e); if (m) return m; }
  return null;
}

function buildLegend(styleLayers) {
  const byId = Object.fromEntries(styleLayers.map((l) => [l.id, l]));
  const out = [];
  const group = (title, items) => items.length && out.push(h('div', { class: 'lg' }, h('h4', null, title), h('ul', null, items)));
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const b = byId.buildings && matchStops(byId.buildings.paint['fill-extrusion-color']);
  if (b) group('Buildings by use', b.map(([k, c]) => h('li', null, swatch('fill', c), k == null ? 'Mixed / other' : cap(String(k)))));
  const s = byId.streets && matchStops(byId.streets.paint['line-color']);
  if (s) {
    const widths = Object.fromEntries(matchStops(findMatch(byId.streets.paint['line-width'])) || []);
    group('Streets by class', s.map(([k, c]) => h('li', null,
      swatch('line', c, { style: `--w:${Math.max(2, Math.round((widths[k] ?? widths.null ?? 4) / 1.5))}px` }),
      k == null ? 'Local' : cap(String(k)))));
  }
  const other = [];
  const add = (id, kind, text, extra) => byId[id] && other.push(h('li', null, swatch(kind, paintColor(byId[id]), extra), text));
  add('districts', 'dash', 'District boundary');
  add('grids', 'line', 'Unit grid', { style: '--w:1px' });
  add('blocks', 'fill', 'Block');
  add('stations', 'circle', 'Station');
  add('sensors', 'circle', 'Sensor');
  other.push(h('li', null, swatch('cell', CELL), 'Grid cell'));
  other.push(h('li', null, swatch('fill', SELECTED), 'Selection'));
  other.push(h('li', null, swatch('line', SELECTED, { style: '--w:2px' }), 'Live trail'));
  other.push(h('li', null, swatch('cell', '#dc2626', { style: 'background:rgba(220,38,38,.1);border-style:solid' }), 'Geofence'));
  group('Other', other);
  $('legend').replaceChildren(...out);
}

// ------------------------------------------------------------ status bar

function wireStatus() {
  const view = () => {
    $('status-view').textContent = `z ${map.getZoom().toFixed(2)} · pitch ${map.getPitch().toFixed(0)}° · bearing ${map.getBearing().toFixed(0)}°`;
  };
  map.on('move', view);
  view();
  map.on('mousemove', (e) => { $('status-cursor').textContent = `${e.lngLat.lat.toFixed(6)}, ${e.lngLat.lng.toFixed(6)}`; });
  const tiles = $('status-tiles');
  const done = () => { tiles.textContent = 'Tiles up to date'; tiles.classList.remove('busy'); };
  const LIVE_SOURCES = new Set(['ct-live', 'ct-trail', 'ct-fences']);
  // Live objects update their source many times a second: the map is then
  // never idle, so the city's own tile source says when it has loaded.
  map.on('dataloading', (e) => { if (!LIVE_SOURCES.has(e.sourceId)) { tiles.textContent = 'Loading tiles…'; tiles.classList.add('busy'); } });
  map.on('sourcedata', (e) => { if (e.sourceId === 'citytwin' && e.isSourceLoaded && map.isSourceLoaded('citytwin')) done(); });
  map.on('idle', done);
}

function setView3D(on) {
  $('view-3d').setAttribute('aria-pressed', String(on));
  $('view-2d').setAttribute('aria-pressed', String(!on));
  map.easeTo(on ? { pitch: 55, bearing: -20, duration: 700 } : { pitch: 0, bearing: 0, duration: 700 });
}

// ------------------------------------------------------------------ wiring

map.on('load', async () => {
  loaded = true;
  const src = map.getSource('citytwin');
  tileBase = src && src.tiles ? src.tiles[0].split('?')[0] : null;
  addOverlays();
  wireStatus();
  wireAsOf();
  const layers = map.getStyle().layers;
  buildLegend(layers);
  buildLayerList(layers, {});
  getJSON(`${API}/layers`).then((d) => buildLayerList(map.getStyle().layers.filter((l) => !l.id.startsWith('ct-')),
    Object.fromEntries(d.layers.map((l) => [l.name, l.count])))).catch(() => {});
  getJSON(`${API}/layers/districts/features`, { limit: 1 }).then((fc) => {
    const d = fc.features[0];
    if (d && d.properties.name_zh) $('place').textContent = `Dalian · ${d.properties.name_zh}`;
  }).catch(() => {});
  mountHooks({ map, asOf: () => asOf, select: (layer, id) => selectById(layer, id, true), inspect });
});

map.on('click', (e) => {
  if (ct.drawingFence) return; // the fences hook takes the clicks
  const all = map.queryRenderedFeatures(e.point);
  if (all.some((f) => f.source === 'ct-live')) return; // a live object: the live-objects hook shows it
  const hits = all.filter((f) => f.source === 'citytwin');
  const f = hits.find((x) => !BACKDROP.has(x.sourceLayer));
  if (!f) { showPoint(e.lngLat); return; }
  const id = f.properties.id ?? f.id;
  if (id == null) { showPoint(e.lngLat); return; }
  getJSON(`${API}/layers/${encodeURIComponent(f.sourceLayer)}/features/${encodeURIComponent(id)}`)
    .then((full) => showFeature(full, e.lngLat))
    .catch(() => showFeature({ type: 'Feature', id, geometry: f.geometry, properties: { ...f.properties, layer: f.sourceLayer } }, e.lngLat));
});

for (const id of ['buildings', 'streets', 'grids', 'blocks', 'stations', 'sensors']) {
  map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
}

$('search').addEventListener('submit', (e) => { e.preventDefault(); runSearch($('search-input').value); });
$('search-input').addEventListener('input', () => say(''));
$('inspector-close').addEventListener('click', closeInspector);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('inspector').hidden) closeInspector(); });
$('view-2d').addEventListener('click', () => setView3D(false));
$('view-3d').addEventListener('click', () => setView3D(true));
map.on('error', (e) => {
  if (e.error?.status === 401) denied();
  else if (e.error) console.warn('map:', e.error.message);
});

ct.search = runSearch;
ct.setAsOf = setAsOf;
