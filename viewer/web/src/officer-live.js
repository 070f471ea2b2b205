// The officer page's live part: sharing the officer's own position with the
// live twin, and their colleagues (layer "officers") on the map.
//
//   - "Share my location" (off by default, remembered in localStorage):
//     the device's position (watchDevice: one high-accuracy watchPosition
//     shared with the map) → POST /api/v1/objects as layer
//     "officers", at most every 5 s, when the officer moved more than 10 m
//     (or a minute passed); a failed send is retried with backoff (2 s to
//     60 s, jittered; at once when the browser comes back online), keeping
//     only the latest position; 401/403 stops sending until the settings
//     change and says a device token is needed;
//   - settings (officer id, display name, access token) in a dialog, kept
//     in localStorage (citytwin-officer);
//   - colleagues: a websocket subscription to layer "officers" in the view
//     (re-sent 300 ms after each move), drawn as green dots with name
//     labels (canvas images: the style has no glyphs), the officer
//     themself left out; reconnects with backoff (0.5 s to 15 s).
//
// Test hooks on window.__citytwin: sharing (the switch), shareState (off,
// wait, ok, retry, token, error), lastSent (the update last accepted, with
// sentAt and ackAt), officerCount (colleagues drawn), officers (their ids),
// officersConnected.
import { API, emptyFC, probe } from './lib/common.js';

const $ = (id) => document.getElementById(id);
const LAYER = 'officers';
const SUB = 'officers';
const MIN_GAP_MS = 5000; // at most one update every 5 s
const MIN_MOVE_M = 10; // … and only after moving this far
const STILL_MS = 60000; // … or after this long standing still
const STALE_MS = 10 * 60000; // colleagues silent this long are faded
const KEY_SETTINGS = 'citytwin-officer';
const KEY_SHARE = 'citytwin-share';
const TOKEN_MSG = 'This server needs a device token to share your location. Enter one below (ask your control room).';

const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode: not remembered */ } },
};

const metres = (a, b) => Math.hypot((a.lon - b.lon) * 111320 * Math.cos(a.lat * Math.PI / 180), (a.lat - b.lat) * 110540);
const hms = (d) => d.toLocaleTimeString('en-GB', { hour12: false });

/** loadSettings reads the officer's settings ({id, name, token}) from localStorage. */
export function loadSettings() {
  try {
    const s = JSON.parse(store.get(KEY_SETTINGS) || '{}');
    return { id: String(s.id || ''), name: String(s.name || ''), token: String(s.token || '') };
  } catch {
    return { id: '', name: '', token: '' };
  }
}

let applyToken = null; // the running startLive's: take a new token

/** saveToken stores an access token in the settings (the sign-in banner). */
export function saveToken(token) {
  store.set(KEY_SETTINGS, JSON.stringify({ ...loadSettings(), token }));
  applyToken?.(token);
}

/** labelImage draws a name pill (pixel ratio 2) for a colleague's label. */
function labelImage(text) {
  const r = 2;
  const c = document.createElement('canvas');
  const g = c.getContext('2d');
  const font = `600 ${12 * r}px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif`;
  g.font = font;
  const w = Math.ceil(g.measureText(text).width) + 14 * r;
  const hgt = 20 * r;
  c.width = w;
  c.height = hgt;
  g.font = font;
  g.fillStyle = 'rgba(6,78,59,0.92)';
  g.beginPath();
  g.roundRect(0, 0, w, hgt, hgt / 2);
  g.fill();
  g.fillStyle = '#fff';
  g.textBaseline = 'middle';
  g.fillText(text, 7 * r, hgt / 2 + r / 2);
  return g.getImageData(0, 0, w, hgt);
}

// One watchPosition for the page, shared by the map (officer.js) and
// sharing: a second watch in the same page may not be answered until the
// position changes (Chromium), so a late subscriber gets the last fix.
const geo = { id: null, subs: new Set(), last: null };

/** watchDevice follows the device's position (high accuracy); returns a stop function. */
export function watchDevice(onPos, onErr) {
  const sub = { onPos, onErr };
  geo.subs.add(sub);
  if (geo.last) { const p = geo.last; setTimeout(() => { if (geo.subs.has(sub)) onPos(p); }); }
  if (geo.id == null) {
    geo.id = navigator.geolocation.watchPosition(
      (p) => { geo.last = p; for (const s of [...geo.subs]) s.onPos(p); },
      (e) => { for (const s of [...geo.subs]) s.onErr?.(e); },
      { enableHighAccuracy: true, maximumAge: 15000, timeout: 20000 });
  }
  return () => {
    geo.subs.delete(sub);
    if (geo.subs.size || geo.id == null) return;
    navigator.geolocation.clearWatch(geo.id);
    geo.id = null;
    geo.last = null;
  };
}

