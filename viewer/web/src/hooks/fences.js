// The planner's geofences panel (hook 'fences'): the fences of
// GET /api/v1/fences and their live events.
//
//   - the list: name (or id), kind (polygon, circle, grid, roaming),
//     layers and detected events; a checkbox per fence and one for all
//     hides them; clicking a name fits the map to the fence;
//   - static fences drawn under the live dots: polygons as they are,
//     circles as 64-gons from centre and radius (metres), grid fences as
//     their GeoSOT cell's bounds (GET /api/v1/grid/{code}, as search
//     outlines cells); roaming fences have no area and are listed only;
//   - events: one subscription {"op":"subscribe","id":"fence-events",
//     "events":["fence.*"]} on the live layer's socket (liveSubscribe), the
//     last 50 shown newest first; clicking one flies to the object (and
//     selects it when it is a live object in view); an event of a fence not
//     listed reloads the list;
//   - "New fence": name, then two clicks on the map (opposite corners) →
//     POST /api/v1/fences; × deletes one. Servers with --tokens want an
//     analyst or admin bearer token for both: on 401/403 the panel asks for
//     one (kept in sessionStorage) and can retry.
//
// Test hooks on window.__citytwin: fenceCount, fences (definitions as
// listed), fenceEvents (newest first), fenceFeed ('subscribed', …),
// drawingFence.
import { API, boundsPolygon, emptyFC, geometryBounds, getJSON, h } from '../lib/common.js';
import { registerHook } from '../lib/hooks.js';
import { liveSubscribe } from './live-objects.js';
import './fences.css';

const SOURCE = 'ct-fences';
const SUB = 'fence-events';
const MAX_EVENTS = 50;
const COLOR = '#dc2626';
export const TOKEN_KEY = 'citytwin-token'; // also the planner's token for reads

/** circle approximates a circle of r metres around [lon, lat] by a polygon. */
function circle([lon, lat], r, n = 64) {
  const dy = r / 110574;
  const dx = r / (111320 * Math.cos((lat * Math.PI) / 180));
  const ring = [];
  for (let i = 0; i <= n; i++) {
    const a = ((i % n) / n) * 2 * Math.PI;
    ring.push([lon + dx * Math.sin(a), lat + dy * Math.cos(a)]);
  }
  return { type: 'Polygon', coordinates: [ring] };
}

const kindOf = (d) => (d.roam ? 'roaming' : d.grid ? 'grid' : d.geometry?.type === 'Point' ? 'circle' : 'polygon');
const clock = (t) => new Date(t).toLocaleTimeString('en-GB', { hour12: false });

