/**
 * The console's HTML pages. Each is a server-rendered shell (header, words in the chosen
 * language, the CSRF token) and a script that fetches the JSON API and keeps the page live.
 * Without a session a page redirects to /login; admin pages answer 403 to other roles.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { getSite } from '../store/sites.js';
import { identify, LANG_COOKIE, readCookie, SESSION_COOKIE, setCookie, type Principal } from '../api/access.js';
import { attemptLogin } from '../api/login.js';
import type { LoginThrottle } from '../users/throttle.js';
import { escapeHtml } from '../api/console.js';
import { pickLang, translator, type Lang } from './i18n.js';
import { renderPage } from './layout.js';
import { restoreBody } from './restore.js';
import { backupsOf } from './sections.js';
import { readStoredJson } from '../store/stored-json.js';
import { listSnapshots } from '../backups/catalogue.js';
import { siteDrills } from '../store/drills.js';
import { siteDrillSection } from './drills.js';
import { drillRoutes } from './drill-routes.js';

const html = (reply: FastifyReply, body: string, code = 200) =>
  reply
    .code(code)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin')
    .header('x-content-type-options', 'nosniff')
    .send(body);

/** Only local paths: `next` must not send the user to another site after login. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

export function pageRoutes(app: FastifyInstance, db: Db, config: HubConfig, throttle: LoginThrottle): void {
  const langOf = (req: FastifyRequest): Lang => pickLang(readCookie(req, LANG_COOKIE), config.console.language);

  /** The session's principal, or a redirect to /login (API tokens do not open pages). */
  const session = (req: FastifyRequest, reply: FastifyReply): Principal | null => {
    const who = identify(db, req);
    if (!who || !who.ok || who.principal.kind !== 'session') {
      void reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 302);
      return null;
    }
    return who.principal;
  };

  const page = (req: FastifyRequest, p: Principal | null, o: { page: string; title: string; body: string; scripts?: string[]; styles?: string[]; data?: Record<string, unknown> }) =>
    renderPage({ lang: langOf(req), hubId: config.hubId, path: req.url, principal: p, ...o });

  app.get('/lang', { schema: { querystring: { type: 'object', properties: { to: { type: 'string', enum: ['pt', 'en'] }, next: { type: 'string' } } } } }, async (req, reply) => {
    const q = req.query as { to?: Lang; next?: string };
    if (q.to) setCookie(reply, config, LANG_COOKIE, q.to, { maxAgeSec: 365 * 86400, httpOnly: false });
    return reply.redirect(safeNext(q.next), 302);
  });

  /** The login page; `error` words a refused form post (the page works without JavaScript). */
  const loginPage = (req: FastifyRequest, next: string, error: { text: string; status: number } | null) => {
    const t = translator(langOf(req));
    const body = `<section class="card login"><h1>${t('login_title')}</h1>
<form id="login-form" method="post" action="/login" autocomplete="on">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label>${t('user_name')} <input name="name" id="name" autocomplete="username" required maxlength="64" autofocus></label>
<label>${t('password')} <input name="password" id="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
<button type="submit" id="login-button">${t('login')}</button>
<p id="login-error" class="error" role="alert"${error ? ` data-status="${error.status}"` : ''}>${error ? escapeHtml(error.text) : ''}</p>
</form></section>`;
    return page(req, null, { page: 'login', title: t('login'), body, scripts: ['login.js'], data: { next } });
  };

  app.get('/login', async (req, reply) => html(reply, loginPage(req, safeNext((req.query as { next?: string }).next), null)));

  // The form's own post, for browsers without JavaScript: a session cookie and a redirect, or the page again with why.
  app.post<{ Body: { name?: string; password?: string; next?: string } }>(
    '/login',
    { schema: { body: { type: 'object', properties: { name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 }, next: { type: 'string', maxLength: 2048 } } } } },
    async (req, reply) => {
      const next = safeNext(req.body.next);
      const t = translator(langOf(req));
      const r = await attemptLogin(db, config, throttle, req, req.body.name ?? '', req.body.password ?? '');
      if (r.ok) {
        setCookie(reply, config, SESSION_COOKIE, r.token, { maxAgeSec: Math.round(config.console.sessionHours * 3600) });
        return reply.redirect(next, 303);
      }
      if (r.code === 'login_wait') reply.header('retry-after', String(r.retryAfterSec));
      const text = r.code === 'login_wait' ? t('login_wait', { s: r.retryAfterSec }) : t(r.code);
      return html(reply, loginPage(req, next, { text, status: r.status }), r.status);
    },
  );

  app.get('/', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    const body = `<h1>${t('sites')}</h1>
<section id="counts" class="counts" aria-live="polite"></section>
<form id="filters" class="filters" role="search">
<input id="q" type="search" placeholder="${escapeHtml(t('filter_text'))}" aria-label="${escapeHtml(t('filter_text'))}">
<select id="province" aria-label="${t('col_province')}"><option value="">${t('filter_province')}</option></select>
<select id="state" aria-label="${t('col_state')}"><option value="">${t('filter_state')}</option>${['online', 'degraded', 'stale', 'offline', 'never-seen']
      .map((s) => `<option value="${s}">${t(s as 'online')}</option>`)
      .join('')}<option value="alerting">${t('filter_alerting')}</option><option value="battery">${t('on_battery')}</option><option value="rpo">${t('over_rpo')}</option></select>
<label>${t('sort_by')} <select id="sort">${['urgency', 'id', 'name', 'province', 'lastSeen', 'backup'].map((s) => `<option value="${s}">${t(`sort_${s}` as 'sort_id')}</option>`).join('')}</select></label>
</form>
<div class="table-wrap"><table id="fleet" class="fleet"><thead><tr>
<th>${t('col_site')}</th><th>${t('col_province')}</th><th>${t('col_state')}</th><th>${t('col_last_seen')}</th><th>${t('col_backup')}</th><th>${t('col_ups')}</th><th>${t('col_wan')}</th><th>${t('col_usb')}</th><th>${t('col_backlog')}</th><th>${t('col_agent')}</th><th>${t('col_alerts')}</th>
</tr></thead><tbody></tbody></table></div>
<nav class="pager"><button id="prev" type="button">${t('prev')}</button> <span id="range"></span> <button id="next" type="button">${t('next')}</button></nav>`;
    return html(reply, page(req, p, { page: 'overview', title: t('nav_fleet'), body, scripts: ['overview.js'], data: { rpoHours: config.alerts.rpoHours, lowDiskPct: config.alerts.lowDiskPct } }));
  });

  app.get<{ Params: { id: string } }>('/sites/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } } }, async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    const site = getSite(db, req.params.id);
    if (!site) return html(reply, page(req, p, { page: 'site', title: t('not_found'), body: `<p>${t('not_found')}</p>` }), 404);
    // Whether the hub holds an off-site copy decides what "export the latest" gives.
    const held = listSnapshots(db, site.id).length > 0;
    const body = `<h1 id="site-title"><code>${escapeHtml(site.id)}</code> ${escapeHtml(site.name ?? '')} <small>${escapeHtml(site.province ?? '')}</small></h1>
<section id="summary" class="summary card"></section>
<section class="card"><h2>${t('alerts')}</h2><div id="site-alerts"></div></section>
<section class="card"><h2 id="timelines-title">${t('timelines', { d: 30 })}</h2><div id="timelines"></div></section>
<section class="card"><h2>${t('charts')}</h2><div id="charts" class="charts"></div></section>
<section class="card"><h2>${t('backups')}</h2><div id="backups"></div>
<p><a class="button" id="export-latest" href="/api/v1/sites/${escapeHtml(site.id)}/snapshots/latest/export" download>${t(held ? 'export_latest_offsite' : 'export_latest')}</a> <a href="/sites/${escapeHtml(site.id)}/restore">${t('restore_link')}</a></p>
${held ? '' : `<p class="note">${t('no_offsite')}</p>`}</section>
<section class="card" id="drills-card"><h2>${t('drills_section')}</h2>${siteDrillSection(langOf(req), config.alerts, siteDrills(db, site.id, 20))}
<p><a href="/reports/continuity?site=${escapeHtml(site.id)}">${t('report_title')}</a></p></section>
<section class="card"><h2>${t('events')}</h2><div id="events"></div></section>`;
    return html(
      reply,
      page(req, p, { page: 'site', title: site.id, body, scripts: ['uPlot.js', 'site.js'], styles: ['uPlot.css'], data: { siteId: site.id, lowDiskPct: config.alerts.lowDiskPct } }),
    );
  });

  app.get<{ Params: { id: string } }>('/sites/:id/restore', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } } }, async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const site = getSite(db, req.params.id);
    const lang = langOf(req);
    if (!site) return html(reply, page(req, p, { page: 'restore', title: translator(lang)('not_found'), body: `<p>${translator(lang)('not_found')}</p>` }), 404);
    const body = restoreBody(lang, { id: site.id, name: site.name, backups: backupsOf(readStoredJson(site.last_status_json)), offsite: listSnapshots(db, site.id) });
    return html(reply, page(req, p, { page: 'restore', title: translator(lang)('nav_restore'), body: `<article class="restore">${body}</article>` }));
  });

  app.get('/restore', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const lang = langOf(req);
    return html(reply, page(req, p, { page: 'restore', title: translator(lang)('nav_restore'), body: `<article class="restore">${restoreBody(lang, null)}</article>` }));
  });

  app.get('/alerts', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    const canAct = p.role !== 'viewer';
    const body = `<h1>${t('alerts')}</h1>
<section id="alert-counts" class="counts" aria-live="polite"></section>
<form id="alert-filters" class="filters"><label>${t('filter_severity')} <select id="severity"><option value="">${t('all_severities')}</option>${(['critical', 'warning', 'info'] as const)
      .map((s) => `<option value="${s}">${t(s)}</option>`)
      .join('')}</select></label></form>
<section class="card"><div id="alerts"></div>
<nav class="pager"><button id="prev" type="button">${t('prev')}</button> <span id="range"></span> <button id="next" type="button">${t('next')}</button></nav></section>
<section class="card"><h2>${t('maintenance')}</h2><div id="maintenance"></div>
${
  canAct
    ? `<form id="maint-form" class="inline-form"><h3>${t('maint_add')}</h3>
<label>${t('maint_site')} <input id="maint-site" pattern="[a-z0-9][a-z0-9-]{0,62}"></label>
<label>${t('maint_hours')} <input id="maint-hours" type="number" min="0.25" step="0.25" value="2" required></label>
<label>${t('maint_reason')} <input id="maint-reason" required maxlength="500"></label>
<button type="submit">${t('save')}</button><span id="maint-error" class="error"></span></form>`
    : ''
}</section>`;
    return html(reply, page(req, p, { page: 'alerts', title: t('alerts'), body, scripts: ['alerts.js'] }));
  });

  drillRoutes(app, db, config, { session, langOf, page, html });

  app.get('/admin', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    if (p.role !== 'admin') return html(reply, page(req, p, { page: 'admin', title: t('nav_admin'), body: `<p class="error">${t('admin_only')}</p>` }), 403);
    const body = `<h1>${t('nav_admin')}</h1>
<section class="card"><h2>${t('users')}</h2><div id="users"></div>
<form id="user-form" class="inline-form"><h3>${t('user_add')}</h3>
<label>${t('user_name')} <input id="u-name" required maxlength="64"></label>
<label>${t('role')} <select id="u-role"><option value="viewer">${t('role_viewer')}</option><option value="operator">${t('role_operator')}</option><option value="admin">${t('role_admin')}</option></select></label>
<label>${t('password')} <input id="u-password" type="password" required minlength="10" autocomplete="new-password"></label>
<button type="submit">${t('save')}</button><span id="user-error" class="error"></span></form></section>
<section class="card"><h2>${t('audit')}</h2><div id="audit"></div></section>`;
    return html(reply, page(req, p, { page: 'admin', title: t('nav_admin'), body, scripts: ['admin.js'] }));
  });
}