// Other modules' subscriptions on the officer's socket (liveSubscribe):
// id → {request, onMessage}; sent on every (re)connect.
const extraSubs = new Map();
let sendExtra = () => {};

/**
 * liveSubscribe sends a subscription on the page's socket now (when open)
 * and after every reconnect, and hands over each message whose sub is the
 * request's id, plus {op: 'closed'} when the socket drops. Calling it again
 * with the same id replaces the subscription.
 */
export function liveSubscribe(request, onMessage) {
  extraSubs.set(request.id, { request, onMessage });
  sendExtra(request);
}

export function startLive({ map, ct }) {
  let settings = loadSettings();
  let sharing = store.get(KEY_SHARE) === '1';
  let blocked = false; // 401/403: no sends until the settings change
  let unwatch = null;
  let pending = null; // the latest position not yet sent
  let latest = null; // the latest position seen
  let last = null; // the last position the server accepted {lon, lat, at}
  let lastAttempt = 0;
  let inflight = false;
  let timer = 0;
  let backoff = 2000;
  let retryAt = 0;
  let haveFix = false;
  let openAfterSave = false; // the switch was turned on without an id

  const shareBtn = $('share');
  const statusEl = $('share-status');
  const dialog = $('share-dialog');
  const msgEl = $('share-msg');

  // ------------------------------------------------------------ status
  function status(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    ct.shareState = state;
  }
  const lastText = () => (last ? ` · last sent ${hms(new Date(last.at))}` : '');

  function showSwitch() {
    shareBtn.setAttribute('aria-checked', String(sharing));
    ct.sharing = sharing;
  }

  // ---------------------------------------------------------- settings
  function openSettings(msg) {
    msgEl.textContent = msg || '';
    $('set-id').value = settings.id;
    $('set-name').value = settings.name;
    $('set-token').value = settings.token;
    $('set-id').removeAttribute('aria-invalid');
    if (!dialog.open) dialog.showModal();
    (msg === TOKEN_MSG ? $('set-token') : $('set-id')).focus();
  }

  $('share-form').addEventListener('submit', (e) => {
    const id = $('set-id').value.trim();
    if (!id) {
      e.preventDefault();
      $('set-id').setAttribute('aria-invalid', 'true');
      msgEl.textContent = 'Enter your officer id: colleagues see you under it.';
      $('set-id').focus();
      return;
    }
    const next = { id, name: $('set-name').value.trim(), token: $('set-token').value.trim() };
    const changed = JSON.stringify(next) !== JSON.stringify(settings);
    const tokenChanged = next.token !== settings.token;
    if (next.id !== settings.id) last = null;
    settings = next;
    store.set(KEY_SETTINGS, JSON.stringify(settings));
    if (changed) blocked = false;
    if (tokenChanged) reconnect();
    draw();
    if (openAfterSave) { openAfterSave = false; setSharing(true); return; }
    if (sharing) { pending = pending || latest; status('wait', haveFix ? `Sharing on · sending…${lastText()}` : 'Sharing on · waiting for GPS…'); plan(); }
  });
  $('share-cancel').addEventListener('click', () => { openAfterSave = false; dialog.close(); });
  $('share-settings').addEventListener('click', () => openSettings(blocked ? TOKEN_MSG : ''));

  // ----------------------------------------------------------- sharing
  function setSharing(on) {
    if (on && !settings.id) {
      openAfterSave = true;
      openSettings('Set your officer id to share your location.');
      return;
    }
    sharing = on;
    store.set(KEY_SHARE, on ? '1' : '0');
    showSwitch();
    clearTimeout(timer);
    timer = 0;
    if (!on) {
      unwatch?.();
      unwatch = null;
      pending = null;
      haveFix = false;
      latest = null;
      status('off', `Not sharing your location${lastText()}`);
      return;
    }
    if (!('geolocation' in navigator)) { status('error', 'No location on this device: cannot share'); return; }
    if (blocked) status('token', 'Not sent: this server needs a device token to share your location');
    else status('wait', 'Sharing on · waiting for GPS…');
    unwatch ??= watchDevice(onPosition, (err) => {
      if (!sharing || (haveFix && err.code !== err.PERMISSION_DENIED)) return;
      status('error', err.code === err.PERMISSION_DENIED ? 'Location denied: cannot share' : 'No GPS fix yet: not sharing');
    });
  }

  function onPosition(pos) {
    if (!sharing) return;
    const c = pos.coords;
    const fix = { lon: c.longitude, lat: c.latitude, time: new Date(pos.timestamp || Date.now()).toISOString(), accuracy: c.accuracy };
    if (Number.isFinite(c.heading) && c.heading >= 0) fix.heading = c.heading % 360;
    if (Number.isFinite(c.speed) && c.speed >= 0) fix.speed = c.speed;
    haveFix = true;
    pending = latest = fix;
    plan();
  }

  /** plan sends the pending position now or sets a timer for when it may. */
  function plan() {
    if (!sharing || blocked || inflight || !pending || !settings.id) return;
    const now = Date.now();
    if (retryAt > now) return; // a retry timer is set
    if (last && metres(last, pending) <= MIN_MOVE_M && now - last.at < STILL_MS) {
      pending = null; // not worth an update: the server has it within 10 m
      if (ct.shareState === 'wait') status('ok', `Sharing${lastText()}`);
      return;
    }
    const wait = lastAttempt + MIN_GAP_MS - now;
    clearTimeout(timer);
    if (wait > 0) { timer = setTimeout(plan, wait); return; }
    timer = 0;
    send();
  }

  async function send() {
    const fix = pending;
    pending = null;
    inflight = true;
    const sentAt = (lastAttempt = Date.now());
    const update = { id: settings.id, layer: LAYER, lon: +fix.lon.toFixed(7), lat: +fix.lat.toFixed(7) };
    if (fix.heading != null) update.heading = Math.round(fix.heading * 10) / 10;
    if (fix.speed != null) update.speed = Math.round(fix.speed * 100) / 100;
    update.time = fix.time;
    update.state = { accuracy_m: Math.round((fix.accuracy || 0) * 10) / 10, name: settings.name || settings.id };
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (settings.token) headers.Authorization = `Bearer ${settings.token}`;
    const token = settings.token;
    let res = null, body = null;
    try {
      res = await fetch(`${API}/objects`, { method: 'POST', headers, body: JSON.stringify(update) });
      try { body = await res.json(); } catch { /* not JSON */ }
    } catch { /* offline: retried below */ }
    inflight = false;
    if (!sharing) return;
    if (res && (res.status === 401 || res.status === 403)) {
      pending = pending || fix;
      if (settings.token !== token) { plan(); return; } // the settings changed meanwhile
      blocked = true;
      status('token', 'Not sent: this server needs a device token to share your location');
      openSettings(TOKEN_MSG);
      return;
    }
    if (res && res.ok) {
      backoff = 2000;
      retryAt = 0;
      const superseded = body && body.applied === 0 && body.superseded > 0;
      last = { lon: update.lon, lat: update.lat, at: Date.now() };
      ct.lastSent = { ...update, sentAt: new Date(sentAt).toISOString(), ackAt: new Date(last.at).toISOString(), superseded };
      status('ok', `Sharing${lastText()}`);
      plan();
      return;
    }
    if (res && res.status === 400) {
      // Rejected (a bad id, a clock far ahead): say why; the next fix tries again.
      const why = (body && (body.rejected?.[0]?.error || body.error)) || 'rejected';
      status('error', `Error: ${why}`);
      plan();
      return;
    }
    // Offline, 5xx or 429: keep the latest position and retry with backoff.
    pending = pending || fix;
    const wait = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, 60000);
    retryAt = Date.now() + wait;
    clearTimeout(timer);
    timer = setTimeout(() => { retryAt = 0; plan(); }, wait);
    status('retry', `${res ? `Server error ${res.status}` : 'Offline'} · retrying in ${Math.round(wait / 1000)} s${lastText()}`);
  }

  addEventListener('online', () => {
    if (!retryAt) return;
    retryAt = 0;
    backoff = 2000;
    clearTimeout(timer);
    plan();
  });

  shareBtn.addEventListener('click', () => setSharing(!sharing));

  // -------------------------------------------------------- colleagues
  const objects = new Map(); // id → update as received
  let ws = null;
  let wsBackoff = 500;
  let wsTimer = 0;
  let lastMsg = 0;
  let box = null;

  map.addSource('officers', { type: 'geojson', data: emptyFC() });
  map.addLayer({ id: 'officers-dot', type: 'circle', source: 'officers', paint: {
    'circle-radius': 8, 'circle-color': '#059669', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3,
    'circle-opacity': ['case', ['get', 'stale'], 0.45, 1], 'circle-stroke-opacity': ['case', ['get', 'stale'], 0.45, 1],
  } }, 'me-accuracy');
  map.addLayer({ id: 'officers-label', type: 'symbol', source: 'officers', layout: {
    'icon-image': ['get', 'img'], 'icon-anchor': 'top', 'icon-offset': [0, 12],
    'icon-allow-overlap': true, 'icon-ignore-placement': true,
  }, paint: { 'icon-opacity': ['case', ['get', 'stale'], 0.55, 1] } }, 'me-accuracy');

  function draw() {
    const features = [];
    const now = Date.now();
    for (const o of objects.values()) {
      if (o.id === settings.id) continue;
      const label = String(o.state?.name || o.id).slice(0, 28);
      const img = `officer:${label}`;
      if (!map.hasImage(img)) map.addImage(img, labelImage(label), { pixelRatio: 2 });
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [o.lon, o.lat] },
        properties: { id: o.id, name: label, img, stale: now - Date.parse(o.time) > STALE_MS } });
    }
    map.getSource('officers')?.setData({ type: 'FeatureCollection', features });
    ct.officerCount = features.length;
    ct.officers = features.map((f) => f.properties.id).sort();
  }

  function viewBox() {
    const b = map.getBounds();
    const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const dx = (e - w) / 4, dy = (n - s) / 4;
    const c = (v, lim) => Math.round(Math.min(lim, Math.max(-lim, v)) * 1e7) / 1e7;
    return [c(w - dx, 180), c(s - dy, 90), c(e + dx, 180), c(n + dy, 90)];
  }
  const inBox = (o) => box && o.lon >= box[0] && o.lon <= box[2] && o.lat >= box[1] && o.lat <= box[3];

  function subscribe() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    box = viewBox();
    ws.send(JSON.stringify({ op: 'subscribe', id: SUB, layers: [LAYER], bbox: box }));
    let dropped = false;
    for (const [id, o] of objects) if (!inBox(o)) { objects.delete(id); dropped = true; }
    if (dropped) draw();
  }

  function connect() {
    clearTimeout(wsTimer);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = settings.token ? `?access_token=${encodeURIComponent(settings.token)}` : '';
    const sock = new WebSocket(`${proto}//${location.host}/ws${q}`);
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      if (ws !== sock) return;
      opened = true;
      wsBackoff = 500;
      lastMsg = Date.now();
      ct.officersConnected = true;
      objects.clear();
      subscribe();
      for (const { request } of extraSubs.values()) sock.send(JSON.stringify(request));
    };
    sock.onmessage = (ev) => {
      if (ws !== sock) return;
      lastMsg = Date.now();
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      const key = m.sub ?? (m.op === 'subscribed' || m.op === 'error' ? m.id : null);
      const extra = key != null && key !== SUB ? extraSubs.get(key) : null;
      if (extra) { extra.onMessage(m); return; }
      if (m.op !== 'state' || m.sub !== SUB) return;
      for (const o of m.objects || []) if (inBox(o)) objects.set(o.id, o);
      for (const id of m.left || []) objects.delete(id);
      draw();
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      if (!opened) probe(); // refused: perhaps reads need a token
      ws = null;
      ct.officersConnected = false;
      for (const { onMessage } of extraSubs.values()) onMessage({ op: 'closed' });
      const wait = wsBackoff * (0.75 + Math.random() * 0.5);
      wsBackoff = Math.min(wsBackoff * 2, 15000);
      wsTimer = setTimeout(connect, wait);
    };
  }

  sendExtra = (request) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(request)); };

  function reconnect() {
    const old = ws;
    ws = null;
    old?.close();
    connect();
  }

  setInterval(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMsg > 50000) { ws.close(); return; }
    ws.send('{"op":"ping"}');
  }, 20000);
  setInterval(draw, 60000); // fade colleagues who fell silent

  let moveTimer = 0;
  map.on('moveend', () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(subscribe, 300);
  });

  applyToken = (token) => {
    settings = { ...settings, token };
    blocked = false;
    reconnect();
  };
  ct.officerCount = 0;
  ct.officers = [];
  ct.officersConnected = false;
  ct.lastSent = null;
  ct.officerSettings = () => ({ id: settings.id, name: settings.name, token: !!settings.token });
  showSwitch();
  if (sharing) setSharing(true);
  else status('off', 'Not sharing your location');
  connect();
}
