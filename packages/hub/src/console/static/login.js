'use strict';
(function () {
  const { $, t, api, DATA } = window.S;
  const form = $('#login-form');
  const error = $('#login-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const button = $('#login-button');
    button.disabled = true;
    try {
      const r = await api('/api/v1/session', { method: 'POST', body: { name: $('#name').value, password: $('#password').value }, noRedirect: true });
      if (r.ok) { location.href = DATA.next || '/'; return; }
      if (r.status === 429) error.textContent = t('login_wait', { s: r.headers.get('retry-after') || '?' });
      else if (r.status === 401) error.textContent = t('login_wrong');
      else error.textContent = t('failed', { e: (r.json && r.json.error) || r.status });
      error.dataset.status = String(r.status);
    } finally {
      button.disabled = false;
    }
  });
})();
