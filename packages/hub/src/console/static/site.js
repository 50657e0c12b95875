// The site page: summary, alerts, outage timelines, charts (uPlot), backups and the event log; live.
'use strict';
(function () {
  const { $, t, h, fill, badge, muted, table, api, failure, dur, ago, time, alertText, eventText, live, throttle, canOperate, DATA, locale } = window.S;
  const id = DATA.siteId;
  const base = '/api/v1/sites/' + encodeURIComponent(id);
  const DAYS = 30;
  const none = (key) => h('p', { class: 'muted' }, t(key));
  const sevBadge = (s) => badge(s === 'critical' ? 'crit' : s === 'warning' ? 'warn' : 'info', t(s));

  async function summary() {
    const r = await api(base);
    if (!r.ok) return;
    const s = r.json;
    const st = s.latestStatus || {};
    const power = st.power && st.power.watch !== 'off' ? st.power : null;
    const net = st.network || null;
    const down = s.servicesDown || [];
    // The same word as the overview: online with a service not answering is "degraded".
    const state = s.state === 'online' && down.length ? 'degraded' : s.state;
    const item = (k, v) => h('div', null, h('dt', null, k), h('dd', null, v));
    fill('#summary', h('dl', { class: 'facts' },
      item(t('site_state'), [badge('state-' + state, t(state)), ' ', s.lastSeenAt ? ago(s.lastSeenAt) : t('never')]),
      item(t('services'), (st.services || []).length
        ? (st.services || []).map((x, i) => [i ? ', ' : '', h('span', { class: x.up ? 'good' : 'bad' }, x.name + ' ' + (x.up ? '✔' : '✖ ' + t('not_answering')))])
        : muted(t('no_data'))),
      item(t('agent_version'), s.agentVersion || '—'),
      item(t('backlog'), s.backlog ? s.backlog.pending + (s.backlog.oldestTs ? ' (' + ago(s.backlog.oldestTs) + ')' : '') : '—'),
      item(t('missing_msgs'), String(s.missing)),
      item(t('col_ups'), power ? t(power.state || 'unknown') + (typeof power.charge === 'number' ? ' ' + power.charge + '%' : '') + (typeof power.runtimeSec === 'number' ? ' · ' + dur(power.runtimeSec) : '') : muted(t('no_data'))),
      item('WAN', net ? t('wan_' + (net.verdict || 'unknown')) + (net.wan && typeof net.wan.uptimeTodayPct === 'number' ? ' · ' + net.wan.uptimeTodayPct + '%' : '') : muted(t('no_data')))));
  }

  async function alerts() {
    const r = await api(base + '/alerts');
    if (!r.ok) return;
    const list = r.json.alerts;
    if (!list.length) { fill('#site-alerts', none('no_alerts')); return; }
    fill('#site-alerts', table('alerts', [t('severity'), t('col_alert'), t('raised'), t('col_ack')], list.map((a) =>
      h('tr', { class: a.clearedAt ? 'cleared' : null, dataset: { alert: a.id } },
        h('td', null, sevBadge(a.severity)),
        h('td', null, h('b', null, t('rule_' + a.rule)), h('br'), h('small', { class: 'alert-text' }, alertText(a))),
        h('td', null, time(a.raisedAt)),
        h('td', null, a.clearedAt ? t('cleared') + ' ' + time(a.clearedAt) : a.ackedAt ? t('acked_by', { name: a.ackedBy }) : canOperate() ? h('button', { type: 'button', class: 'ack', dataset: { id: a.id } }, t('ack')) : muted(t('not_acked')))))));
  }
  $('#site-alerts').addEventListener('click', async (e) => {
    const b = e.target.closest('button.ack');
    if (!b) return;
    b.disabled = true;
    const r = await api('/api/v1/alerts/' + b.dataset.id + '/ack', { method: 'POST' });
    if (!r.ok) alert(failure(r));
    alerts();
  });

  function timeline(title, list, from, to) {
    const span = to - from;
    const bars = list.map((o) => {
      const s = Math.max(from, Date.parse(o.start));
      const e = o.end ? Date.parse(o.end) : to;
      const left = ((s - from) / span) * 100;
      const width = Math.max(0.3, ((e - s) / span) * 100);
      return h('span', { class: 'bar', style: { left: left.toFixed(2) + '%', width: width.toFixed(2) + '%' }, title: time(o.start) + ' → ' + (o.end ? time(o.end) : t('ongoing')) + ' (' + dur((e - s) / 1000) + ')' });
    });
    const rows = list.slice(-8).reverse().map((o) => h('li', null, time(o.start) + ' → ' + (o.end ? time(o.end) : t('ongoing')) + ' · ' + dur(o.durationSec !== null && o.durationSec !== undefined ? o.durationSec : ((o.end ? Date.parse(o.end) : to) - Date.parse(o.start)) / 1000) + (o.detail ? ' · ' + o.detail : '')));
    return h('div', { class: 'timeline' }, h('h3', null, title + ' ', h('small', null, '(' + list.length + ')')), h('div', { class: 'track' }, bars),
      list.length ? h('ul', { class: 'outages' }, rows) : none('no_outages'));
  }
  async function timelines() {
    const r = await api(base + '/outages?days=' + DAYS);
    if (!r.ok) return;
    const o = r.json;
    const from = Date.parse(o.from), to = Date.parse(o.to);
    fill('#timelines', timeline(t('power_outages'), o.power, from, to), timeline(t('wan_outages'), o.wan, from, to), timeline(t('link_outages'), o.link, from, to),
      h('div', { class: 'axis' }, h('span', null, time(o.from)), h('span', null, time(o.to))));
  }

  // Chart axes in the reader's convention (day before month, 24 h), not uPlot's US default.
  const dayFmt = new Intl.DateTimeFormat(locale, { day: '2-digit', month: '2-digit' });
  const hourFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hour12: false });
  function timeTicks(u, splits, axisIdx, space, incr) {
    const labels = splits.map((v) => {
      const d = new Date(v * 1000);
      return incr >= 86400 || (d.getHours() === 0 && d.getMinutes() === 0) ? dayFmt.format(d) : hourFmt.format(d);
    });
    u.root.dataset.ticks = labels.join('|'); // the labels are drawn on a canvas: kept here for people's tools and tests
    return labels;
  }
  const charts = [];
  async function history() {
    const r = await api(base + '/history?days=7');
    if (!r.ok) return;
    const hist = r.json;
    const defs = [['charge', 'chart_charge', '#1b7f3b'], ['upsLoad', 'chart_upsload', '#6a3d9a'], ['load1', 'chart_load', '#1f78b4'], ['disk', 'chart_disk', '#9a5b00'], ['latency', 'chart_latency', '#b00020']];
    const box = $('#charts');
    for (const c of charts.splice(0)) c.destroy();
    box.replaceChildren();
    for (const [key, label, colour] of defs) {
      const wrap = h('div', { class: 'chart', dataset: { series: key } });
      box.append(wrap);
      const has = hist[key].some((v) => v !== null);
      if (!has || typeof uPlot === 'undefined') { fill(wrap, h('h3', null, t(label)), none('no_data')); continue; }
      const width = Math.max(260, wrap.clientWidth - 8);
      charts.push(new uPlot({
        title: t(label), width, height: 170, legend: { show: false },
        fmtDate: () => (d) => dayFmt.format(d) + ' ' + hourFmt.format(d),
        series: [{}, { label: t(label), stroke: colour, width: 1.5, spanGaps: false }],
        axes: [{ values: timeTicks }, { size: 46 }],
      }, [hist.t, hist[key]], wrap));
    }
  }

  const kb = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' kB');
  const exportLink = (snap) => h('a', { class: 'export', href: base + '/snapshots/' + encodeURIComponent(snap) + '/export', download: true }, t('export'));
  async function backups() {
    const r = await api(base + '/snapshots');
    if (!r.ok) return;
    const b = r.json;
    const cur = b.current;
    const out = [];
    if (!cur) out.push(none('no_backups'));
    else {
      out.push(table('sources', [t('snap_source'), t('loc_local'), t('loc_usb'), t('loc_peer'), t('loc_offsite'), t('verification')], cur.sources.map((s) =>
        h('tr', null, h('td', null, s.name, s.kind ? [' ', h('small', null, s.kind)] : null), h('td', null, s.lastLocal ? ago(s.lastLocal.at) : '—'), h('td', null, s.lastUsb ? ago(s.lastUsb.at) : '—'),
          h('td', null, s.lastPeer ? ago(s.lastPeer) : '—'), h('td', null, s.lastOffsite ? ago(s.lastOffsite) : '—'),
          h('td', null, s.lastFailure ? [badge('crit', t('verify_failed')), ' ', h('small', null, s.lastFailure.error)] : badge('ok', t('verified_ok')))))));
      out.push(h('p', null, t('col_usb') + ': ' + (cur.usbAttached === null ? '—' : cur.usbAttached ? t('attached') : t('not_attached')) +
        (cur.disks.length ? ' · ' + cur.disks.map((d) => d.label + (d.attached ? ' ✔' : '') + (d.lastCopyAt ? ' (' + ago(d.lastCopyAt) + ')' : '')).join(', ') : '')));
    }
    if (b.snapshots.length) {
      out.push(table('snapshots', [t('snap_id'), t('snap_source'), t('snap_at'), t('snap_where'), t('col_export')], b.snapshots.slice(0, 50).map((s) =>
        h('tr', null, h('td', null, h('code', null, s.id)), h('td', null, s.source), h('td', null, time(s.at)),
          h('td', null, [s.locations.local ? t('loc_local') : null, s.locations.usb ? t('loc_usb') + ' ' + s.locations.usb : null, s.locations.peer ? t('loc_peer') : null, s.locations.offsite ? t('loc_offsite') : null].filter(Boolean).join(', ')),
          h('td', null, canOperate() ? exportLink(s.id) : null)))));
    }
    const heldList = b.offsite || [];
    if (heldList.length) {
      out.push(h('h3', null, t('offsite_held')));
      out.push(table('offsite', [t('snap_id'), t('held_size'), t('held_received'), t('held_verified'), t('col_export')], heldList.slice().reverse().slice(0, 50).map((s) =>
        h('tr', null, h('td', null, h('code', null, s.id), s.base ? [' ', h('small', null, t('held_delta', { base: s.base }))] : null), h('td', null, kb(s.bytes)), h('td', null, time(s.receivedAt)),
          h('td', null, s.damaged ? [badge('crit', t('held_damaged')), ' ', h('small', null, s.damaged)] : s.verifiedAt ? badge('ok', time(s.verifiedAt)) : '—'),
          h('td', null, canOperate() && !s.damaged ? exportLink(s.id) : null)))));
    }
    fill('#backups', out);
    const latest = $('#export-latest');
    if (latest && !canOperate()) latest.remove();
  }

  async function events() {
    const r = await api(base + '/events?limit=100');
    if (!r.ok) return;
    const list = r.json.events;
    fill('#events', list.length
      ? table('events', [t('event_at'), t('severity'), t('event_code'), t('event_text')], list.map((e) =>
          h('tr', { dataset: { code: e.code || '' } }, h('td', null, time(e.ts)), h('td', null, sevBadge(e.severity)), h('td', null, h('code', null, e.code)), h('td', { class: 'event-text' }, eventText(e)))))
      : none('no_events'));
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
