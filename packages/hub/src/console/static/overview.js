// The fleet overview: filters in the URL, server-side filtering and paging, refetched on live events.
'use strict';
(function () {
  const { $, t, esc, api, dur, ago, live, throttle, DATA } = window.S;
  const params = new URLSearchParams(location.search);
  const f = { q: params.get('q') || '', province: params.get('province') || '', state: params.get('state') || '', sort: params.get('sort') || 'urgency', offset: Number(params.get('offset') || 0), limit: 100 };
  let provincesShown = false;

  $('#q').value = f.q;
  $('#state').value = f.state;
  $('#sort').value = f.sort;

  const badge = (cls, text) => '<span class="badge ' + cls + '">' + esc(text) + '</span>';
  const pct = (v) => (v === null || v === undefined ? '—' : v.toFixed(v >= 99.95 || v === 0 ? 0 : 1));

  function counts(d) {
    const c = d.counts, a = d.alerts;
    const box = (key, n, cls, filter) => '<a class="count ' + cls + '" href="?state=' + filter + '" data-state="' + filter + '"><b>' + n + '</b> ' + esc(t(key)) + '</a>';
    $('#counts').innerHTML =
      box('total', c.total, 'total', '') + box('online', c.online, 'state-online', 'online') + box('degraded', c.degraded, 'state-degraded', 'degraded') + box('stale', c.stale, 'state-stale', 'stale') +
      box('offline', c.offline, 'state-offline', 'offline') + box('never-seen', c['never-seen'], 'state-never-seen', 'never-seen') +
      box('on_battery', c.onBattery, 'warn', 'battery') + box('over_rpo', c.overRpo, 'warn', 'rpo') +
      box('alerts_critical', a.critical, 'crit', 'alerting') + box('alerts_warning', a.warning, 'warn', 'alerting') + box('alerts_unacked', a.unacked, 'crit', 'alerting');
  }

  function backupCell(s) {
    if (!s.backup) return '<span class="muted">' + esc(t('no_data')) + '</span>';
    const one = (iso) => (iso ? dur((Date.now() - Date.parse(iso)) / 1000) : '—');
    return '<span class="' + (s.overRpo ? 'bad' : 'good') + '">' + one(s.backup.localAt) + '</span> / ' + one(s.backup.usbAt) + ' / ' + one(s.backup.offsiteAt) + (s.backup.failed ? ' ' + badge('crit', t('verify_failed')) : '');
  }
  function upsCell(s) {
    if (!s.ups) return '<span class="muted">—</span>';
    return '<span class="' + (s.ups.onBattery ? 'bad' : '') + '">' + esc(t(s.ups.state)) + '</span>' + (s.ups.charge !== null ? ' ' + s.ups.charge + '%' : '');
  }
  function usbCell(s) {
    if (!s.usb || s.usb.attached === null) return '<span class="muted">—</span>';
    return s.usb.attached ? esc(t('attached')) : '<span class="bad">' + esc(t('not_attached')) + '</span>' + (s.usb.lastAttachedAt ? '<br><small>' + esc(ago(s.usb.lastAttachedAt)) + '</small>' : '');
  }
  function row(s) {
    const al = s.alerts;
    return '<tr data-site="' + esc(s.id) + '" class="row-' + s.state + '">' +
      '<td><a href="/sites/' + esc(s.id) + '"><code>' + esc(s.id) + '</code></a>' + (s.name ? '<br><small>' + esc(s.name) + '</small>' : '') + '</td>' +
      '<td>' + esc(s.province || '') + '</td>' +
      '<td>' + badge('state-' + s.state, t(s.state)) + '</td>' +
      '<td>' + esc(s.lastSeenAt ? ago(s.lastSeenAt) : t('never')) + '</td>' +
      '<td>' + backupCell(s) + '</td>' +
      '<td>' + upsCell(s) + '</td>' +
      '<td>' + (s.wan.pct24h === null ? '—' : pct(s.wan.pct24h) + ' / ' + pct(s.wan.pct7d) + ' / ' + pct(s.wan.pct30d)) + '</td>' +
      '<td>' + usbCell(s) + '</td>' +
      '<td>' + (s.backlog ? s.backlog.pending + (s.backlog.oldestTs ? ', ' + esc(dur((Date.now() - Date.parse(s.backlog.oldestTs)) / 1000)) : '') : '—') + '</td>' +
      '<td>' + esc(s.agentVersion || '—') + '</td>' +
      '<td class="alerts-cell">' + (al.critical ? badge('crit', al.critical) : '') + (al.warning ? badge('warn', al.warning) : '') + (!al.critical && !al.warning && !al.info ? '<span class="muted">0</span>' : '') + '</td></tr>';
  }

  let seq = 0;
  async function load() {
    const my = ++seq;
    const qs = new URLSearchParams();
    for (const k of ['q', 'province', 'state', 'sort']) if (f[k]) qs.set(k, f[k]);
    if (f.offset) qs.set('offset', String(f.offset));
    history.replaceState(null, '', qs.toString() ? '?' + qs : location.pathname);
    qs.set('limit', String(f.limit));
    const r = await api('/api/v1/fleet?' + qs);
    if (my !== seq || !r.ok) return;
    const d = r.json;
    counts(d);
    if (!provincesShown) {
      $('#province').insertAdjacentHTML('beforeend', d.provinces.map((p) => '<option value="' + esc(p) + '">' + esc(p) + '</option>').join(''));
      $('#province').value = f.province;
      provincesShown = true;
    }
    $('#fleet tbody').innerHTML = d.sites.length ? d.sites.map(row).join('') : '<tr><td colspan="11" class="muted">' + esc(t('no_sites')) + '</td></tr>';
    $('#range').textContent = d.matched ? t('showing', { from: d.offset + 1, to: Math.min(d.offset + d.limit, d.matched), n: d.matched }) : '';
    $('#prev').disabled = d.offset === 0;
    $('#next').disabled = d.offset + d.limit >= d.matched;
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
  void DATA;
})();
