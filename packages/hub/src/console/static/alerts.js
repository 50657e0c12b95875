// Open alerts of the whole fleet (and the hub), a page at a time, filtered by severity; acknowledgement; maintenance windows.
'use strict';
(function () {
  const { $, t, h, fill, badge, muted, table, api, failure, time, alertText, live, throttle, canOperate } = window.S;
  const params = new URLSearchParams(location.search);
  const f = { severity: params.get('severity') || '', offset: Number(params.get('offset') || 0), limit: 50 };
  $('#severity').value = f.severity;

  const sevBadge = (s) => badge(s === 'critical' ? 'crit' : s === 'warning' ? 'warn' : 'info', t(s));
  function alertRow(a) {
    const site = a.siteId ? h('a', { href: '/sites/' + encodeURIComponent(a.siteId) }, h('code', null, a.siteId)) : 'hub';
    const act = a.ackedAt ? t('acked_by', { name: a.ackedBy }) : canOperate() ? h('button', { type: 'button', class: 'ack', dataset: { id: a.id } }, t('ack')) : muted(t('not_acked'));
    return h('tr', { dataset: { alert: a.id, severity: a.severity } },
      h('td', null, sevBadge(a.severity)), h('td', null, site),
      h('td', null, h('b', null, t('rule_' + a.rule)), h('br'), h('small', { class: 'alert-text' }, alertText(a))),
      h('td', null, time(a.raisedAt)), h('td', null, act));
  }

  let seq = 0;
  async function load() {
    const my = ++seq;
    const qs = new URLSearchParams();
    if (f.severity) qs.set('severity', f.severity);
    if (f.offset) qs.set('offset', String(f.offset));
    history.replaceState(null, '', qs.toString() ? '?' + qs : location.pathname);
    qs.set('limit', String(f.limit));
    const r = await api('/api/v1/alerts?' + qs);
    if (my !== seq || !r.ok) return;
    const d = r.json;
    fill('#alert-counts', ['critical', 'warning', 'info'].map((s) => h('a', { href: '?severity=' + s, class: 'count ' + (s === 'critical' ? 'crit' : s === 'warning' ? 'warn' : 'total'), dataset: { severity: s } }, h('b', null, d.counts[s]), ' ', t('sev_' + s))));
    fill('#alerts', d.alerts.length
      ? table('alerts', [t('severity'), t('col_site'), t('col_alert'), t('raised'), t('col_ack')], d.alerts.map(alertRow))
      : h('p', { class: 'muted' }, t('no_alerts')));
    $('#range').textContent = d.matched ? t('showing', { from: d.offset + 1, to: Math.min(d.offset + d.limit, d.matched), n: d.matched }) : '';
    $('#prev').disabled = d.offset === 0;
    $('#next').disabled = d.offset + d.limit >= d.matched;
    fill('#maintenance', d.maintenance.length
      ? h('ul', null, d.maintenance.map((m) => h('li', null, (m.site_id || '*') + ': ' + time(m.starts_at) + ' → ' + time(m.ends_at) + ' · ' + m.reason + ' ', h('small', null, '(' + m.created_by + ')'),
          canOperate() ? [' ', h('button', { type: 'button', class: 'end', dataset: { id: m.id } }, t('maint_end'))] : null)))
      : h('p', { class: 'muted' }, t('maint_none')));
    document.body.dataset.ready = '1';
    document.body.dataset.matched = String(d.matched);
  }
  $('#severity').addEventListener('change', () => { f.severity = $('#severity').value; f.offset = 0; load(); });
  $('#alert-counts').addEventListener('click', (e) => {
    const a = e.target.closest('a.count');
    if (!a) return;
    e.preventDefault();
    f.severity = a.dataset.severity; f.offset = 0; $('#severity').value = f.severity; load();
  });
  $('#prev').addEventListener('click', () => { f.offset = Math.max(0, f.offset - f.limit); load(); });
  $('#next').addEventListener('click', () => { f.offset += f.limit; load(); });
  $('#alerts').addEventListener('click', async (e) => {
    const b = e.target.closest('button.ack');
    if (!b) return;
    b.disabled = true;
    await api('/api/v1/alerts/' + b.dataset.id + '/ack', { method: 'POST' });
    load();
  });
  $('#maintenance').addEventListener('click', async (e) => {
    const b = e.target.closest('button.end');
    if (!b) return;
    await api('/api/v1/maintenance/' + b.dataset.id, { method: 'DELETE' });
    load();
  });
  const form = $('#maint-form');
  if (form) form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const hours = Number($('#maint-hours').value);
    const r = await api('/api/v1/maintenance', { method: 'POST', body: { siteId: $('#maint-site').value || null, endsAt: new Date(Date.now() + hours * 3600000).toISOString(), reason: $('#maint-reason').value } });
    $('#maint-error').textContent = r.ok ? '' : failure(r);
    if (r.ok) form.reset();
    load();
  });
  load();
  // Filter first, then throttle: a later event without alert changes must not swallow an earlier one.
  const reload = throttle(load, 2000);
  live({ fleet: (d) => { if (d.alerts) reload(); } });
})();
