/** The page shell every console page shares: header, navigation, language switch, and the data the page script needs (views/layout.eta). */
import type { Principal } from '../http/access.js';
import { dictionary, translator, type Lang } from './i18n.js';
import { jsonIsland, views } from './views.js';

export interface PageOptions {
  lang: Lang;
  hubId: string;
  title: string;
  page: string;
  path: string;
  principal: Principal | null;
  /** The page's own HTML, rendered from its template (or built by this hub), written as it is. */
  body: string;
  scripts?: string[];
  styles?: string[];
  data?: Record<string, unknown>;
}

const NAV = [
  { href: '/', key: 'nav_fleet', pages: ['overview'] },
  { href: '/alerts', key: 'nav_alerts', pages: ['alerts'] },
  { href: '/drills', key: 'nav_drills', pages: ['drills', 'report'] },
  { href: '/restore', key: 'nav_restore', pages: ['restore'] },
  { href: '/admin', key: 'nav_admin', pages: ['admin'], role: 'admin' },
] as const;

export function renderPage(o: PageOptions): string {
  const t = translator(o.lang);
  const next = encodeURIComponent(o.path);
  return views.render('layout', {
    ...o,
    t,
    scripts: o.scripts ?? [],
    styles: o.styles ?? [],
    data: o.data ?? {},
    dictionary: dictionary(o.lang),
    json: jsonIsland,
    nav: NAV.filter((n) => !('role' in n) || o.principal?.role === n.role).map((n) => ({ href: n.href, text: t(n.key), current: (n.pages as readonly string[]).includes(o.page) })),
    langs: (['pt', 'en'] as const).map((l) => ({ code: l, current: l === o.lang, href: `/lang?to=${l}&next=${next}` })),
  });
}

/** A page's body from its template (views/NAME.eta), with the translator of its language. */
export function renderBody(name: string, lang: Lang, data: Record<string, unknown> = {}): string {
  return views.render(name, { ...data, t: translator(lang), lang });
}
