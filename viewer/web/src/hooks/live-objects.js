// The planner's live layer (hook 'live-objects'): moving objects from the
// live twin over the websocket at /ws, subscribed to the map's view.
//
//   - one subscription ("planner"), all live layers, the view's box padded
//     by a quarter; re-sent with the same id (debounced) after each move,
//     which replaces it on the server; objects outside the new box are
//     dropped here, the server sends a snapshot of those inside;
//   - the server conflates to at most 10 batches a second; "left" lists
//     objects that left the box or were removed;
//   - a GeoJSON source drawn at most 10 times a second: dots coloured by
//     vehicle kind (else by layer) and heading arrows from zoom 14;
//   - the sidebar panel: connection status, a count and a toggle per
//     layer; clicking an object shows it in the inspector;
//   - reconnects with exponential backoff (0.5 s to 15 s, jittered);
//   - the selected object's trail: its history of the last 15 min (or
//     1 h) from /api/v1/objects/{id}/history, a line under the dots,
//     extended by each new state and refetched at most every 5 s;
//   - other hooks share the socket through liveSubscribe (fences.js: the
//     fence events feed); their subscriptions are re-sent on reconnect.
//
// Test hooks on window.__citytwin: liveConnected, liveCount (objects
// known in the view), liveLayers ({layer: count}), liveObject(id) (the
// object as last drawn), liveStatus, trailPoints (positions in the
// selected object's trail), trailWindow (minutes).
import { API, emptyFC, fmt, getJSON, h, probe, wsURL } from '../lib/common.js';
import { registerHook } from '../lib/hooks.js';
import './live-objects.css';

const SOURCE = 'ct-live';
const TRAIL = 'ct-trail';
const SUB = 'planner';
const TRAIL_REFETCH_MS = 5000;
const DRAW_MS = 100; // at most 10 redraws a second
const MOVE_DEBOUNCE_MS = 250;
const PING_MS = 20000;
const STALE_MS = 50000; // no message for this long: reconnect
const KINDS = { car: '#0ea5e9', taxi: '#facc15', bus: '#ef4444', truck: '#8b5cf6' };
const PALETTE = ['#0891b2', '#db2777', '#65a30d', '#9333ea', '#ea580c', '#0f766e', '#be123c'];
const COMPASS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'];

const layerColor = (layer) => {
  let x = 0;
  for (const c of layer) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[x % PALETTE.length];
};
const colorOf = (o) => KINDS[o.state?.kind] || layerColor(o.layer);

// Subscriptions of other hooks on the same socket: id → {req, onMessage}.
const extra = new Map();
let sendRaw = () => {};

/**
 * liveSubscribe sends a subscription on the live socket now (if open) and
 * after every reconnect; onMessage gets each message naming its id
 * (subscribed, event, state, error) and {op: 'closed'} when the socket drops.
 */
export function liveSubscribe(req, onMessage) {
  extra.set(req.id, { req, onMessage });
  sendRaw(req);
}

/** arrowImage draws a white heading arrow pointing north (pixel ratio 2). */
function arrowImage() {
  const size = 24;
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  g.beginPath();
  g.moveTo(12, 3);
  g.lineTo(19, 19);
  g.lineTo(12, 15);
  g.lineTo(5, 19);
  g.closePath();
  g.fillStyle = '#fff';
  g.fill();
  return g.getImageData(0, 0, size, size);
}