function mount(ctx) {
  const { map, container } = ctx;
  const ct = window.__citytwin || {};
  const body = container.querySelector('.hook-body') || container;
  let fences = [];
  const shapes = new Map(); // id → GeoJSON geometry (static fences)
  const cells = new Map(); // grid code → geometry (bounds of the cell)
  const hidden = new Set(); // fence ids toggled off
  let showAll = true;
  let events = [];
  let renderTimer = 0;
  let lastReload = 0;
  let draft = null; // {name, a: [lon, lat], b: [lon, lat]} while drawing
  let retry = null; // the write to repeat once a token is given

  // ------------------------------------------------------------- the map
  const before = map.getLayer('ct-trail-line') ? 'ct-trail-line' : map.getLayer('ct-live-selected') ? 'ct-live-selected' : undefined;
  map.addSource(SOURCE, { type: 'geojson', data: emptyFC() });
  map.addLayer({ id: 'ct-fences-fill', type: 'fill', source: SOURCE, paint: { 'fill-color': COLOR, 'fill-opacity': ['case', ['get', 'draft'], 0.15, 0.08] } }, before);
  map.addLayer({ id: 'ct-fences-line', type: 'line', source: SOURCE, filter: ['!', ['get', 'draft']], paint: { 'line-color': COLOR, 'line-width': 2 } }, before);
  map.addLayer({ id: 'ct-fences-draft', type: 'line', source: SOURCE, filter: ['get', 'draft'], paint: { 'line-color': COLOR, 'line-width': 2, 'line-dasharray': [2, 1.5] } }, before);

  function draw() {
    const features = [];
    if (showAll) {
      for (const f of fences) {
        const g = shapes.get(f.id);
        if (g && !hidden.has(f.id)) features.push({ type: 'Feature', geometry: g, properties: { id: f.id, name: f.name || f.id, kind: kindOf(f), draft: false } });
      }
    }
    if (draft?.b) features.push(boundsPolygon(box(draft), { id: '', draft: true }));
    map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
  }

  // ----------------------------------------------------------- the panel
  const msgEl = h('div', { class: 'fence-msg', role: 'status', 'aria-live': 'polite' });
  const tokenEl = h('input', { type: 'password', placeholder: 'Bearer token (analyst or admin)', 'aria-label': 'Bearer token', autocomplete: 'off' });
  const tokenRow = h('div', { class: 'fence-token', hidden: true }, tokenEl,
    h('button', { type: 'button', class: 'fence-btn', onclick: () => {
      sessionStorage.setItem(TOKEN_KEY, tokenEl.value.trim());
      tokenRow.hidden = true;
      const again = retry;
      retry = null;
      again?.();
    } }, 'Retry'));
  const nameEl = h('input', { type: 'text', placeholder: 'Name (optional)', 'aria-label': 'New fence name', maxlength: 256 });
  const newRow = h('div', { class: 'fence-new', hidden: true }, nameEl,
    h('p', { class: 'hint' }, 'Click two opposite corners on the map.'),
    h('button', { type: 'button', class: 'fence-btn', onclick: () => stopDrawing() }, 'Cancel'));
  const allEl = h('input', { type: 'checkbox', id: 'fence-all', checked: true, onchange: (e) => { showAll = e.target.checked; draw(); } });
  const head = h('div', { class: 'fence-head' },
    h('label', { for: 'fence-all' }, allEl, 'Show on map'),
    h('button', { type: 'button', class: 'fence-btn', title: 'Reload the list', 'aria-label': 'Reload fences', onclick: () => load() }, '↻'),
    h('button', { type: 'button', class: 'fence-btn', id: 'fence-new', onclick: () => startDrawing() }, 'New fence'));
  const listEl = h('ul', { class: 'layers fence-list' });
  const feedStatus = h('span', { class: 'dim' });
  const feedEl = h('ol', { class: 'fence-events' });
  body.replaceChildren(head, newRow, msgEl, tokenRow, listEl,
    h('h3', { class: 'fence-sub' }, 'Events ', feedStatus), feedEl);

  function say(text, isError) {
    msgEl.textContent = text || '';
    msgEl.classList.toggle('error', !!isError);
  }

  function describe(f) {
    if (f.roam) return `roaming · ${f.roam.layer} near ${f.roam.near?.layer} · ${f.roam.meters} m`;
    const k = kindOf(f);
    return [k === 'circle' ? `circle ${f.radius} m` : k === 'grid' ? `grid ${f.grid}` : k,
      f.layers?.length ? f.layers.join(', ') : 'all layers'].join(' · ');
  }

  function renderList() {
    listEl.replaceChildren(...fences.map((f) => {
      const id = `fence-${f.id.replace(/[^\w-]/g, '_')}`;
      const g = shapes.get(f.id);
      return h('li', { 'data-fence': f.id },
        h('input', { type: 'checkbox', id, checked: !hidden.has(f.id), disabled: !g, title: g ? 'Show on the map' : 'No area to draw',
          onchange: (e) => { if (e.target.checked) hidden.delete(f.id); else hidden.add(f.id); draw(); } }),
        h('div', { class: 'fence-item' },
          h('a', { href: '#', class: 'fence-name', onclick: (e) => {
            e.preventDefault();
            if (!g) return;
            const b = geometryBounds(g);
            map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, maxZoom: 18, duration: 800 });
          } }, f.name || f.id),
          h('div', { class: 'dim' }, describe(f)),
          h('div', { class: 'dim' }, `detect ${(f.detect || []).join(', ')}${f.name ? ` · ${f.id}` : ''}`)),
        h('button', { type: 'button', class: 'icon-btn fence-del', 'aria-label': `Delete fence ${f.id}`, title: 'Delete', onclick: () => remove(f) }, '×'));
    }));
    if (!fences.length) listEl.replaceChildren(h('li', { class: 'muted' }, 'No fences.'));
  }

  async function shapeOf(f) {
    if (f.roam) return null;
    if (f.grid) {
      if (!cells.has(f.grid)) {
        const cell = await getJSON(`${API}/grid/${encodeURIComponent(f.grid)}`);
        cells.set(f.grid, boundsPolygon(cell.bounds).geometry);
      }
      return cells.get(f.grid);
    }
    if (f.geometry?.type === 'Point') return circle(f.geometry.coordinates, f.radius);
    return f.geometry || null;
  }

  async function load() {
    lastReload = Date.now();
    let got;
    try {
      got = (await getJSON(`${API}/fences`)).fences || [];
    } catch (e) {
      say(`Fences: ${e.message}`, true);
      return;
    }
    const geoms = await Promise.all(got.map((f) => shapeOf(f).catch(() => null)));
    fences = got;
    shapes.clear();
    got.forEach((f, i) => { if (geoms[i]) shapes.set(f.id, geoms[i]); });
    ct.fences = got;
    ct.fenceCount = got.length;
    renderList();
    draw();
  }

  // ----------------------------------------------------- writes (auth)
  async function send(method, path, payload, what) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { Accept: 'application/json' };
    if (payload) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(path, { method, headers, body: payload ? JSON.stringify(payload) : undefined });
    } catch (e) {
      say(`${what}: ${e.message}`, true);
      return false;
    }
    if (res.ok) return true;
    let err = '';
    try { err = (await res.json()).error || ''; } catch { /* not JSON */ }
    if (res.status === 401 || res.status === 403) {
      say(`${what}: ${res.status === 401 ? 'this server wants a bearer token' : 'the token may not change fences'} (an analyst or admin token). Enter one and retry.`, true);
      retry = () => send(method, path, payload, what).then((ok) => ok && load());
      tokenRow.hidden = false;
      tokenEl.focus();
    } else {
      say(`${what}: ${err || `${res.status} ${res.statusText}`}`, true);
    }
    return false;
  }

  async function remove(f) {
    if (!confirm(`Delete fence ${f.name || f.id}?`)) return;
    say('');
    if (await send('DELETE', `${API}/fences/${encodeURIComponent(f.id)}`, null, `Deleting ${f.id}`)) load();
  }

  // ------------------------------------------------------ new fence
  const box = (d) => [Math.min(d.a[0], d.b[0]), Math.min(d.a[1], d.b[1]), Math.max(d.a[0], d.b[0]), Math.max(d.a[1], d.b[1])];

  function startDrawing() {
    draft = { a: null, b: null };
    ct.drawingFence = true;
    newRow.hidden = false;
    say('');
    map.getCanvas().style.cursor = 'crosshair';
    nameEl.focus();
  }

  function stopDrawing() {
    draft = null;
    ct.drawingFence = false;
    newRow.hidden = true;
    map.getCanvas().style.cursor = '';
    draw();
  }

  map.on('click', async (e) => {
    if (!draft) return;
    const p = [e.lngLat.lng, e.lngLat.lat];
    if (!draft.a) { draft.a = p; draft.b = p; draw(); return; }
    draft.b = p;
    const [w, s, ee, n] = box(draft).map((v) => Math.round(v * 1e7) / 1e7);
    const name = nameEl.value.trim();
    stopDrawing();
    if (!(ee > w && n > s)) { say('The rectangle has no area.', true); return; }
    const def = { geometry: { type: 'Polygon', coordinates: [[[w, s], [ee, s], [ee, n], [w, n], [w, s]]] } };
    if (name) def.name = name;
    say('Saving…');
    if (await send('POST', `${API}/fences`, def, 'New fence')) { say(''); nameEl.value = ''; load(); }
  });
  map.on('mousemove', (e) => {
    if (!draft?.a) return;
    draft.b = [e.lngLat.lng, e.lngLat.lat];
    draw();
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && draft) stopDrawing(); });

  // ---------------------------------------------------------- events
  function renderFeed() {
    renderTimer = 0;
    feedEl.replaceChildren(...events.map((ev) => {
      const o = ev.object || {};
      const type = String(ev.type || '').replace(/^fence\./, '');
      return h('li', null, h('button', { type: 'button', class: 'fence-ev', title: `Fly to ${o.id}`, onclick: () => {
        if (!Number.isFinite(o.lon)) return;
        // Select first: opening the inspector resizes the map, which would stop a flight.
        if (ct.liveObject?.(o.id)) ct.liveSelect?.(o.id);
        map.flyTo({ center: [o.lon, o.lat], zoom: Math.max(map.getZoom(), 17), duration: 900 });
      } },
      h('time', null, clock(ev.time)),
      h('span', { class: `fence-type t-${type}` }, type),
      h('span', { class: 'fence-ev-text' }, h('b', null, ev.name || ev.fence), ' · ', o.id,
        ev.near ? ` · ${ev.near.id}${ev.meters != null ? ` (${Math.round(ev.meters)} m)` : ''}` : '')));
    }));
    if (!events.length) feedEl.replaceChildren(h('li', { class: 'muted' }, 'No events yet.'));
  }

  function onMessage(m) {
    if (m.op === 'subscribed') {
      ct.fenceFeed = 'subscribed';
      feedStatus.textContent = '· live';
    } else if (m.op === 'closed') {
      ct.fenceFeed = 'closed';
      feedStatus.textContent = '· reconnecting';
    } else if (m.op === 'error') {
      ct.fenceFeed = 'error';
      feedStatus.textContent = `· ${m.error}`;
    } else if (m.op === 'event') {
      events = [m, ...events].slice(0, MAX_EVENTS);
      ct.fenceEvents = events;
      if (!fences.some((f) => f.id === m.fence) && Date.now() - lastReload > 5000) load();
      if (!renderTimer) renderTimer = setTimeout(renderFeed, 200);
    }
  }

  ct.fenceCount = 0;
  ct.fenceEvents = events;
  ct.fenceFeed = 'connecting';
  ct.drawingFence = false;
  renderList();
  renderFeed();
  liveSubscribe({ op: 'subscribe', id: SUB, events: ['fence.*'] }, onMessage);
  load();
  return load;
}

let reload = null;
registerHook('fences', {
  mount(ctx) { reload = mount(ctx); },
  signedIn() { reload?.(); }, // a token for reads was entered
});
