// Shared by both viewers: MapLibre set-up, API calls and grid-cell
// geometry. Everything is fetched from this server; nothing from a CDN.
import { setWorkerUrl } from 'maplibre-gl';

/* global __MAPLIBRE_WORKER_URL__ */
setWorkerUrl(__MAPLIBRE_WORKER_URL__);

export const API = '/api/v1';

/** City time zone of the Dalian sample (dates in the UI are local days). */
export const CITY_TZ = '+08:00';

// Servers run with --private-reads want a bearer token on every read too
// (any role). Each page says where its token lives and what to do on a 401
// (useToken); API calls, MapLibre's requests (transformRequest) and the
// websocket (wsURL, ?access_token=) then carry it. Without a token nothing
// is added: a server with public reads sees the same requests as before.
let tokenOf = () => '';
let onDenied = () => {};

/** useToken sets the page's token getter and its 401 handler. */
export function useToken(get, denied) { tokenOf = get; onDenied = denied; }

/** denied reports a 401 (a read needs a token, or a better one). */
export const denied = () => onDenied();

/** bearer returns {Authorization} for the page's token, or {}. */
export function bearer() {
  const t = tokenOf();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** transformRequest (MapLibre's option) adds the token to this server's /api/ requests. */
export function transformRequest(url) {
  const u = new URL(url, location.href);
  return u.origin === location.origin && u.pathname.startsWith('/api/') ? { url, headers: bearer() } : { url };
}

/** wsURL is the live websocket's URL, with ?access_token= when there is a token. */
export function wsURL() {
  const t = tokenOf();
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws${t ? `?access_token=${encodeURIComponent(t)}` : ''}`;
}

/**
 * probe asks the server, after a websocket failed to open (browsers hide
 * the handshake's status), whether reads need a token: a 401 calls denied.
 */
export function probe() {
  fetch(`${API}/layers`, { method: 'HEAD', headers: bearer() }).then((r) => { if (r.status === 401) denied(); }, () => {});
}

/** getJSON fetches an API path and throws the server's error message. */
export async function getJSON(path, params) {
  const qs = params ? '?' + new URLSearchParams(params) : '';
  const res = await fetch(path + qs, { headers: { Accept: 'application/json', ...bearer() } });
  if (res.status === 401) denied();
  let body = null;
  try { body = await res.json(); } catch { /* empty or not JSON */ }
  if (!res.ok) {
    const err = new Error((body && body.error) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** locate asks the server for the cell of a scheme and level at a point. */
export const locate = (lng, lat, scheme, level) =>
  getJSON(`${API}/grid/locate`, { lat: lat.toFixed(9), lon: lng.toFixed(9), scheme, level });

/** boundsPolygon turns [w,s,e,n] into a GeoJSON Feature. */
export function boundsPolygon(b, properties = {}) {
  const [w, s, e, n] = b;
  return {
    type: 'Feature', properties,
    geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
  };
}

/** geometryBounds returns [w,s,e,n] of any GeoJSON geometry. */
export function geometryBounds(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((x) => walk(x.coordinates));
  else walk(g.coordinates);
  return b;
}

/** cellSize describes a cell's extent in metres, e.g. "124 × 96 m". */
export function cellSize([w, s, e, n]) {
  const m = 111320;
  const dx = (e - w) * m * Math.cos(((s + n) / 2) * Math.PI / 180);
  const dy = (n - s) * m;
  const f = (v) => (v >= 10000 ? `${(v / 1000).toFixed(0)} km` : v >= 1000 ? `${(v / 1000).toFixed(1)} km` : v >= 10 ? `${v.toFixed(0)} m` : `${v.toFixed(1)} m`);
  return `${f(dx)} × ${f(dy)}`;
}

/** h builds a DOM element: h('td', {class: 'x'}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** fmt renders a property value for a table cell. */
export function fmt(v) {
  if (v == null || v === '') return '—';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Math.abs(v) < 10000 ? String(v) : v.toLocaleString('en'); // years stay 1991
    return v.toLocaleString('en', { maximumFractionDigits: 3 });
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** emptyFC is an empty GeoJSON FeatureCollection. */
export const emptyFC = () => ({ type: 'FeatureCollection', features: [] });
