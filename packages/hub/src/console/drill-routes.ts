/** Routes of the drill views: /drills (fleet), /reports/continuity (+ .csv, .pdf). The site page's section is in pages.ts. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '@sentinela/shared';
import type { Principal } from '../http/access.js';
import { escapeHtml } from '../http/escape-html.js';
import type { Db } from '../store/db.js';
import { drillFacts, drillsBetween } from '../store/drills.js';
import { fleetDrillBody, reportBody, reportPrintBody, reportCsv, reportDocument, reportLines, type FleetDrillRow, type ReportScope } from './drills.js';
import { translator, type Lang } from './i18n.js';
import { htmlToPdf } from './pdf.js';

export interface PageKit {
  session(req: FastifyRequest, reply: FastifyReply): Principal | null;
  langOf(req: FastifyRequest): Lang;
  page(req: FastifyRequest, p: Principal | null, o: { page: string; title: string; body: string }): string;
  html(reply: FastifyReply, body: string, code?: number): FastifyReply;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const reportQuery = {
  type: 'object',
  properties: {
    from: { type: 'string', pattern: DAY.source },
    to: { type: 'string', pattern: DAY.source },
    site: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    province: { type: 'string', maxLength: 100 },
  },
} as const;

interface SiteInfo {
  id: string;
  name: string | null;
  province: string | null;
}

export function drillRoutes(app: FastifyInstance, db: Db, config: HubConfig, kit: PageKit): void {
  const sites = () => db.prepare('SELECT id, name, province FROM sites ORDER BY id').all() as SiteInfo[];

  app.get('/drills', { schema: { querystring: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 3650 } } } } }, async (req, reply) => {
    const p = kit.session(req, reply);
    if (!p) return reply;
    const lang = kit.langOf(req);
    const days = (req.query as { days?: number }).days ?? config.alerts.drillOverdueDays;
    const rows: FleetDrillRow[] = sites().map((s) => {
      const f = drillFacts(db, s.id);
      return { ...s, lastAt: f.last?.drill.finishedAt ?? null, lastOk: f.last ? f.last.drill.ok : null, lastPassAt: f.lastPassAt };
    });
    return kit.html(reply, kit.page(req, p, { page: 'drills', title: translator(lang)('nav_drills'), body: fleetDrillBody(lang, days, rows, Date.now()) }));
  });

  /** The scope from the query: the last 30 days (UTC) unless from/to say otherwise; `to` is inclusive. */
  const scopeOf = (q: { from?: string; to?: string; site?: string; province?: string }): ReportScope => {
    const today = new Date().toISOString().slice(0, 10);
    return {
      from: q.from ?? new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
      to: q.to ?? today,
      site: q.site ?? null,
      province: q.province ? q.province : null,
    };
  };
  const linesOf = (scope: ReportScope) => {
    const all = sites();
    const chosen = all.filter((s) => (!scope.site || s.id === scope.site) && (!scope.province || s.province === scope.province)).map((s) => s.id);
    const end = new Date(Date.parse(`${scope.to}T00:00:00Z`) + 86_400_000).toISOString();
    const history = drillsBetween(db, '', end, chosen);
    const inPeriod = history.filter((d) => d.ts >= `${scope.from}T00:00:00`);
    return reportLines(inPeriod, history, new Map(all.map((s) => [s.id, s])), config.alerts);
  };

  app.get('/reports/continuity', { schema: { querystring: reportQuery } }, async (req, reply) => {
    const p = kit.session(req, reply);
    if (!p) return reply;
    const lang = kit.langOf(req);
    const t = translator(lang);
    const scope = scopeOf(req.query as Record<string, string>);
    const qs = new URLSearchParams(Object.entries(scope).filter((e): e is [string, string] => e[1] !== null)).toString();
    const provinces = [...new Set(sites().map((s) => s.province).filter((v): v is string => !!v))].sort();
    const form = `<form class="filters" method="get" action="/reports/continuity">
<label>${t('report_from')} <input type="date" name="from" value="${scope.from}"></label>
<label>${t('report_to')} <input type="date" name="to" value="${scope.to}"></label>
<label>${t('col_site')} <input name="site" pattern="[a-z0-9][a-z0-9-]{0,62}" value="${escapeHtml(scope.site ?? '')}"></label>
<label>${t('col_province')} <select name="province"><option value="">${t('report_all_sites')}</option>${provinces.map((v) => `<option${v === scope.province ? ' selected' : ''}>${escapeHtml(v)}</option>`).join('')}</select></label>
<button type="submit">${t('drill_show')}</button>
<a class="button" id="report-csv" href="/reports/continuity.csv?${escapeHtml(qs)}" download>${t('report_csv')}</a>
<a class="button" id="report-pdf" href="/reports/continuity.pdf?${escapeHtml(qs)}" download>${t('report_pdf')}</a></form>`;
    const body = `${form}<article class="card report">${reportBody(lang, scope, linesOf(scope), new Date().toISOString())}</article>`;
    return kit.html(reply, kit.page(req, p, { page: 'report', title: t('report_title'), body }));
  });

  const fileName = (scope: ReportScope, ext: string) => `continuity-${scope.site ?? scope.province?.replace(/[^A-Za-z0-9-]/g, '_') ?? 'all'}-${scope.from}-${scope.to}.${ext}`;

  app.get('/reports/continuity.csv', { schema: { querystring: reportQuery } }, async (req, reply) => {
    const p = kit.session(req, reply);
    if (!p) return reply;
    const scope = scopeOf(req.query as Record<string, string>);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(scope, 'csv')}"`)
      .header('cache-control', 'no-store')
      .send(reportCsv(kit.langOf(req), linesOf(scope)));
  });

  app.get('/reports/continuity.pdf', { schema: { querystring: reportQuery } }, async (req, reply) => {
    const p = kit.session(req, reply);
    if (!p) return reply;
    const lang = kit.langOf(req);
    const scope = scopeOf(req.query as Record<string, string>);
    try {
      const pdf = await htmlToPdf(config.console.pdfBrowser, reportDocument(lang, reportPrintBody(lang, scope, linesOf(scope), new Date().toISOString())));
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="${fileName(scope, 'pdf')}"`).header('cache-control', 'no-store').send(pdf);
    } catch (err) {
      req.log.error({ err: (err as Error).message }, `continuity report PDF failed: ${(err as Error).message}`);
      const t = translator(lang);
      return kit.html(reply, kit.page(req, p, { page: 'report', title: t('report_title'), body: `<p class="error">${escapeHtml(t('report_pdf_failed', { e: (err as Error).message }))}</p>` }), 500);
    }
  });
}
