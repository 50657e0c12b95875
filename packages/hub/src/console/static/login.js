'use strict';
(function () {
  const { $, api, failure, DATA } = window.S;
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
      error.textContent = failure(r);
      error.dataset.status = String(r.status);
    } finally {
      button.disabled = false;
    }
  });
})();
