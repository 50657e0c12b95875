/**
 * The console's HTML pages. Each is a server-rendered shell (header, words in the chosen
 * language, the CSRF token) and a script that fetches the JSON API and keeps the page live.
 * Without a session a page redirects to /login; admin pages answer 403 to other roles.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { getSite } from '../store/sites.js';
import { identify, LANG_COOKIE, readCookie, SESSION_COOKIE, setCookie, type Principal } from '../http/access.js';
import { attemptLogin } from '../api/login.js';
import type { ConsoleService } from './service.js';
import type { FleetQuery } from './fleet.js';
import { pickLang, translator, type Lang } from './i18n.js';
import { renderBody, renderPage } from './layout.js';
import { restoreBody } from './restore.js';
import { backupsOf } from '../core/sections.js';
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

const STATES = new Set(['', 'online', 'degraded', 'stale', 'offline', 'never-seen', 'alerting', 'battery', 'rpo']);
const SORTS = new Set(['urgency', 'id', 'name', 'lastSeen', 'backup', 'province']);

/** The overview's filters from its address, as overview.js sends them to /api/v1/fleet; null when one is not valid. */
export function overviewQuery(q: Record<string, string | undefined>): FleetQuery | null {
  const offset = Number(q.offset ?? 0);
  const text = q.q ?? '';
  const province = q.province ?? '';
  const state = q.state ?? '';
  const sort = q.sort ?? 'urgency';
  if (!Number.isInteger(offset) || offset < 0 || text.length > 100 || province.length > 100 || !STATES.has(state) || !SORTS.has(sort)) return null;
  return { q: text, province, state, sort: sort as FleetQuery['sort'], offset, limit: 100 };
}

export function pageRoutes(app: FastifyInstance, db: Db, config: HubConfig, svc: ConsoleService): void {
  const throttle = svc.throttle;
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
    const lang = langOf(req);
    return page(req, null, { page: 'login', title: translator(lang)('login'), body: renderBody('login', lang, { next, error }), scripts: ['login.js'], data: { next } });
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
    const lang = langOf(req);
    const t = translator(lang);
    const body = renderBody('overview', lang);
    // The first page of the table comes with the page: on a 150 ms link that is one round trip less before it is usable.
    const query = overviewQuery(req.query as Record<string, string | undefined>);
    const fleet = query ? svc.fleet.query(query) : null;
    return html(reply, page(req, p, { page: 'overview', title: t('nav_fleet'), body, scripts: ['overview.js'], data: { rpoHours: config.alerts.rpoHours, lowDiskPct: config.alerts.lowDiskPct, fleet } }));
  });

  app.get<{ Params: { id: string } }>('/sites/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } } }, async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    const site = getSite(db, req.params.id);
    if (!site) return html(reply, page(req, p, { page: 'site', title: t('not_found'), body: renderBody('message', langOf(req), { text: t('not_found') }) }), 404);
    // Whether the hub holds an off-site copy decides what "export the latest" gives.
    const held = listSnapshots(db, site.id).length > 0;
    const lang = langOf(req);
    const body = renderBody('site', lang, { site, held, drills: siteDrillSection(lang, config.alerts, siteDrills(db, site.id, 20)) });
    return html(
      reply,
      page(req, p, { page: 'site', title: site.name ?? site.id, body, scripts: ['uPlot.js', 'site.js'], styles: ['uPlot.css'], data: { siteId: site.id, lowDiskPct: config.alerts.lowDiskPct } }),
    );
  });

  app.get<{ Params: { id: string } }>('/sites/:id/restore', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } } }, async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const site = getSite(db, req.params.id);
    const lang = langOf(req);
    if (!site) return html(reply, page(req, p, { page: 'restore', title: translator(lang)('not_found'), body: renderBody('message', lang, { text: translator(lang)('not_found') }) }), 404);
    const body = restoreBody(lang, { id: site.id, name: site.name, backups: backupsOf(readStoredJson(site.last_status_json)), offsite: listSnapshots(db, site.id) });
    return html(reply, page(req, p, { page: 'restore', title: translator(lang)('nav_restore'), body: renderBody('restore', lang, { guide: body }) }));
  });

  app.get('/restore', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const lang = langOf(req);
    return html(reply, page(req, p, { page: 'restore', title: translator(lang)('nav_restore'), body: renderBody('restore', lang, { guide: restoreBody(lang, null) }) }));
  });

  app.get('/alerts', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    const canAct = p.role !== 'viewer';
    const body = renderBody('alerts', langOf(req), { canAct });
    return html(reply, page(req, p, { page: 'alerts', title: t('alerts'), body, scripts: ['alerts.js'] }));
  });

  drillRoutes(app, db, config, { session, langOf, page, html });

  app.get('/admin', async (req, reply) => {
    const p = session(req, reply);
    if (!p) return reply;
    const t = translator(langOf(req));
    if (p.role !== 'admin') return html(reply, page(req, p, { page: 'admin', title: t('nav_admin'), body: renderBody('message', langOf(req), { text: t('admin_only'), cls: 'error' }) }), 403);
    const body = renderBody('admin', langOf(req));
    return html(reply, page(req, p, { page: 'admin', title: t('nav_admin'), body, scripts: ['admin.js'] }));
  });
}
