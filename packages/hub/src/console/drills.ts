/**
 * The console's restore drill views, rendered on the server (drills are few and change weekly):
 * a site's last drill of each source and location, the fleet's sites without a passing drill in N
 * days, and the continuity test report (HTML, CSV, and the HTML that Chromium prints to PDF).
 */
import type { DrillResult, HubConfig } from '@sentinela/shared';
import { escapeHtml } from '../http/escape-html.js';
import type { StoredDrill } from '../store/drills.js';
import { latestResults } from '../store/drills.js';
import { translator, type Lang } from './i18n.js';

type Objectives = Pick<HubConfig['alerts'], 'rtoMinutes' | 'rpoHours'>;
type T = ReturnType<typeof translator>;

const e = escapeHtml;
const secs = (s: number | null) => (s === null ? '–' : s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** RTO is judged by its projection to the source's current size when there is one. */
const rtoOf = (r: DrillResult) => r.projectedRtoSeconds ?? r.rtoSeconds;
export const rtoMet = (r: DrillResult, o: Objectives) => r.ok && rtoOf(r) <= o.rtoMinutes * 60;
export const rpoMet = (r: DrillResult, o: Objectives) => r.rpoSeconds !== null && r.rpoSeconds <= o.rpoHours * 3600;

function verdict(t: T, ok: boolean): string {
  return `<span class="badge ${ok ? 'ok' : 'bad'}">${ok ? t('drill_pass') : t('drill_fail')}</span>`;
}

function vsObjective(t: T, value: string, met: boolean, objective: string): string {
  return `${e(value)} <small class="${met ? 'ok' : 'bad'}">${met ? t('drill_within', { o: objective }) : t('drill_over', { o: objective })}</small>`;
}

/** The site page's section: the newest result of each source and location. */
export function siteDrillSection(lang: Lang, o: Objectives, drills: readonly StoredDrill[]): string {
  const t = translator(lang);
  if (drills.length === 0) return `<p id="drills-none">${t('drill_none')}</p>`;
  const rows = latestResults(drills)
    .map(
      ({ at, by, result: r }) => `<tr data-source="${e(r.source)}" data-location="${e(r.location)}" data-ok="${r.ok ? 1 : 0}">
<td>${e(r.source)}</td><td>${e(r.location)}</td><td>${verdict(t, r.ok)}${r.ok ? '' : `<div class="problems">${r.problems.map(e).join('<br>')}</div>`}</td>
<td>${vsObjective(t, secs(rtoOf(r)), rtoMet(r, o), `${o.rtoMinutes} min`)}</td><td>${vsObjective(t, secs(r.rpoSeconds), rpoMet(r, o), `${o.rpoHours} h`)}</td>
<td>${e(when(at))}</td><td>${e(by)}</td></tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table id="drills" class="fleet"><thead><tr><th>${t('drill_source')}</th><th>${t('drill_location')}</th><th>${t('drill_result')}</th><th>${t('drill_rto')}</th><th>${t('drill_rpo')}</th><th>${t('drill_when')}</th><th>${t('drill_by')}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export interface FleetDrillRow {
  id: string;
  name: string | null;
  province: string | null;
  lastAt: string | null;
  lastOk: boolean | null;
  lastPassAt: string | null;
}

/** Sites without a passing drill in `days` days (with their newest drill), then the count of the rest. */
export function fleetDrillBody(lang: Lang, days: number, rows: readonly FleetDrillRow[], now: number): string {
  const t = translator(lang);
  const cutoff = now - days * 86_400_000;
  const late = rows.filter((r) => !r.lastPassAt || Date.parse(r.lastPassAt) < cutoff);
  const body = late
    .map(
      (r) => `<tr data-site="${e(r.id)}"><td><a href="/sites/${e(r.id)}">${e(r.id)}</a> ${e(r.name ?? '')}</td><td>${e(r.province ?? '')}</td>
<td>${r.lastPassAt ? e(when(r.lastPassAt)) : t('drill_never')}</td><td>${r.lastAt ? `${e(when(r.lastAt))} ${verdict(t, r.lastOk === true)}` : t('drill_never')}</td></tr>`,
    )
    .join('');
  return `<h1>${t('drills_title')}</h1>
<form class="filters" method="get" action="/drills"><label>${t('drills_days')} <input name="days" type="number" min="1" max="3650" value="${days}"></label> <button type="submit">${t('drill_show')}</button>
<a href="/reports/continuity">${t('report_title')}</a></form>
<section class="card"><h2 id="drills-late-title">${t('drills_late', { n: late.length, d: days })}</h2>
${late.length ? `<div class="table-wrap"><table id="drills-late" class="fleet"><thead><tr><th>${t('col_site')}</th><th>${t('col_province')}</th><th>${t('drill_last_pass')}</th><th>${t('drill_last')}</th></tr></thead><tbody>${body}</tbody></table></div>` : `<p>${t('drills_all_ok')}</p>`}
<p>${t('drills_ok_count', { n: rows.length - late.length })}</p></section>`;
}

/** One line of the continuity test report: one source restored from one location in one drill. */
export interface ReportLine {
  site: string;
  province: string;
  by: string;
  date: string;
  start: string;
  durationSeconds: number;
  host: string;
  versions: string;
  source: string;
  location: string;
  snapshot: string;
  result: 'PASS' | 'FAIL';
  rtoSeconds: number;
  projectedRtoSeconds: number | null;
  rtoObjectiveSeconds: number;
  rtoMet: boolean;
  rpoSeconds: number | null;
  rpoObjectiveSeconds: number;
  rpoMet: boolean;
  previousRtoSeconds: number | null;
  deviations: string;
}

/**
 * The report's lines for the drills in the period, each compared with the previous drill of the
 * same site, source and location (`history` holds every drill up to the period's end, oldest first).
 */
export function reportLines(inPeriod: readonly StoredDrill[], history: readonly StoredDrill[], sites: ReadonlyMap<string, { province: string | null }>, o: Objectives): ReportLine[] {
  const previous = new Map<string, number>();
  const prevOf = new Map<DrillResult, number | null>();
  for (const d of history)
    for (const r of d.drill.results) {
      const key = `${d.siteId}\u0000${r.source}\u0000${r.location}`;
      prevOf.set(r, previous.get(key) ?? null);
      if (r.ok) previous.set(key, r.rtoSeconds);
    }
  const lines: ReportLine[] = [];
  for (const d of inPeriod)
    for (const r of d.drill.results) {
      const deviations = [...r.problems];
      if (r.ok && !rtoMet(r, o)) deviations.push(`RTO ${secs(rtoOf(r))} over the objective of ${o.rtoMinutes} min`);
      if (!rpoMet(r, o)) deviations.push(r.rpoSeconds === null ? 'no data restored (RPO unknown)' : `RPO ${secs(r.rpoSeconds)} over the objective of ${o.rpoHours} h`);
      lines.push({
        site: d.siteId,
        province: sites.get(d.siteId)?.province ?? '',
        by: d.drill.by,
        date: d.drill.startedAt.slice(0, 10),
        start: d.drill.startedAt.slice(11, 19),
        durationSeconds: Math.round((Date.parse(d.drill.finishedAt) - Date.parse(d.drill.startedAt)) / 100) / 10,
        host: d.drill.host,
        versions: Object.entries(d.drill.versions).map(([k, v]) => `${k} ${v}`).join(', '),
        source: r.source,
        location: r.location,
        snapshot: r.snapshot ?? '',
        result: r.ok ? 'PASS' : 'FAIL',
        rtoSeconds: r.rtoSeconds,
        projectedRtoSeconds: r.projectedRtoSeconds,
        rtoObjectiveSeconds: o.rtoMinutes * 60,
        rtoMet: rtoMet(r, o),
        rpoSeconds: r.rpoSeconds,
        rpoObjectiveSeconds: o.rpoHours * 3600,
        rpoMet: rpoMet(r, o),
        previousRtoSeconds: prevOf.get(r) ?? null,
        deviations: deviations.join('; '),
      });
    }
  return lines;
}

const COLUMNS: Array<[keyof ReportLine, Parameters<T>[0]]> = [
  ['site', 'col_site'],
  ['province', 'col_province'],
  ['by', 'drill_by'],
  ['date', 'report_date'],
  ['start', 'report_start'],
  ['durationSeconds', 'report_duration'],
  ['host', 'report_host'],
  ['versions', 'report_versions'],
  ['source', 'drill_source'],
  ['location', 'drill_location'],
  ['snapshot', 'report_snapshot'],
  ['result', 'drill_result'],
  ['rtoSeconds', 'report_rto'],
  ['projectedRtoSeconds', 'report_rto_projected'],
  ['rtoObjectiveSeconds', 'report_rto_objective'],
  ['rtoMet', 'report_rto_met'],
  ['rpoSeconds', 'report_rpo'],
  ['rpoObjectiveSeconds', 'report_rpo_objective'],
  ['rpoMet', 'report_rpo_met'],
  ['previousRtoSeconds', 'report_previous_rto'],
  ['deviations', 'report_deviations'],
];

export interface ReportScope {
  from: string;
  to: string;
  site: string | null;
  province: string | null;
}

const cell = (t: T, v: ReportLine[keyof ReportLine]) => (v === null ? '' : typeof v === 'boolean' ? t(v ? 'yes' : 'no') : String(v));

/** RFC 4180 CSV, headers in the chosen language; a cell that a spreadsheet would run as a formula is quoted with a leading '. */
export function reportCsv(lang: Lang, lines: readonly ReportLine[]): string {
  const t = translator(lang);
  const q = (s: string) => {
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [COLUMNS.map(([, k]) => q(t(k))).join(','), ...lines.map((l) => COLUMNS.map(([c]) => q(cell(t, l[c]))).join(','))].join('\r\n') + '\r\n';
}

/** The report's heading: title, scope, period, when made, and the count of passes and failures. */
function reportHead(t: T, scope: ReportScope, lines: readonly ReportLine[], generatedAt: string): string {
  const pass = lines.filter((l) => l.result === 'PASS').length;
  const scopeText = [scope.site ? `${t('col_site')}: ${scope.site}` : null, scope.province ? `${t('col_province')}: ${scope.province}` : null, !scope.site && !scope.province ? t('report_all_sites') : null]
    .filter(Boolean)
    .join(' · ');
  return `<h1 id="report-title">${t('report_title')}</h1>
<p id="report-scope">${e(scopeText)} · ${t('report_period')}: ${e(scope.from)} – ${e(scope.to)} · ${t('report_generated')}: ${e(when(generatedAt))} UTC</p>
<p id="report-summary">${t('report_summary', { n: lines.length, pass, fail: lines.length - pass })}</p>`;
}

/** The report on the console page: the heading and one table row per line. */
export function reportBody(lang: Lang, scope: ReportScope, lines: readonly ReportLine[], generatedAt: string): string {
  const t = translator(lang);
  const rows = lines
    .map((l) => `<tr class="${l.result === 'PASS' ? 'ok' : 'bad'}">${COLUMNS.map(([c]) => `<td data-col="${c}">${e(cell(t, l[c]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `${reportHead(t, scope, lines, generatedAt)}
${lines.length ? `<table id="report" class="report"><thead><tr>${COLUMNS.map(([, k]) => `<th>${t(k)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>` : `<p>${t('report_empty')}</p>`}`;
}

/** The report for print: the heading, then each line as a block of field and value (21 columns do not fit an A4 page). */
export function reportPrintBody(lang: Lang, scope: ReportScope, lines: readonly ReportLine[], generatedAt: string): string {
  const t = translator(lang);
  const blocks = lines
    .map((l, i) => `<table class="record ${l.result === 'PASS' ? 'ok' : 'bad'}"><caption>${i + 1}. ${e(l.site)} · ${e(l.source)} · ${e(l.location)}</caption>${COLUMNS.map(([c, k]) => `<tr><th>${t(k)}</th><td>${e(cell(t, l[c]))}</td></tr>`).join('')}</table>`)
    .join('\n');
  return `${reportHead(t, scope, lines, generatedAt)}\n${lines.length ? blocks : `<p>${t('report_empty')}</p>`}`;
}

/** A standalone document of the report for Chromium to print (inline style, no script, no external asset). */
export function reportDocument(lang: Lang, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Sentinela</title><style>
@page { size: A4; margin: 12mm; }
body { font-family: sans-serif; font-size: 9pt; }
table.record { border-collapse: collapse; width: 100%; margin: 0 0 4mm; break-inside: avoid; }
caption { text-align: left; font-weight: bold; padding: 1mm 0; }
th, td { border: 1px solid #999; padding: 1px 4px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #eee; width: 35%; font-weight: normal; }
table.bad caption { color: #a00; }
</style></head><body>${body}</body></html>`;
}