function mount(ctx) {
  const { map, container } = ctx;
  const ct = window.__citytwin || {};
  const body = container.querySelector('.hook-body') || container;
  const objects = new Map(); // id → object as received
  const hidden = new Set(); // layers toggled off
  const known = new Set(); // layers seen or listed by /api/v1/live
  let drawn = new Map(); // id → feature as last drawn
  let ws = null;
  let connected = false;
  let backoff = 500;
  let retryAt = 0;
  let retryTimer = 0;
  let drawTimer = 0;
  let lastDraw = 0;
  let lastMsg = 0;
  let box = null; // [w,s,e,n] subscribed
  let selected = null; // id shown in the inspector
  let inspector = null; // {body, active()} from ctx.inspect
  let lastInspect = 0;
  let historic = false;
  let note = '';
  // The selected object's trail: positions [lon, lat] and times (ms).
  let trail = { id: null, coords: [], times: [] };
  let trailMin = 15;
  let trailFetched = 0;
  let trailTimer = 0;
  let trailGen = 0;
  let trailPending = []; // [[lon, lat], ms] received since the last fetch
  let trailCountEl = null; // "n positions" in the inspector

  // ------------------------------------------------------------- the map
  map.addSource(TRAIL, { type: 'geojson', data: emptyFC() });
  map.addLayer({
    id: 'ct-trail-line', type: 'line', source: TRAIL,
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': '#c026d3', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 2, 17, 4], 'line-opacity': 0.75 },
  });
  map.addLayer({
    id: 'ct-trail-point', type: 'circle', source: TRAIL, minzoom: 15, filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 2.5, 'circle-color': '#fff', 'circle-stroke-color': '#c026d3', 'circle-stroke-width': 1.5 },
  });
  map.addSource(SOURCE, { type: 'geojson', data: emptyFC() });
  if (!map.hasImage('ct-live-arrow')) map.addImage('ct-live-arrow', arrowImage(), { pixelRatio: 2 });
  map.addLayer({
    id: 'ct-live-selected', type: 'circle', source: SOURCE, filter: ['==', ['get', 'id'], ''],
    paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 7, 16, 12, 19, 16], 'circle-color': 'rgba(192,38,211,0.18)', 'circle-stroke-color': '#c026d3', 'circle-stroke-width': 3 },
  });
  map.addLayer({
    id: 'ct-live-dot', type: 'circle', source: SOURCE,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3, 14, 5, 16, 7.5, 19, 10],
      'circle-color': ['get', 'color'],
      'circle-stroke-color': '#111827', // sensors and stations have white rims
      'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 10, 0.75, 15, 1.5],
      'circle-pitch-alignment': 'map',
    },
  });
  map.addLayer({
    id: 'ct-live-heading', type: 'symbol', source: SOURCE, minzoom: 14, filter: ['has', 'heading'],
    layout: {
      'icon-image': 'ct-live-arrow', 'icon-rotate': ['get', 'heading'], 'icon-rotation-alignment': 'map',
      'icon-pitch-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true,
      'icon-size': ['interpolate', ['linear'], ['zoom'], 14, 0.55, 16, 0.85, 19, 1.2],
    },
  });
  map.on('click', 'ct-live-dot', (e) => { if (e.features?.length) select(e.features[0].properties.id); });
  map.on('mouseenter', 'ct-live-dot', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'ct-live-dot', () => { map.getCanvas().style.cursor = ''; });

  // ----------------------------------------------------------- the panel
  const statusEl = h('div', { class: 'live-status', role: 'status', 'aria-live': 'polite' });
  const listEl = h('ul', { class: 'layers live-layers' });
  const kindsEl = h('div', { class: 'live-kinds', hidden: true },
    Object.entries(KINDS).map(([k, c]) => h('span', null, h('span', { class: 'sw sw-circle', style: `--c:${c}` }), k)));
  body.replaceChildren(statusEl, listEl, kindsEl);

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    ct.liveStatus = state;
  }

  function renderPanel(counts) {
    for (const l of Object.keys(counts)) known.add(l);
    const layers = [...known].sort();
    listEl.replaceChildren(...layers.map((l) => {
      const id = `live-lyr-${l.replace(/[^\w-]/g, '_')}`;
      return h('li', null,
        h('input', { type: 'checkbox', id, checked: !hidden.has(l), 'data-live-layer': l,
          onchange: (e) => { if (e.target.checked) hidden.delete(l); else hidden.add(l); schedule(); } }),
        h('label', { for: id }, h('span', { class: 'sw sw-circle', style: `--c:${layerColor(l)}` }),
          h('span', { class: 'lname' }, l), h('span', { class: 'count' }, (counts[l] || 0).toLocaleString('en'))));
    }));
    if (!layers.length) listEl.replaceChildren(h('li', { class: 'muted' }, 'No live objects yet.'));
    kindsEl.hidden = ![...objects.values()].some((o) => KINDS[o.state?.kind]);
  }

  // ------------------------------------------------------------- drawing
  function schedule() {
    if (drawTimer) return;
    drawTimer = setTimeout(draw, Math.max(0, DRAW_MS - (performance.now() - lastDraw)));
  }

  function draw() {
    drawTimer = 0;
    lastDraw = performance.now();
    const features = [];
    const counts = {};
    const next = new Map();
    for (const o of objects.values()) {
      counts[o.layer] = (counts[o.layer] || 0) + 1;
      if (hidden.has(o.layer) || historic) continue;
      const props = { id: o.id, layer: o.layer, color: colorOf(o) };
      if (typeof o.heading === 'number') props.heading = o.heading;
      const f = { type: 'Feature', geometry: { type: 'Point', coordinates: [o.lon, o.lat] }, properties: props };
      features.push(f);
      next.set(o.id, f);
    }
    drawn = next;
    map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
    ct.liveCount = objects.size;
    ct.liveLayers = counts;
    renderPanel(counts);
    if (connected) setStatus('connected', `Connected · ${objects.size.toLocaleString('en')} in view${note}`);
    if (selected && inspector?.active() && performance.now() - lastInspect > 1000) showSelected();
  }

  // ------------------------------------------------------- the websocket
  function viewBox() {
    const b = map.getBounds();
    let [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const dx = (e - w) / 4, dy = (n - s) / 4;
    [w, s, e, n] = [w - dx, s - dy, e + dx, n + dy];
    if (!(e - w < 360)) return null; // the whole world: no box
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    w = clamp(w, -180, 180); e = clamp(e, -180, 180);
    return [w, clamp(s, -90, 90), e, clamp(n, -90, 90)].map((v) => Math.round(v * 1e7) / 1e7);
  }

  const inBox = (o) => !box || (o.lon >= box[0] && o.lon <= box[2] && o.lat >= box[1] && o.lat <= box[3]);

  function subscribe() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    box = viewBox();
    const req = { op: 'subscribe', id: SUB };
    if (box) req.bbox = box;
    ws.send(JSON.stringify(req));
    let dropped = false;
    for (const [id, o] of objects) if (!inBox(o)) { objects.delete(id); dropped = true; }
    if (dropped) schedule();
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    setStatus('connecting', 'Connecting…');
    const sock = new WebSocket(wsURL());
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      connected = true;
      ct.liveConnected = true;
      backoff = 500;
      note = '';
      lastMsg = Date.now();
      objects.clear();
      subscribe();
      for (const { req } of extra.values()) sock.send(JSON.stringify(req));
      schedule();
    };
    sendRaw = (req) => { if (ws === sock && sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify(req)); };
    sock.onmessage = (ev) => {
      if (ws !== sock) return;
      lastMsg = Date.now();
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      const other = extra.get(m.sub ?? m.id);
      if (other) {
        other.onMessage(m);
      } else if (m.op === 'state' && m.sub === SUB) {
        for (const o of m.objects || []) {
          if (!inBox(o)) continue;
          objects.set(o.id, o);
          if (o.id === trail.id) extendTrail(o);
        }
        for (const id of m.left || []) objects.delete(id);
        schedule();
      } else if (m.op === 'error') {
        console.warn('live:', m.error);
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      if (!connected) probe(); // refused: perhaps reads need a token
      ws = null;
      connected = false;
      ct.liveConnected = false;
      for (const { onMessage } of extra.values()) onMessage({ op: 'closed' });
      // Too many objects in a box: the server says so in the close reason.
      note = /narrow|behind/.test(ev.reason || '') ? ' (too many objects: zoom in)' : '';
      const wait = backoff * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, 15000);
      retryAt = Date.now() + wait;
      retryTimer = setTimeout(connect, wait);
      tickRetry();
    };
  }

  function tickRetry() {
    if (connected || !retryTimer) return;
    const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    setStatus('disconnected', `Disconnected · retrying in ${s} s${note}`);
    setTimeout(tickRetry, 1000);
  }

  // Keep-alive: the server pings too, but a dead path only shows as silence.
  setInterval(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMsg > STALE_MS) { ws.close(); return; }
    ws.send('{"op":"ping"}');
  }, PING_MS);

  let moveTimer = 0;
  map.on('moveend', () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(subscribe, MOVE_DEBOUNCE_MS);
  });

  // --------------------------------------------------------- inspector
  function select(id) {
    const o = objects.get(id);
    if (!o || !ctx.inspect) return;
    selected = id;
    const kind = o.state?.kind;
    inspector = ctx.inspect(`Live · ${o.layer}`, o.id, kind ? [kind, o.state.route].filter(Boolean).join(' · ') : '', { layer: o.layer, id: o.id, live: true });
    // ctx.inspect clears other selections: mark ours after it.
    selected = id;
    map.setFilter('ct-live-selected', ['==', ['get', 'id'], id]);
    trail = { id, coords: [], times: [] };
    trailPending = [];
    drawTrail();
    fetchTrail();
    showSelected();
  }

  // ------------------------------------------------------------- trail
  function drawTrail() {
    const { coords } = trail;
    const features = coords.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    if (coords.length > 1) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: { id: trail.id } });
    map.getSource(TRAIL)?.setData({ type: 'FeatureCollection', features });
    ct.trailPoints = coords.length;
    ct.trailWindow = trailMin;
    if (trailCountEl) trailCountEl.textContent = trailText();
  }

  const trailText = () => `${trail.coords.length.toLocaleString('en')} position${trail.coords.length === 1 ? '' : 's'}`;

  /** fetchTrail reloads the selected object's history, keeping newer states that arrived meanwhile. */
  async function fetchTrail() {
    clearTimeout(trailTimer);
    trailTimer = 0;
    const id = trail.id;
    if (!id) return;
    const my = ++trailGen;
    trailFetched = performance.now();
    let f;
    try {
      f = await getJSON(`${API}/objects/${encodeURIComponent(id)}/history`, { from: new Date(Date.now() - trailMin * 60000).toISOString() });
    } catch (e) {
      if (e.status !== 404) console.warn('trail:', e.message);
      return;
    }
    if (my !== trailGen || trail.id !== id) return;
    const g = f.geometry;
    const coords = !g ? [] : g.type === 'Point' ? [g.coordinates] : g.coordinates;
    const times = (f.properties?.times || []).map((t) => Date.parse(t));
    const last = times.length ? times[times.length - 1] : -Infinity;
    trail.coords = coords.map((c) => [c[0], c[1]]);
    trail.times = times;
    // States that arrived over the websocket while the request was out.
    const old = trailPending;
    trailPending = [];
    for (const [c, t] of old) if (t > last) { trail.coords.push(c); trail.times.push(t); }
    drawTrail();
  }

  /** extendTrail appends a new state of the selected object and refetches now and then. */
  function extendTrail(o) {
    const t = Date.parse(o.time);
    const n = trail.times.length;
    if (n && !(t > trail.times[n - 1])) return;
    const c = [o.lon, o.lat];
    trail.coords.push(c);
    trail.times.push(t);
    trailPending.push([c, t]);
    if (trailPending.length > 1000) trailPending.shift();
    const cut = t - trailMin * 60000;
    let drop = 0;
    while (drop < trail.times.length - 1 && trail.times[drop] < cut) drop++;
    if (drop) { trail.coords.splice(0, drop); trail.times.splice(0, drop); }
    drawTrail();
    if (!trailTimer) trailTimer = setTimeout(fetchTrail, Math.max(0, TRAIL_REFETCH_MS - (performance.now() - trailFetched)));
  }

  function setTrailWindow(min) {
    if (trailMin === min) return;
    trailMin = min;
    ct.trailWindow = min;
    fetchTrail();
    showSelected();
  }

  function clearTrail() {
    trail = { id: null, coords: [], times: [] };
    trailPending = [];
    trailGen++;
    clearTimeout(trailTimer);
    trailTimer = 0;
    drawTrail();
  }

  function showSelected() {
    lastInspect = performance.now();
    const o = objects.get(selected);
    if (!inspector?.active()) return;
    if (!o) {
      inspector.body.replaceChildren(h('section', { class: 'isec' }, h('p', { class: 'muted' }, `${selected} has left the view or was removed.`)));
      return;
    }
    const row = (k, v) => h('tr', null, h('th', null, k), h('td', null, v));
    const t = new Date(o.time);
    const age = Math.max(0, Math.round((Date.now() - t) / 1000));
    const heading = typeof o.heading === 'number' ? `${fmt(o.heading)}° ${COMPASS[Math.round(o.heading / 45) % 8]}` : '—';
    const speed = typeof o.speed === 'number' ? `${o.speed.toFixed(1)} m/s (${(o.speed * 3.6).toFixed(0)} km/h)` : '—';
    const state = o.state && typeof o.state === 'object' ? Object.entries(o.state) : [];
    inspector.body.replaceChildren(
      h('section', { class: 'isec' }, h('h3', null, 'Live object'),
        h('table', { class: 'props live-props' }, h('tbody', null,
          row('id', h('code', null, o.id)),
          row('layer', o.layer),
          row('speed', speed),
          row('heading', heading),
          row('time', `${t.toLocaleString('en-GB', { hour12: false })} (${age < 90 ? `${age} s` : `${Math.round(age / 60)} min`} ago)`),
          row('position', `${o.lat.toFixed(6)}, ${o.lon.toFixed(6)}`),
          o.height ? row('height', `${fmt(o.height)} m`) : null,
          row('grid code', h('code', { class: 'live-code' }, o.code || '—')),
        ))),
      h('section', { class: 'isec' }, h('h3', null, 'Trail'),
        h('div', { class: 'trail-row' },
          h('div', { class: 'seg trail-seg', role: 'group', 'aria-label': 'Trail length' },
            [15, 60].map((min) => h('button', { type: 'button', 'data-trail': min, 'aria-pressed': String(trailMin === min),
              onclick: () => setTrailWindow(min) }, min < 60 ? `${min} min` : `${min / 60} h`))),
          (trailCountEl = h('span', { class: 'dim trail-count' }, trailText())))),
      h('section', { class: 'isec' }, h('h3', null, 'State'),
        state.length ? h('table', { class: 'props' }, h('tbody', null, state.map(([k, v]) => row(k.replace(/_/g, ' '), fmt(v)))))
          : h('p', { class: 'muted' }, 'No state reported.')),
    );
  }

  function unselect() {
    selected = null;
    inspector = null;
    map.setFilter('ct-live-selected', ['==', ['get', 'id'], '']);
    clearTrail();
  }

  ct.liveObject = (id) => {
    const f = drawn.get(id);
    return f ? { ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] } : null;
  };
  ct.liveSelect = select;
  ct.trailPoints = 0;
  ct.trailWindow = trailMin;
  ct.liveCount = 0;
  ct.liveConnected = false;
  renderPanel({});
  connect();

  return {
    unselect,
    reconnect() { // a token was entered: connect with it now
      const old = ws;
      ws = null;
      connected = false;
      old?.close();
      connect();
    },
    asOf(t) {
      historic = !!t;
      statusEl.title = historic ? 'Live objects are hidden in a historic view' : '';
      container.classList.toggle('live-historic', historic);
      for (const l of ['ct-trail-line', 'ct-trail-point']) map.setLayoutProperty(l, 'visibility', historic ? 'none' : 'visible');
      schedule();
    },
  };
}

let instance = null;
registerHook('live-objects', {
  mount(ctx) { instance = mount(ctx); },
  featureSelected() { instance?.unselect(); },
  asOfChanged(t) { instance?.asOf(t); },
  signedIn() { instance?.reconnect(); },
});
