// Case work on the officer's phone (the 'cases' hook of officer.html; the
// API is docs/CASES.md): the cases of the unit grid the officer stands in,
// newest first, with status chips, overdue/escalated highlighted and the
// current stage's countdown; a case's detail (its place on the map, status,
// assignee, deadlines, log) with the allowed next steps as big buttons;
// "Report a case" (category, title, description, the officer's position or
// a point tapped / long-pressed on the map); open cases on the map coloured
// by status; live updates over the officer page's socket (case.* events of
// the grid) with a toast for new cases. Writes carry the settings' token
// (Authorization: Bearer); 401/403 say an officer token bound to this grid
// is needed, 409 shows the server's allowed next statuses.
//
// Test hooks on window.__citytwin: caseCount, cases (as listed), caseDetail
// (the case shown, with its log), caseFeed (connecting, subscribed,
// closed, error), caseMsg (the last error or notice shown), caseToast,
// caseMarker ([lon, lat] of the case shown or reported, ringed on the map),
// casePicking (waiting for a tap on the map).
import { API, emptyFC, getJSON, h } from './lib/common.js';
import { registerHook } from './lib/hooks.js';
import { liveSubscribe, loadSettings } from './officer-live.js';

const $ = (id) => document.getElementById(id);
const SUB = 'cases';
const FINAL = new Set(['closed', 'rejected']);
const TOKEN_MSG = 'This needs an officer token bound to this grid. Set it in the settings (the person icon).';
export const STATUS_COLOURS = {
  intake: '#7c3aed', registered: '#2563eb', dispatched: '#ea580c', handled: '#0891b2',
  verified: '#16a34a', closed: '#6b7280', rejected: '#9ca3af',
};
// The next steps of each status (docs/CASES.md, Workflow): label, body, what it needs.
const ACTIONS = {
  intake: [{ label: 'Register', to: 'registered' }, { label: 'Reject', to: 'rejected', note: true, cls: 'danger' }],
  registered: [{ label: 'Dispatch', to: 'dispatched', assignee: true }],
  dispatched: [{ label: 'Handled', to: 'handled', note: true }],
  handled: [{ label: 'Verified OK', to: 'verified', ok: true }, { label: 'Rework', to: 'verified', ok: false, note: true, cls: 'danger' }],
  verified: [{ label: 'Close', to: 'closed' }],
};

