// Open alerts of the whole fleet (and the hub), acknowledgement, maintenance windows.
'use strict';
(function () {
  const { $, t, esc, api, failure, time, live, throttle, canOperate } = window.S;
  const badge = (cls, text) => '<span class="badge ' + cls + '">' + esc(text) + '</span>';

  async function load() {
    const r = await api('/api/v1/alerts');
    if (!r.ok) return;
    const { alerts, maintenance } = r.json;
    $('#alerts').innerHTML = alerts.length
      ? '<table class="alerts"><thead><tr><th>' + esc(t('severity')) + '</th><th>' + esc(t('col_site')) + '</th><th></th><th>' + esc(t('raised')) + '</th><th></th></tr></thead><tbody>' +
        alerts.map((a) => '<tr data-alert="' + a.id + '"><td>' + badge(a.severity === 'critical' ? 'crit' : 'warn', t(a.severity)) + '</td><td>' + (a.siteId ? '<a href="/sites/' + esc(a.siteId) + '"><code>' + esc(a.siteId) + '</code></a>' : 'hub') + '</td><td><b>' + esc(t('rule_' + a.rule)) + '</b><br><small>' + esc(a.message) + '</small></td><td>' + esc(time(a.raisedAt)) + '</td><td>' +
          (a.ackedAt ? esc(t('acked_by', { name: a.ackedBy })) : canOperate() ? '<button type="button" class="ack" data-id="' + a.id + '">' + esc(t('ack')) + '</button>' : '') + '</td></tr>').join('') + '</tbody></table>'
      : '<p class="muted">' + esc(t('no_alerts')) + '</p>';
    $('#maintenance').innerHTML = maintenance.length
      ? '<ul>' + maintenance.map((m) => '<li>' + esc(m.site_id || '*') + ': ' + esc(time(m.starts_at)) + ' → ' + esc(time(m.ends_at)) + ' · ' + esc(m.reason) + ' <small>(' + esc(m.created_by) + ')</small>' + (canOperate() ? ' <button type="button" class="end" data-id="' + m.id + '">' + esc(t('maint_end')) + '</button>' : '') + '</li>').join('') + '</ul>'
      : '<p class="muted">' + esc(t('maint_none')) + '</p>';
  }
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
