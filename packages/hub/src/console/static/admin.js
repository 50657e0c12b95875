// Users and the audit log (admins only; the API refuses everyone else too).
'use strict';
(function () {
  const { $, t, esc, api, failure, time } = window.S;
  async function users() {
    const r = await api('/api/v1/users');
    if (!r.ok) return;
    $('#users').innerHTML = '<table><thead><tr><th>' + esc(t('user_name')) + '</th><th>' + esc(t('role')) + '</th><th>' + esc(t('created')) + '</th></tr></thead><tbody>' +
      r.json.users.map((u) => '<tr><td>' + esc(u.name) + '</td><td>' + esc(t('role_' + u.role)) + '</td><td>' + esc(time(u.created_at)) + '</td></tr>').join('') + '</tbody></table>';
  }
  async function auditLog() {
    const r = await api('/api/v1/audit?limit=200');
    if (!r.ok) return;
    $('#audit').innerHTML = '<table class="audit"><thead><tr><th>' + esc(t('audit_at')) + '</th><th>' + esc(t('audit_actor')) + '</th><th>' + esc(t('audit_action')) + '</th><th>' + esc(t('audit_target')) + '</th><th>' + esc(t('audit_ok')) + '</th><th>IP</th></tr></thead><tbody>' +
      r.json.entries.map((a) => '<tr class="' + (a.ok ? '' : 'denied') + '"><td>' + esc(time(a.at)) + '</td><td>' + esc(a.actor) + (a.role ? ' <small>' + esc(a.role) + '</small>' : '') + '</td><td><code>' + esc(a.action) + '</code></td><td>' + esc(a.target || '') + '</td><td>' + esc(a.ok ? t('yes') : t('no')) + '</td><td>' + esc(a.ip || '') + '</td></tr>').join('') + '</tbody></table>';
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
