// Users and the audit log (admins only; the API refuses everyone else too).
'use strict';
(function () {
  const { $, t, h, fill, table, api, failure, time } = window.S;
  async function users() {
    const r = await api('/api/v1/users');
    if (!r.ok) return;
    fill('#users', table('users', [t('user_name'), t('role'), t('created')],
      r.json.users.map((u) => h('tr', null, h('td', null, u.name), h('td', null, t('role_' + u.role)), h('td', null, time(u.created_at))))));
  }
  async function auditLog() {
    const r = await api('/api/v1/audit?limit=200');
    if (!r.ok) return;
    fill('#audit', table('audit', [t('audit_at'), t('audit_actor'), t('audit_action'), t('audit_target'), t('audit_ok'), t('audit_ip')],
      r.json.entries.map((a) => h('tr', { class: a.ok ? null : 'denied' },
        h('td', null, time(a.at)), h('td', null, a.actor, a.role ? [' ', h('small', null, a.role)] : null), h('td', null, h('code', null, a.action)),
        h('td', null, a.target || ''), h('td', null, a.ok ? t('yes') : t('no')), h('td', null, a.ip || '')))));
    document.body.dataset.ready = '1';
  }
  $('#user-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('/api/v1/users', { method: 'POST', body: { name: $('#u-name').value, role: $('#u-role').value, password: $('#u-password').value } });
    $('#user-error').textContent = r.ok ? '' : failure(r);
    if (r.ok) e.target.reset();
    users();
    auditLog();
  });
  users();
  auditLog();
})();
