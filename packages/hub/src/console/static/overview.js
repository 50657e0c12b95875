// The fleet overview: filters in the URL, server-side filtering and paging, refetched on live events.
'use strict';
(function () {
  const { $, t, h, fill, badge, muted, api, dur, ago, live, throttle, DATA } = window.S;
  const params = new URLSearchParams(location.search);
  const f = { q: params.get('q') || '', province: params.get('province') || '', state: params.get('state') || '', sort: params.get('sort') || 'urgency', offset: Number(params.get('offset') || 0), limit: 100 };
  let provincesShown = false;

  $('#q').value = f.q;
  $('#state').value = f.state;
  $('#sort').value = f.sort;

  const pct = (v) => (v === null || v === undefined ? '—' : v.toFixed(v >= 99.95 || v === 0 ? 0 : 1));
  const since = (iso) => (iso ? dur((Date.now() - Date.parse(iso)) / 1000) : '—');

  function counts(d) {
    const c = d.counts, a = d.alerts;
    const box = (key, n, cls, filter) => h('a', { class: 'count ' + cls, href: '?state=' + filter, dataset: { state: filter } }, h('b', null, n), ' ', t(key));
    fill('#counts',
      box('total', c.total, 'total', ''), box('online', c.online, 'state-online', 'online'), box('degraded', c.degraded || 0, 'state-degraded', 'degraded'), box('stale', c.stale, 'state-stale', 'stale'),
      box('offline', c.offline, 'state-offline', 'offline'), box('never-seen', c['never-seen'], 'state-never-seen', 'never-seen'),
      box('on_battery', c.onBattery, 'warn', 'battery'), box('over_rpo', c.overRpo, 'warn', 'rpo'),
      box('alerts_critical', a.critical, 'crit', 'alerting'), box('alerts_warning', a.warning, 'warn', 'alerting'), box('alerts_unacked', a.unacked, 'crit', 'alerting'));
  }

  function backupCell(s) {
    if (!s.backup) return muted(t('no_data'));
    return [h('span', { class: s.overRpo ? 'bad' : 'good' }, since(s.backup.localAt)), ' / ' + since(s.backup.usbAt) + ' / ' + since(s.backup.offsiteAt), s.backup.failed ? [' ', badge('crit', t('verify_failed'))] : null];
  }
  function upsCell(s) {
    if (!s.ups) return muted('—');
    return [h('span', { class: s.ups.onBattery ? 'bad' : null }, t(s.ups.state)), s.ups.charge !== null ? ' ' + s.ups.charge + '%' : null];
  }
  function usbCell(s) {
    if (!s.usb || s.usb.attached === null) return muted('—');
    return s.usb.attached ? t('attached') : [h('span', { class: 'bad' }, t('not_attached')), s.usb.lastAttachedAt ? [h('br'), h('small', null, ago(s.usb.lastAttachedAt))] : null];
  }
  function stateCell(s) {
    return [badge('state-' + s.state, t(s.state)), s.servicesDown && s.servicesDown.length ? [h('br'), h('small', { class: 'bad' }, t('services_down', { names: s.servicesDown.join(', ') }))] : null];
  }
  function row(s) {
    const al = s.alerts;
    return h('tr', { class: 'row-' + s.state, dataset: { site: s.id, state: s.state } },
      h('td', null, h('a', { href: '/sites/' + encodeURIComponent(s.id) }, s.name || s.id), h('br'), h('small', null, h('code', null, s.id))),
      h('td', null, s.province || ''),
      h('td', null, stateCell(s)),
      h('td', null, s.lastSeenAt ? ago(s.lastSeenAt) : t('never')),
      h('td', null, backupCell(s)),
      h('td', null, upsCell(s)),
      h('td', null, s.wan.pct24h === null ? '—' : pct(s.wan.pct24h) + ' / ' + pct(s.wan.pct7d) + ' / ' + pct(s.wan.pct30d)),
      h('td', null, usbCell(s)),
      h('td', null, s.backlog ? s.backlog.pending + (s.backlog.oldestTs ? ', ' + since(s.backlog.oldestTs) : '') : '—'),
      h('td', null, s.agentVersion || '—'),
      h('td', { class: 'alerts-cell' }, al.critical ? badge('crit', al.critical) : null, al.warning ? badge('warn', al.warning) : null, !al.critical && !al.warning && !al.info ? muted('0') : null));
  }

  let seq = 0;
  // The first page came with the HTML (DATA.fleet, for the filters in the address): drawn at once, no request.
  let inline = DATA.fleet || null;
  async function load() {
    const my = ++seq;
    const qs = new URLSearchParams();
    for (const k of ['q', 'province', 'state', 'sort']) if (f[k]) qs.set(k, f[k]);
    if (f.offset) qs.set('offset', String(f.offset));
    history.replaceState(null, '', qs.toString() ? '?' + qs : location.pathname);
    qs.set('limit', String(f.limit));
    let d = inline;
    inline = null;
    if (!d) {
      const r = await api('/api/v1/fleet?' + qs);
      if (my !== seq || !r.ok) return;
      d = r.json;
    }
    counts(d);
    if (!provincesShown) {
      $('#province').append(...d.provinces.map((p) => h('option', { value: p }, p)));
      $('#province').value = f.province;
      provincesShown = true;
    }
    fill('#fleet tbody', d.sites.length ? d.sites.map(row) : h('tr', null, h('td', { colspan: 11, class: 'muted' }, t('no_sites'))));
    $('#range').textContent = d.matched ? t('showing', { from: d.offset + 1, to: Math.min(d.offset + d.limit, d.matched), n: d.matched }) : '';
    $('#prev').disabled = d.offset === 0;
    $('#next').disabled = d.offset + d.limit >= d.matched;
    if (!document.body.dataset.ready) performance.mark('sentinela-ready'); // the first time the table is usable (bench/console)
    document.body.dataset.ready = '1';
    document.body.dataset.matched = String(d.matched);
  }

  let typing = null;
  $('#q').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { f.q = $('#q').value; f.offset = 0; load(); }, 200); });
  for (const id of ['province', 'state', 'sort']) $('#' + id).addEventListener('change', () => { f[id] = $('#' + id).value; f.offset = 0; load(); });
  $('#filters').addEventListener('submit', (e) => e.preventDefault());
  $('#prev').addEventListener('click', () => { f.offset = Math.max(0, f.offset - f.limit); load(); });
  $('#next').addEventListener('click', () => { f.offset += f.limit; load(); });
  $('#counts').addEventListener('click', (e) => {
    const a = e.target.closest('a.count');
    if (!a) return;
    e.preventDefault();
    f.state = a.dataset.state; f.offset = 0; $('#state').value = f.state; load();
  });
  load();
  live({ fleet: throttle(load, 2000) });
  // Ages ("3 min ago") and states move with the clock even when nothing arrives.
  setInterval(load, 60000);
})();
