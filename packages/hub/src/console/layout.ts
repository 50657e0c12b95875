/** The page shell every console page shares: header, navigation, language switch, and the data the page script needs. */
import { escapeHtml } from '../api/console.js';
import type { Principal } from '../api/access.js';
import { dictionary, translator, type Lang } from './i18n.js';

export interface PageOptions {
  lang: Lang;
  hubId: string;
  title: string;
  page: string;
  path: string;
  principal: Principal | null;
  body: string;
  scripts?: string[];
  styles?: string[];
  data?: Record<string, unknown>;
}

/** JSON inside <script type="application/json">: "<" escaped so no string can close the tag. */
export function jsonIsland(id: string, value: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;
}

export function renderPage(o: PageOptions): string {
  const t = translator(o.lang);
  const p = o.principal;
  const nav = p
    ? `<nav><a href="/"${o.page === 'overview' ? ' aria-current="page"' : ''}>${t('nav_fleet')}</a><a href="/alerts"${o.page === 'alerts' ? ' aria-current="page"' : ''}>${t('nav_alerts')}</a><a href="/drills"${o.page === 'drills' || o.page === 'report' ? ' aria-current="page"' : ''}>${t('nav_drills')}</a><a href="/restore"${o.page === 'restore' ? ' aria-current="page"' : ''}>${t('nav_restore')}</a>${p.role === 'admin' ? `<a href="/admin"${o.page === 'admin' ? ' aria-current="page"' : ''}>${t('nav_admin')}</a>` : ''}</nav>`
    : '';
  const next = encodeURIComponent(o.path);
  const langs = (['pt', 'en'] as const)
    .map((l) => (l === o.lang ? `<strong>${l.toUpperCase()}</strong>` : `<a href="/lang?to=${l}&amp;next=${next}" id="lang-${l}">${l.toUpperCase()}</a>`))
    .join(' | ');
  const user = p
    ? `<span class="who">${escapeHtml(t('logged_as', { name: p.name, role: t(`role_${p.role}` as 'role_admin') }))}</span> <span id="live" class="live off" hidden>${t('live_off')}</span> <button id="logout" type="button">${t('logout')}</button>`
    : '';
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} — Sentinela ${escapeHtml(o.hubId)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
${(o.styles ?? []).map((s) => `<link rel="stylesheet" href="/assets/${s}">`).join('\n')}
${p?.csrf ? `<meta name="csrf-token" content="${escapeHtml(p.csrf)}">` : ''}
</head><body data-page="${o.page}" data-role="${p?.role ?? ''}" data-lang="${o.lang}">
<header><a class="brand" href="/">Sentinela <small>${escapeHtml(o.hubId)}</small></a>${nav}<span class="spacer"></span>${user}<span class="langs">${langs}</span></header>
<main id="main">
${o.body}
</main>
${jsonIsland('i18n', dictionary(o.lang))}
${jsonIsland('page-data', o.data ?? {})}
<script src="/assets/common.js"></script>
${(o.scripts ?? []).map((s) => `<script src="/assets/${s}"></script>`).join('\n')}
</body></html>
`;
}