/** span renders a duration: "in 2 h 05 min" / "5 min ago". */
function span(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  return hrs < 48 ? `${hrs} h ${String(m % 60).padStart(2, '0')} min` : `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}
const countdown = (t) => {
  const ms = Date.parse(t) - Date.now();
  return ms >= 0 ? `due in ${span(ms)}` : `overdue ${span(ms)}`;
};
const when = (t) => (t ? new Date(t).toLocaleString('en-GB', { hour12: false, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '—');
const overdue = (c) => !FINAL.has(c.status) && c.deadline && Date.parse(c.deadline) < Date.now();

/** send POSTs JSON with the settings' token; resolves {status, body}. */
async function send(path, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const { token } = loadSettings();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(API + path, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch {
    return { status: 0, body: { error: 'offline: not sent' } };
  }
  let b = null;
  try { b = await res.json(); } catch { /* not JSON */ }
  return { status: res.status, body: b };
}

/** problem turns an error response into a sentence for the officer. */
function problem({ status, body }) {
  if (status === 401 || status === 403) return TOKEN_MSG;
  if (status === 409 && body?.detail?.allowed) {
    const a = body.detail.allowed;
    return `Not allowed now: the case is ${body.detail.status}; ${a.length ? `allowed: ${a.join(', ')}` : 'it is final'}.`;
  }
  if (status === 400 && body?.detail?.field === 'lon,lat') return 'This point is in no unit grid: choose a point inside a grid.';
  if (status === 400 && body?.detail?.field) return `${body.detail.field}: ${body.error.replace(/^[^:]*:\s*/, '')}`;
  return (body && body.error) || `server error ${status}`;
}

registerHook('cases', {
  mount(ctx) { start(ctx); },
  gridChanged(g) { gridChanged?.(g ? g.properties.code || String(g.id) : null); },
});

let gridChanged = null;

function start({ map, container, position, grid }) {
  const ct = window.__citytwin;
  const body = container.querySelector('.hook-body');
  const empty = container.querySelector('.hook-empty');
  const panel = $('case-panel');
  const panelBody = $('case-panel-body');
  let code = grid();
  let cases = []; // newest first
  let detail = null; // the case shown, with its log
  let mode = null; // 'detail' | 'report' | null
  let report = null; // the report form's state {lon, lat, how}
  let categories = null;
  let picking = false;
  let loadSeq = 0;
  let toastTimer = 0;
  const mine = new Set(); // ids this page reported (no toast for them)

  Object.assign(ct, { caseCount: 0, cases: [], caseDetail: null, caseFeed: 'connecting', caseMsg: '', caseToast: '' });

  // ------------------------------------------------------------- map
  map.addSource('cases', { type: 'geojson', data: emptyFC() });
  map.addSource('case-sel', { type: 'geojson', data: emptyFC() });
  const colour = ['match', ['get', 'status'], ...Object.entries(STATUS_COLOURS).flat(), '#111827'];
  map.addLayer({ id: 'case-sel-ring', type: 'circle', source: 'case-sel', paint: {
    'circle-radius': 18, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#dc2626', 'circle-stroke-width': 4 } }, 'me-accuracy');
  map.addLayer({ id: 'cases-dot', type: 'circle', source: 'cases', paint: {
    'circle-radius': ['case', ['get', 'late'], 9, 7], 'circle-color': colour,
    'circle-stroke-color': ['case', ['get', 'late'], '#dc2626', '#fff'], 'circle-stroke-width': ['case', ['get', 'late'], 3, 2] } }, 'me-accuracy');

  function drawMap() {
    map.getSource('cases').setData({ type: 'FeatureCollection', features: cases.filter((c) => !FINAL.has(c.status)).map((c) => ({
      type: 'Feature', id: undefined, properties: { id: c.id, status: c.status, late: overdue(c) || c.escalation > 0 },
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] } })) });
    const sel = mode === 'detail' && detail ? [detail.lon, detail.lat] : mode === 'report' && report ? [report.lon, report.lat] : null;
    ct.caseMarker = sel;
    map.getSource('case-sel').setData(sel ? { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: sel } } : emptyFC());
  }
  map.on('click', 'cases-dot', (e) => { if (!picking && e.features[0]) openDetail(e.features[0].properties.id); });
  map.on('mouseenter', 'cases-dot', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'cases-dot', () => { map.getCanvas().style.cursor = ''; });

  // ------------------------------------------------------------- list
  function say(msg) { ct.caseMsg = msg; }

  async function load() {
    const seq = ++loadSeq;
    if (!code) {
      cases = [];
      empty.textContent = 'Not inside a unit grid: no cases to show.';
      container.dataset.hookState = 'empty';
      render();
      return;
    }
    try {
      const r = await getJSON(`${API}/cases`, { grid: code, limit: 1000 });
      if (seq !== loadSeq) return;
      cases = (r.cases || []).sort((a, b) => (a.id < b.id ? 1 : -1));
      container.dataset.hookState = 'mounted';
    } catch (e) {
      if (seq !== loadSeq) return;
      empty.textContent = `Could not load cases: ${e.message}`;
      container.dataset.hookState = 'empty';
    }
    render();
  }

  function chip(status) { return h('span', { class: `chip s-${status}` }, status); }

  function render() {
    const open = cases.filter((c) => !FINAL.has(c.status)).length;
    $('case-count').textContent = String(open);
    ct.caseCount = cases.length;
    ct.cases = cases.map((c) => ({ id: c.id, status: c.status, title: c.title, grid: c.grid, overdue: overdue(c), escalation: c.escalation }));
    body.replaceChildren(cases.length ? h('ul', { class: 'case-list' }, cases.map((c) => {
      const late = overdue(c), esc = c.escalation > 0;
      return h('li', null, h('button', { type: 'button', class: `case-item${late || esc ? ' late' : ''}`, 'data-id': c.id, onclick: () => openDetail(c.id) },
        h('span', { class: 'case-top' }, chip(c.status), esc ? h('span', { class: 'chip esc' }, `escalated ${c.escalation}`) : null,
          h('span', { class: 'case-id' }, c.id)),
        h('span', { class: 'case-title' }, c.title || '(untitled)'),
        h('span', { class: 'case-sub' }, `${c.category_name || c.category}${FINAL.has(c.status) ? ` · ${when(c.updated)}` : c.deadline ? ` · ${countdown(c.deadline)}` : ''}`)));
    })) : h('p', { class: 'hook-empty' }, code ? 'No cases in this grid.' : ''));
    drawMap();
  }

  // ------------------------------------------------------------ panel
  function openPanel(title) {
    $('case-panel-title').textContent = title;
    panel.hidden = false;
    $('sheet').hidden = true;
    panelBody.scrollTop = 0;
  }
  function closePanel() {
    mode = null;
    detail = null;
    report = null;
    ct.caseDetail = null;
    panel.hidden = true;
    $('sheet').hidden = false;
    drawMap();
  }
  $('case-back').addEventListener('click', closePanel);

  const padding = () => ({ top: 56, bottom: panel.offsetHeight || 0, left: 0, right: 0 });
  const show = (lon, lat) => map.easeTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 16.5), padding: padding(), duration: 400 });

  /**
   * openDetail shows a case (msg: a notice above the buttons). With refresh
   * it only updates the case already shown (keeping what is typed unless
   * reset or the status changed).
   */
  async function openDetail(id, msg = '', refresh = false, reset = false) {
    let c;
    try { c = await getJSON(`${API}/cases/${encodeURIComponent(id)}`); } catch (e) { say(`Could not load ${id}: ${e.message}`); return; }
    const shown = mode === 'detail' && detail?.id === id;
    if (refresh && !shown) return;
    const first = !shown;
    const changed = shown && detail.status !== c.status;
    mode = 'detail';
    detail = c;
    ct.caseDetail = c;
    renderDetail(msg, first || changed || reset);
    if (first) { openPanel(c.id); show(c.lon, c.lat); }
    drawMap();
  }

  function renderDetail(msg, reset) {
    const c = detail;
    const keep = reset ? {} : { note: $('case-note')?.value, assignee: $('case-assignee')?.value };
    const row = (k, v) => [h('dt', null, k), h('dd', null, v)];
    const acts = ACTIONS[c.status] || [];
    const needsNote = acts.some((a) => a.note);
    const needsAssignee = acts.some((a) => a.assignee);
    const me = loadSettings().id;
    const msgEl = h('p', { class: 'form-msg', role: 'alert' }, msg || '');
    const late = overdue(c);
    panelBody.replaceChildren(...[
      h('div', { class: 'case-head' }, chip(c.status), c.escalation > 0 ? h('span', { class: 'chip esc' }, `escalated ${c.escalation}`) : null,
        late ? h('span', { class: 'chip esc' }, 'overdue') : null),
      h('h3', { class: 'case-h' }, c.title || '(untitled)'),
      c.description ? h('p', { class: 'case-desc' }, c.description) : null,
      h('dl', { class: 'facts' },
        row('Category', `${c.category_name || ''} (${c.kind} ${c.category})`),
        row('Status', c.status),
        row('Assignee', c.assignee || '—'),
        row('Due', c.deadline && !FINAL.has(c.status) ? `${when(c.deadline)} · ${countdown(c.deadline)}` : '—'),
        ...Object.entries(c.deadlines || {}).flatMap(([k, v]) => row(`· ${k}`, when(v))),
        row('Reported', `${when(c.created)} by ${c.reporter || '—'}`),
        row('Grid', `${c.grid} ${c.community || ''}`),
        c.reworks ? row('Reworks', String(c.reworks)) : []),
      msgEl,
      acts.length ? h('div', { class: 'case-form' },
        needsAssignee ? [h('label', { for: 'case-assignee' }, 'Assignee'),
          h('input', { id: 'case-assignee', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', value: keep.assignee ?? me ?? '' })] : null,
        needsNote ? [h('label', { for: 'case-note' }, 'Note ', h('span', null, `(required to ${acts.filter((a) => a.note).map((a) => a.label.toLowerCase()).join(' / ')})`)),
          h('textarea', { id: 'case-note', rows: '2', maxlength: '2000' })] : null,
        h('div', { class: 'case-actions' }, acts.map((a) => h('button', { type: 'button', class: `btn ${a.cls || 'primary'}`, 'data-to': a.to + (a.ok === false ? '-rework' : ''),
          onclick: (e) => act(a, e.currentTarget) }, a.label)))) : h('p', { class: 'case-final' }, `This case is ${c.status}.`),
      h('h4', { class: 'log-h' }, 'Log'),
      h('ol', { class: 'case-log' }, (c.log || []).slice().reverse().map((l) => h('li', null,
        h('span', { class: 'log-top' }, `${when(l.at)} · ${l.event.replace(/^case\./, '')}${l.level ? ` ${l.level}` : ''}`),
        h('span', null, `${l.from ? `${l.from} → ` : ''}${l.to || ''}${l.by ? ` · ${l.by}` : ''}${l.role ? ` (${l.role})` : ''}${l.assignee ? ` · to ${l.assignee}` : ''}`),
        l.note ? h('span', { class: 'log-note' }, l.note) : null))),
    ].filter(Boolean));
    if (keep.note && $('case-note')) $('case-note').value = keep.note;
  }

  async function act(a, btn) {
    const c = detail;
    const msgEl = panelBody.querySelector('.form-msg');
    const req = { to: a.to };
    if (a.ok !== undefined) req.ok = a.ok;
    const note = $('case-note')?.value.trim() || '';
    if (a.note && !note) {
      msgEl.textContent = `Enter a note to ${a.label.toLowerCase()}.`;
      say(msgEl.textContent);
      $('case-note').setAttribute('aria-invalid', 'true');
      $('case-note').focus();
      return;
    }
    if (note && a.note) req.note = note;
    if (a.assignee) {
      const who = $('case-assignee').value.trim();
      if (!who) { msgEl.textContent = 'Enter who the case goes to.'; say(msgEl.textContent); $('case-assignee').focus(); return; }
      req.assignee = who;
    }
    for (const b of panelBody.querySelectorAll('.case-actions button')) b.disabled = true;
    btn.textContent = `${a.label}…`;
    const r = await send(`/cases/${encodeURIComponent(c.id)}/transitions`, req);
    if (detail?.id !== c.id) return;
    if (r.status === 200) {
      say('');
      await openDetail(c.id, `Done: the case is ${r.body.status}.`, true, true); // with the log
      const i = cases.findIndex((x) => x.id === c.id);
      if (i >= 0) { cases[i] = { ...cases[i], ...detail, log: null }; render(); }
      return;
    }
    const text = problem(r);
    say(text);
    if (r.status === 409) await openDetail(c.id, text, true);
    else renderDetail(text, false);
  }

  // ----------------------------------------------------------- report
  async function openReport(at) {
    const p = at || position();
    mode = 'report';
    detail = null;
    ct.caseDetail = null;
    report = p ? { lon: +(p.lng ?? p.lon).toFixed(7), lat: +p.lat.toFixed(7), how: at ? 'map' : 'here' } : null;
    openPanel('Report a case');
    renderReport('');
    if (report) show(report.lon, report.lat);
    drawMap();
    if (!categories) {
      try {
        categories = (await getJSON(`${API}/cases/categories`)).categories;
        if (mode === 'report') fillCategories();
      } catch (e) { if (mode === 'report') panelBody.querySelector('.form-msg').textContent = `Could not load categories: ${e.message}`; }
    }
  }

  function fillCategories() {
    const sel = $('rep-cat');
    if (!sel || !categories) return;
    const v = sel.value;
    sel.replaceChildren(h('option', { value: '' }, 'Choose a category…'),
      ...['event', 'component'].map((k) => h('optgroup', { label: k === 'event' ? 'Events (事件)' : 'Components (部件)' },
        categories.filter((c) => c.kind === k).map((c) => h('option', { value: `${c.kind}:${c.code}` }, `${c.code} ${c.name}${c.urgent ? ' (urgent)' : ''}`)))));
    sel.value = v;
  }

  function where() {
    if (!report) return 'No position yet: tap "Pick on map".';
    return `${report.how === 'map' ? 'Point on the map' : 'Your position'} · ${report.lat.toFixed(5)}, ${report.lon.toFixed(5)}`;
  }

  function renderReport(msg) {
    const keep = { cat: $('rep-cat')?.value, title: $('rep-title')?.value, desc: $('rep-desc')?.value };
    panelBody.replaceChildren(h('form', { class: 'case-form', id: 'rep-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); submitReport(); } },
      h('p', { class: 'form-msg', role: 'alert' }, msg),
      h('label', { for: 'rep-cat' }, 'Category'),
      h('select', { id: 'rep-cat', required: true }, h('option', { value: '' }, 'Loading categories…')),
      h('label', { for: 'rep-title' }, 'Title'),
      h('input', { id: 'rep-title', maxlength: '200', required: true, placeholder: 'e.g. 垃圾堆放' }),
      h('label', { for: 'rep-desc' }, 'Description ', h('span', null, '(optional)')),
      h('textarea', { id: 'rep-desc', rows: '3', maxlength: '4000' }),
      h('label', null, 'Location'),
      h('p', { class: 'rep-where', id: 'rep-where' }, where()),
      h('div', { class: 'case-actions' },
        h('button', { type: 'button', class: 'btn', id: 'rep-here', onclick: () => { const p = position(); if (p) setReportAt(p, 'here'); } }, 'My position'),
        h('button', { type: 'button', class: 'btn', id: 'rep-pick', onclick: startPick }, 'Pick on map')),
      h('button', { type: 'submit', class: 'btn primary wide', id: 'rep-send' }, 'Send report')));
    fillCategories();
    if (keep.cat) $('rep-cat').value = keep.cat;
    if (keep.title) $('rep-title').value = keep.title;
    if (keep.desc) $('rep-desc').value = keep.desc;
  }

  function setReportAt(p, how) {
    report = { lon: +(p.lng ?? p.lon).toFixed(7), lat: +p.lat.toFixed(7), how };
    if ($('rep-where')) $('rep-where').textContent = where();
    drawMap();
  }

  function startPick() {
    picking = true;
    panel.hidden = true;
    $('case-pick').hidden = false;
    ct.casePicking = true;
  }
  function endPick() {
    picking = false;
    ct.casePicking = false;
    $('case-pick').hidden = true;
    if (mode === 'report') panel.hidden = false;
  }
  $('case-pick-cancel').addEventListener('click', endPick);
  map.on('click', (e) => {
    if (!picking) return;
    setReportAt(e.lngLat, 'map');
    endPick();
  });
  // A long press on the map reports a case there.
  let press = 0, pressAt = null;
  const canvas = map.getCanvasContainer();
  canvas.addEventListener('touchstart', (e) => {
    clearTimeout(press);
    if (e.touches.length !== 1) return;
    const t = e.touches[0];
    pressAt = [t.clientX, t.clientY];
    press = setTimeout(() => {
      const r = canvas.getBoundingClientRect();
      const ll = map.unproject([pressAt[0] - r.left, pressAt[1] - r.top]);
      if (picking) { setReportAt(ll, 'map'); endPick(); } else if (mode !== 'report') openReport(ll);
      else setReportAt(ll, 'map');
    }, 650);
  }, { passive: true });
  const cancelPress = (e) => {
    if (e.type === 'touchmove' && pressAt && Math.hypot(e.touches[0].clientX - pressAt[0], e.touches[0].clientY - pressAt[1]) < 10) return;
    clearTimeout(press);
  };
  for (const ev of ['touchend', 'touchcancel', 'touchmove']) canvas.addEventListener(ev, cancelPress, { passive: true });

  async function submitReport() {
    const msgEl = panelBody.querySelector('.form-msg');
    const bad = (el, text) => { el.setAttribute('aria-invalid', 'true'); el.focus(); msgEl.textContent = text; say(text); };
    for (const el of panelBody.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const cat = $('rep-cat').value, title = $('rep-title').value.trim();
    if (!cat) return bad($('rep-cat'), 'Choose a category.');
    if (!title) return bad($('rep-title'), 'Enter a title.');
    if (!report) return bad($('rep-pick'), 'Choose the location: your position or a point on the map.');
    const [kind, category] = cat.split(':');
    const s = loadSettings();
    const req = { kind, category, title, lon: report.lon, lat: report.lat };
    const desc = $('rep-desc').value.trim();
    if (desc) req.description = desc;
    if (s.name || s.id) req.reporter = (s.name || s.id).slice(0, 100);
    const btn = $('rep-send');
    btn.disabled = true;
    btn.textContent = 'Sending…';
    const r = await send('/cases', req);
    if (mode !== 'report') return;
    btn.disabled = false;
    btn.textContent = 'Send report';
    if (r.status === 201) {
      mine.add(r.body.id);
      say('');
      toast(`Case ${r.body.id} reported`);
      if (r.body.grid === code && !cases.some((c) => c.id === r.body.id)) { cases.unshift(r.body); render(); }
      await openDetail(r.body.id);
      return;
    }
    const text = problem(r);
    msgEl.textContent = text;
    say(text);
    const field = r.body?.detail?.field;
    const el = { kind: 'rep-cat', category: 'rep-cat', title: 'rep-title', description: 'rep-desc', 'lon,lat': 'rep-pick' }[field];
    if (el) $(el).setAttribute('aria-invalid', 'true');
  }

  // ------------------------------------------------------------ toast
  function toast(text) {
    const el = $('case-toast');
    el.textContent = text;
    el.hidden = false;
    ct.caseToast = text;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // ------------------------------------------------------------- live
  let refreshTimer = 0;
  function onEvent(m) {
    if (m.op === 'closed') { ct.caseFeed = 'closed'; return; }
    if (m.op === 'subscribed') { ct.caseFeed = 'subscribed'; load(); return; } // events may have been missed meanwhile
    if (m.op === 'error') { ct.caseFeed = 'error'; return; }
    if (m.op !== 'event' || !m.case) return;
    ct.caseFeed = 'subscribed';
    if (m.grid !== code) return;
    const c = m.case;
    if (m.type === 'case.created' && !mine.has(c.id)) toast(`New case ${c.id}: ${c.title || c.category_name}`);
    const i = cases.findIndex((x) => x.id === c.id);
    if (i >= 0) cases[i] = c; else cases.unshift(c);
    cases.sort((a, b) => (a.id < b.id ? 1 : -1));
    render();
    if (mode === 'detail' && detail?.id === c.id && c.updated !== detail.updated) openDetail(c.id, panelBody.querySelector('.form-msg')?.textContent || '', true);
    clearTimeout(refreshTimer); // the list from the server now and then (events may be missed while away)
    refreshTimer = setTimeout(load, 30000);
  }
  function subscribe() {
    if (!code) return;
    ct.caseFeed = 'connecting';
    liveSubscribe({ op: 'subscribe', id: SUB, events: ['case.*'], fences: [code] }, onEvent);
  }

  gridChanged = (g) => {
    if (g === code) return;
    code = g;
    load();
    subscribe();
  };

  $('cases-open').addEventListener('click', () => {
    const sheet = $('sheet');
    if (sheet.dataset.state !== 'open') $('sheet-toggle').click();
    container.scrollIntoView({ block: 'start', behavior: 'smooth' });
  });
  $('case-report').addEventListener('click', () => openReport(null));
  setInterval(() => { if (!picking) render(); if (mode === 'detail' && detail && !panelBody.contains(document.activeElement)) renderDetail(panelBody.querySelector('.form-msg')?.textContent || '', false); }, 30000);

  load();
  subscribe();
}
