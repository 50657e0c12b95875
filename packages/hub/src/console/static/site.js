// The site page: summary, alerts, outage timelines, charts (uPlot), backups and the event log; live.
'use strict';
(function () {
  const { $, t, esc, api, failure, dur, ago, time, live, throttle, canOperate, DATA } = window.S;
  const id = DATA.siteId;
  const base = '/api/v1/sites/' + encodeURIComponent(id);
  const DAYS = 30;
  const badge = (cls, text) => '<span class="badge ' + cls + '">' + esc(text) + '</span>';
  const none = (key) => '<p class="muted">' + esc(t(key)) + '</p>';

  async function summary() {
    const r = await api(base);
    if (!r.ok) return;
    const s = r.json;
    const st = s.latestStatus || {};
    const power = st.power && st.power.watch !== 'off' ? st.power : null;
    const net = st.network || null;
    const item = (k, v) => '<div><dt>' + esc(k) + '</dt><dd>' + v + '</dd></div>';
    $('#summary').innerHTML = '<dl class="facts">' +
      item(t('site_state'), badge('state-' + s.state, t(s.state)) + ' ' + esc(s.lastSeenAt ? ago(s.lastSeenAt) : t('never'))) +
      item(t('agent_version'), esc(s.agentVersion || '—')) +
      item(t('backlog'), s.backlog ? esc(s.backlog.pending + (s.backlog.oldestTs ? ' (' + ago(s.backlog.oldestTs) + ')' : '')) : '—') +
      item(t('missing_msgs'), esc(s.missing)) +
      item(t('col_ups'), power ? esc(t(power.state || 'unknown')) + (typeof power.charge === 'number' ? ' ' + power.charge + '%' : '') + (typeof power.runtimeSec === 'number' ? ' · ' + dur(power.runtimeSec) : '') : '<span class="muted">' + esc(t('no_data')) + '</span>') +
      item('WAN', net ? esc(net.verdict || '—') + (net.wan && typeof net.wan.uptimeTodayPct === 'number' ? ' · ' + net.wan.uptimeTodayPct + '%' : '') : '<span class="muted">' + esc(t('no_data')) + '</span>') +
      '</dl>';
  }

  async function alerts() {
    const r = await api(base + '/alerts');
    if (!r.ok) return;
    const list = r.json.alerts;
    if (!list.length) { $('#site-alerts').innerHTML = none('no_alerts'); return; }
    $('#site-alerts').innerHTML = '<table class="alerts"><tbody>' + list.map((a) =>
      '<tr data-alert="' + a.id + '" class="' + (a.clearedAt ? 'cleared' : '') + '"><td>' + badge(a.severity === 'critical' ? 'crit' : 'warn', t(a.severity)) + '</td><td><b>' + esc(t('rule_' + a.rule)) + '</b><br><small>' + esc(a.message) + '</small></td><td>' + esc(time(a.raisedAt)) + '</td><td>' +
      (a.clearedAt ? esc(t('cleared')) + ' ' + esc(time(a.clearedAt)) : a.ackedAt ? esc(t('acked_by', { name: a.ackedBy })) : canOperate() ? '<button type="button" class="ack" data-id="' + a.id + '">' + esc(t('ack')) + '</button>' : '') +
      '</td></tr>').join('') + '</tbody></table>';
  }
  $('#site-alerts').addEventListener('click', async (e) => {
    const b = e.target.closest('button.ack');
    if (!b) return;
    b.disabled = true;
    const r = await api('/api/v1/alerts/' + b.dataset.id + '/ack', { method: 'POST' });
    if (!r.ok) alert(r.status === 403 ? t('forbidden', { need: t('role_operator') }) : failure(r));
    alerts();
  });

  function timeline(title, list, from, to) {
    const span = to - from;
    const bars = list.map((o) => {
      const s = Math.max(from, Date.parse(o.start));
      const e = o.end ? Date.parse(o.end) : to;
      const left = ((s - from) / span) * 100;
      const width = Math.max(0.3, ((e - s) / span) * 100);
      return '<span class="bar" style="left:' + left.toFixed(2) + '%;width:' + width.toFixed(2) + '%" title="' + esc(time(o.start) + ' → ' + (o.end ? time(o.end) : t('ongoing')) + ' (' + dur((e - s) / 1000) + ')') + '"></span>';
    }).join('');
    const rows = list.slice(-8).reverse().map((o) => '<li>' + esc(time(o.start)) + ' → ' + esc(o.end ? time(o.end) : t('ongoing')) + ' · ' + esc(dur(o.durationSec !== null && o.durationSec !== undefined ? o.durationSec : ((o.end ? Date.parse(o.end) : to) - Date.parse(o.start)) / 1000)) + (o.detail ? ' · ' + esc(o.detail) : '') + '</li>').join('');
    return '<div class="timeline"><h3>' + esc(title) + ' <small>(' + list.length + ')</small></h3><div class="track">' + bars + '</div>' +
      (list.length ? '<ul class="outages">' + rows + '</ul>' : none('no_outages')) + '</div>';
  }
  async function timelines() {
    const r = await api(base + '/outages?days=' + DAYS);
    if (!r.ok) return;
    const o = r.json;
    const from = Date.parse(o.from), to = Date.parse(o.to);
    $('#timelines').innerHTML = timeline(t('power_outages'), o.power, from, to) + timeline(t('wan_outages'), o.wan, from, to) + timeline(t('link_outages'), o.link, from, to) +
      '<div class="axis"><span>' + esc(time(o.from)) + '</span><span>' + esc(time(o.to)) + '</span></div>';
  }

  const charts = [];
  async function history() {
    const r = await api(base + '/history?days=7');
    if (!r.ok) return;
    const h = r.json;
    const defs = [['charge', 'chart_charge', '#1b7f3b'], ['upsLoad', 'chart_upsload', '#6a3d9a'], ['load1', 'chart_load', '#1f78b4'], ['disk', 'chart_disk', '#b26a00'], ['latency', 'chart_latency', '#b00020']];
    const box = $('#charts');
    for (const c of charts.splice(0)) c.destroy();
    box.innerHTML = '';
    for (const [key, label, colour] of defs) {
      const wrap = document.createElement('div');
      wrap.className = 'chart';
      wrap.dataset.series = key;
      box.appendChild(wrap);
      const has = h[key].some((v) => v !== null);
      if (!has || typeof uPlot === 'undefined') { wrap.innerHTML = '<h3>' + esc(t(label)) + '</h3>' + none('no_data'); continue; }
      const width = Math.max(260, wrap.clientWidth - 8);
      charts.push(new uPlot({ title: t(label), width, height: 170, legend: { show: false }, series: [{}, { label: t(label), stroke: colour, width: 1.5, spanGaps: false }], axes: [{}, { size: 46 }] }, [h.t, h[key]], wrap));
    }
  }

  async function backups() {
    const r = await api(base + '/snapshots');
    if (!r.ok) return;
    const b = r.json;
    const cur = b.current;
    let out = '';
    if (!cur) out += none('no_backups');
    else {
      out += '<table><thead><tr><th>' + esc(t('snap_source')) + '</th><th>' + esc(t('loc_local')) + '</th><th>' + esc(t('loc_usb')) + '</th><th>' + esc(t('loc_peer')) + '</th><th>' + esc(t('loc_offsite')) + '</th><th>' + esc(t('verification')) + '</th></tr></thead><tbody>' +
        cur.sources.map((s) => '<tr><td>' + esc(s.name) + (s.kind ? ' <small>' + esc(s.kind) + '</small>' : '') + '</td><td>' + esc(s.lastLocal ? ago(s.lastLocal.at) : '—') + '</td><td>' + esc(s.lastUsb ? ago(s.lastUsb.at) : '—') + '</td><td>' + esc(s.lastPeer ? ago(s.lastPeer) : '—') + '</td><td>' + esc(s.lastOffsite ? ago(s.lastOffsite) : '—') + '</td><td>' +
          (s.lastFailure ? badge('crit', t('verify_failed')) + ' <small>' + esc(s.lastFailure.error) + '</small>' : badge('ok', t('verified_ok'))) + '</td></tr>').join('') + '</tbody></table>' +
        '<p>' + esc(t('col_usb')) + ': ' + esc(cur.usbAttached === null ? '—' : cur.usbAttached ? t('attached') : t('not_attached')) + (cur.disks.length ? ' · ' + cur.disks.map((d) => esc(d.label) + (d.attached ? ' ✔' : '') + (d.lastCopyAt ? ' (' + esc(ago(d.lastCopyAt)) + ')' : '')).join(', ') : '') + '</p>';
    }
    if (b.snapshots.length) {
      out += '<table class="snapshots"><thead><tr><th>' + esc(t('snap_id')) + '</th><th>' + esc(t('snap_source')) + '</th><th>' + esc(t('snap_at')) + '</th><th>' + esc(t('snap_where')) + '</th><th></th></tr></thead><tbody>' +
        b.snapshots.slice(0, 50).map((s) => '<tr><td><code>' + esc(s.id) + '</code></td><td>' + esc(s.source) + '</td><td>' + esc(time(s.at)) + '</td><td>' +
          [s.locations.local ? t('loc_local') : null, s.locations.usb ? t('loc_usb') + ' ' + s.locations.usb : null, s.locations.peer ? t('loc_peer') : null, s.locations.offsite ? t('loc_offsite') : null].filter(Boolean).map(esc).join(', ') +
          '</td><td>' + (canOperate() ? '<a class="export" href="' + base + '/snapshots/' + encodeURIComponent(s.id) + '/export" download>' + esc(t('export')) + '</a>' : '') + '</td></tr>').join('') + '</tbody></table>';
    }
    const heldList = b.offsite || [];
    if (heldList.length) {
      const kb = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' kB');
      out += '<h3>' + esc(t('offsite_held')) + '</h3><table class="offsite"><thead><tr><th>' + esc(t('snap_id')) + '</th><th>' + esc(t('held_size')) + '</th><th>' + esc(t('held_received')) + '</th><th>' + esc(t('held_verified')) + '</th><th></th></tr></thead><tbody>' +
        heldList.slice().reverse().slice(0, 50).map((s) => '<tr><td><code>' + esc(s.id) + '</code>' + (s.base ? ' <small>' + esc(t('held_delta', { base: s.base })) + '</small>' : '') + '</td><td>' + esc(kb(s.bytes)) + '</td><td>' + esc(time(s.receivedAt)) + '</td><td>' +
          (s.damaged ? badge('crit', t('held_damaged')) + ' <small>' + esc(s.damaged) + '</small>' : s.verifiedAt ? badge('ok', time(s.verifiedAt)) : '—') + '</td><td>' +
          (canOperate() && !s.damaged ? '<a class="export" href="' + base + '/snapshots/' + encodeURIComponent(s.id) + '/export" download>' + esc(t('export')) + '</a>' : '') + '</td></tr>').join('') + '</tbody></table>';
    }
    $('#backups').innerHTML = out;
    const latest = $('#export-latest');
    if (latest && !canOperate()) latest.remove();
  }

  async function events() {
    const r = await api(base + '/events?limit=100');
    if (!r.ok) return;
    const list = r.json.events;
    $('#events').innerHTML = list.length ? '<table class="events"><tbody>' + list.map((e) => '<tr><td>' + esc(time(e.ts)) + '</td><td>' + badge(e.severity === 'critical' ? 'crit' : e.severity === 'warning' ? 'warn' : 'info', t(e.severity)) + '</td><td><code>' + esc(e.code) + '</code></td><td>' + esc(e.message) + '</td></tr>').join('') + '</tbody></table>' : none('no_events');
  }

  async function all() {
    await Promise.all([summary(), alerts(), timelines(), history(), backups(), events()]);
    document.body.dataset.ready = '1';
  }
  all();
  const mine = throttle(() => { summary(); alerts(); events(); backups(); }, 2000);
  live({ fleet: (d) => { if (d.alerts || (d.sites || []).indexOf(id) >= 0) mine(); } });
  setInterval(() => { timelines(); history(); }, 300000);
})();
