/**
 * The console's words come from the one catalogue (shared i18n/catalogue.ts). Pages get their
 * language's table of the console's keys; the client script reads it from the page.
 */
import { CONSOLE_KEYS, dictionary as tableOf, fill, type ConsoleKey, type Lang } from '@sentinela/shared/i18n';

export { LANGS, type Lang } from '@sentinela/shared/i18n';

export type Key = ConsoleKey;

export function dictionary(lang: Lang): Record<string, string> {
  return tableOf(lang, CONSOLE_KEYS);
}

export function translator(lang: Lang) {
  const d = dictionary(lang);
  return (key: Key, vars: Record<string, string | number> = {}) => fill(d[key]!, vars);
}

const DATE_TIME = {
  pt: new Intl.DateTimeFormat('pt-PT', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }),
  en: new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }),
};

/** A time as people read it, in the hub's time zone (as the browser pages do in theirs): 03/12/2026 14:05. */
export function formatTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME[lang].format(d).replace(',', '');
}

export function pickLang(cookie: string | null, fallback: Lang): Lang {
  return cookie === 'pt' || cookie === 'en' ? cookie : fallback;
}
