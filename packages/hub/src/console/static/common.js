// Shared by every console page: words, the JSON API with the CSRF header, formatting, live updates.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const T = JSON.parse($('#i18n').textContent);
  const DATA = JSON.parse($('#page-data').textContent);
  const csrfMeta = $('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : '';
  const lang = document.body.dataset.lang || 'pt';

  function t(key, vars) {
    const s = T[key] !== undefined ? T[key] : key;
    return s.replace(/\{(\w+)\}/g, (_, v) => (vars && vars[v] !== undefined ? vars[v] : ''));
  }
  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
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
  function time(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
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
  window.S = { $, t, esc, api, failure, dur, ago, ageSec, time, live, throttle, canOperate, DATA, lang };
})();
