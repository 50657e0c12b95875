// Shared by every console page: words, the JSON API with the CSRF header, formatting, DOM building, live updates.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const T = JSON.parse($('#i18n').textContent);
  const DATA = JSON.parse($('#page-data').textContent);
  const csrfMeta = $('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : '';
  const lang = document.body.dataset.lang || 'pt';
  const locale = lang === 'pt' ? 'pt-PT' : 'en-GB';

  function t(key, vars) {
    const s = T[key] !== undefined ? T[key] : key;
    return s.replace(/\{(\w+)\}/g, (_, v) => (vars && vars[v] !== undefined && vars[v] !== null ? vars[v] : ''));
  }

  /**
   * Builds an element: h('td', { class: 'x', dataset: { id } }, 'text', child…). Text is always a text
   * node (never parsed as HTML), so data from agents cannot inject markup; no innerHTML anywhere.
   */
  function h(tag, attrs) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k === 'style') for (const p of Object.keys(v)) el.style.setProperty(p, v[p]);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    add(el, Array.prototype.slice.call(arguments, 2));
    return el;
  }
  function add(el, kids) {
    for (const k of kids) {
      if (Array.isArray(k)) add(el, k);
      else if (k !== null && k !== undefined && k !== false && k !== '') el.append(k instanceof Node ? k : String(k));
    }
    return el;
  }
  /** Replaces the children of `el` (a selector or an element). */
  function fill(el) {
    const node = typeof el === 'string' ? $(el) : el;
    node.replaceChildren();
    return add(node, Array.prototype.slice.call(arguments, 1));
  }
  const badge = (cls, text) => h('span', { class: 'badge ' + cls }, text);
  const muted = (text) => h('span', { class: 'muted' }, text);
  /** A table with a header row; every column has a header (an empty one says what it holds to a screen reader). */
  function table(cls, heads, rows) {
    return h('table', { class: cls }, h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows));
  }

  async function api(path, opts) {
    opts = opts || {};
    const headers = { accept: 'application/json' };
    if (opts.method && opts.method !== 'GET') headers['x-csrf-token'] = csrf;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined, credentials: 'same-origin' });
    let json = null;
    try { json = await res.json(); } catch (e) { /* empty body */ }
    if (res.status === 401 && !opts.noRedirect) location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
    return { status: res.status, ok: res.ok, json, headers: res.headers };
  }
  /**
   * Why a request failed, in the reader's language: the API sends a code and its parameters beside
   * its English sentence; the sentence is shown only for a code this page has no words for.
   */
  function failure(r) {
    const j = r.json || {};
    if (j.code && T[j.code] !== undefined) return t(j.code, j.params || {});
    return t('failed', { e: j.error || r.status });
  }
  /** "3 h 20 min", "2 d 4 h": durations people read at a glance. */
  function dur(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '—';
    sec = Math.max(0, Math.round(sec));
    if (sec < 60) return sec + ' s';
    const m = Math.floor(sec / 60);
    if (m < 60) return m + ' min';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    const d = Math.floor(h / 24);
    return d + ' d' + (h % 24 ? ' ' + (h % 24) + ' h' : '');
  }
  function ageSec(iso) {
    return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
  }
  function ago(iso) {
    return iso ? t('ago', { d: dur(ageSec(iso)) }) : t('never');
  }
  /** Day first in both languages (the console is read in Mozambique): 03/12/2026 14:05. */
  const dateTime = new Intl.DateTimeFormat(locale, { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
  function time(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : dateTime.format(d).replace(',', '');
  }
  const num = (n) => (typeof n === 'number' ? n.toLocaleString(locale) : '—');

  // Alerts and events travel as codes with parameters; the words are here, in the reader's language.
  // A stored alert or event without the parameters a text needs (an older hub or agent) shows its own sentence.
  const list = (xs) => (Array.isArray(xs) ? xs.filter((x) => x !== null && x !== undefined).join(', ') : '');
  const ALERTS = {
    silent: (d) => d.since && ['alert_silent', { d: dur(ageSec(d.since)), since: time(d.since) }],
    'backup-rpo': (d) => d.rpoHours !== undefined && (d.lastAt ? ['alert_backup_rpo', { d: dur(ageSec(d.lastAt)), rpo: d.rpoHours }] : ['alert_backup_none', {}]),
    'on-battery': (d) => d.state && [typeof d.charge === 'number' ? 'alert_on_battery_charge' : 'alert_on_battery', { since: d.since ? time(d.since) : '—', charge: d.charge, state: t(d.state) }],
    'low-disk': (d) => d.mount && ['alert_low_disk', { mount: d.mount, pct: d.usePct }],
    'no-usb': (d) => d.days !== undefined && (d.lastAttachedAt ? ['alert_no_usb_since', { at: time(d.lastAttachedAt), d: dur(ageSec(d.lastAttachedAt)) }] : ['alert_no_usb_never', {}]),
    'verify-failed': (d) => Array.isArray(d.failures) && ['alert_verify_failed', { list: d.failures.map((f) => f.source + ': ' + f.error).join('; ') }],
    'cert-expiry': (d) => d.validTo && [Date.parse(d.validTo) <= Date.now() ? 'alert_cert_expired' : 'alert_cert_expires', { at: time(d.validTo), files: list(d.files) }],
    flapping: (d) => d.minutes !== undefined && ['alert_flapping', { n: d.connects, a: d.alerts, m: d.minutes }],
    noisy: (d) => d.until && ['alert_noisy', { until: time(d.until), n: d.refusals, reason: d.reason, strike: d.strike }],
    'drill-failed': (d) => d.at && ['alert_drill_failed', { at: time(d.at), list: list(d.failures) }],
    'drill-overdue': (d) => d.days !== undefined && (d.lastPassAt ? ['alert_drill_overdue', { at: time(d.lastPassAt), days: d.days }] : ['alert_drill_never', { days: d.days }]),
    'service-down': (d) => Array.isArray(d.services) && ['alert_service_down', { names: list(d.services), errors: list(d.errors) }],
  };
  const EVENTS = {
    'service.down': (d) => d.name && ['event_service_down', { name: d.name, target: d.target, error: d.error || '' }],
    'service.up': (d) => d.name && ['event_service_up', { name: d.name, target: d.target, d: dur(d.downForSec) }],
    'power.on_battery': (d) => d.since && ['event_power_on_battery', { charge: d.charge === null || d.charge === undefined ? '?' : d.charge }],
    'power.restored': (d) => d.outage && ['event_power_restored', { d: dur(d.outage.durationSec) }],
    'power.outage.end': () => ['event_power_restored_short', {}],
    'power.contact_lost': (d) => d.contact && ['event_power_contact_lost', { contact: d.contact }],
    'power.contact_restored': () => ['event_power_contact_restored', {}],
    'power.shutdown': (d) => d.reason && ['event_power_shutdown', { reason: d.reason }],
    'network.wan_down': (d) => d.since && ['event_wan_down', { since: time(d.since) }],
    'network.wan_up': (d) => d.outage && ['event_wan_up', { d: dur(d.outage.durationSec) }],
    'usb.disk_attached': (d) => d.label && ['event_usb_attached', { label: d.label }],
    'usb.disk_full': (d) => d.label && ['event_usb_full', { label: d.label }],
    'usb.copy_failed': (d) => d.label && ['event_usb_copy_failed', { label: d.label, error: d.error || '' }],
    'peer.unreachable': (d) => d.path && ['event_peer_unreachable', { path: d.path }],
    'peer.reachable': (d) => d.path && ['event_peer_reachable', { path: d.path }],
    'backup.completed': (d) => d.source && ['event_backup_completed', { source: d.source, d: dur((d.durationMs || 0) / 1000) }],
    'backup.failed': (d) => d.source && ['event_backup_failed', { source: d.source, error: d.error || '', n: d.failuresInARow || 1 }],
    'backup.retention_failed': (d) => ['event_backup_retention_failed', { error: d.error || '' }],
    'usb.copy_completed': (d) => d.label && ['event_usb_copy_completed', { label: d.label, n: d.snapshots }],
    'usb.copy_interrupted': (d) => d.label && ['event_usb_copy_interrupted', { label: d.label }],
    'usb.rotation_overdue': (d) => d.rotationDays !== undefined && (d.lastAttachedAt ? ['event_usb_rotation_overdue', { at: time(d.lastAttachedAt), d: dur(ageSec(d.lastAttachedAt)) }] : ['event_usb_rotation_never', {}]),
    'power.login_failed': () => ['event_power_login_failed', {}],
    'power.login_ok': () => ['event_power_login_ok', {}],
    'power.flapping': (d) => d.since && ['event_power_flapping', { n: d.count, since: time(d.since) }],
    'power.shutdown_started': (d) => d.reason && ['event_power_shutdown_started', { reason: d.reason }],
  };
  function worded(table, code, data, fallback) {
    const f = table[code];
    let r = null;
    try { r = f ? f(data || {}) : null; } catch (e) { r = null; }
    return r && T[r[0]] !== undefined ? t(r[0], r[1]) : fallback || '';
  }
  const alertText = (a) => worded(ALERTS, a.rule, a.data, a.message);
  const eventText = (e) => worded(EVENTS, e.code, e.data, e.message);

  /** Server-sent events; the indicator in the header says whether the page is live. */
  function live(handlers) {
    const dot = $('#live');
    // Only pages that follow the live stream show the indicator: elsewhere "not live" looked like a fault.
    if (dot) dot.hidden = false;
    const es = new EventSource('/api/v1/live');
    es.onopen = () => { if (dot) { dot.textContent = t('live_on'); dot.className = 'live on'; } };
    es.onerror = () => { if (dot) { dot.textContent = t('live_off'); dot.className = 'live off'; } };
    for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    return es;
  }
  /** Runs fn at most once per `ms`, and once more after the last call, with the arguments of the latest call. */
  function throttle(fn, ms) {
    let last = 0, timer = null, args = [];
    return function () {
      args = Array.prototype.slice.call(arguments);
      const wait = last + ms - Date.now();
      if (wait <= 0) { last = Date.now(); fn.apply(null, args); }
      else if (!timer) timer = setTimeout(() => { timer = null; last = Date.now(); fn.apply(null, args); }, wait);
    };
  }
  function canOperate() {
    const r = document.body.dataset.role;
    return r === 'operator' || r === 'admin';
  }
  const logout = $('#logout');
  if (logout) logout.addEventListener('click', async () => {
    await api('/api/v1/session', { method: 'DELETE', noRedirect: true });
    location.href = '/login';
  });
  window.S = { $, t, h, fill, badge, muted, table, api, failure, dur, ago, ageSec, time, num, alertText, eventText, live, throttle, canOperate, DATA, lang, locale };
})();
