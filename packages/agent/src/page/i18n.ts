/** The page's two languages: fixed words, and times said the way people read them ("há 3 h", "3 h ago"). */
import { both } from '@sentinela/shared/i18n';

export { both };
export type Lang = 'pt' | 'en';
export interface Text {
  pt: string;
  en: string;
}

export const t = (pt: string, en: string): Text => ({ pt, en });

/** Server local time as HH:MM, with the date when it is not today. */
export function clock(ts: string, now: number): Text {
  const d = new Date(ts);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (new Date(now).toDateString() === d.toDateString()) return t(hm, hm);
  const day = `${String(d.getDate()).padStart(2, '0')}/${String(d.getMonth() + 1).padStart(2, '0')}`;
  return t(`${day} ${hm}`, `${day} ${hm}`);
}

/** "3 min", "2 h", "4 dias" — coarse on purpose: a technician needs the order of magnitude. */
export function span(ms: number): Text {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t(`${s} s`, `${s} s`);
  const m = Math.round(s / 60);
  if (m < 120) return t(`${m} min`, `${m} min`);
  const h = Math.round(m / 60);
  if (h < 48) return t(`${h} h`, `${h} h`);
  const d = Math.round(h / 24);
  return t(`${d} dias`, `${d} days`);
}

export function ago(ts: string | null, now: number): Text {
  if (!ts) return t('nunca', 'never');
  const s = span(now - Date.parse(ts));
  const c = clock(ts, now);
  return t(`há ${s.pt} (${c.pt})`, `${s.en} ago (${c.en})`);
}

/** Fixed words of the page around the status cards, from the one catalogue (shared i18n/catalogue.ts). */
export const UI = {
  title: both('page_title'),
  overall: { green: both('page_overall_green'), amber: both('page_overall_amber'), red: both('page_overall_red'), grey: both('page_overall_grey') },
  level: { green: both('page_level_green'), amber: both('page_level_amber'), red: both('page_level_red'), grey: both('page_level_grey') },
  todo: both('page_todo'),
  updated: both('page_updated'),
  refresh: both('page_refresh'),
  actions: both('page_actions'),
  pin: both('page_pin'),
  pinHint: both('page_pin_hint'),
  noPin: both('page_no_pin'),
  backupNow: both('page_backup_now'),
  verify: both('page_verify'),
  sendStatus: both('page_send_status'),
  initDisk: both('page_init_disk'),
  ejectDisk: both('page_eject_disk'),
  diskLabel: both('page_disk_label'),
  events: both('page_events'),
  outages: both('page_outages'),
  noEvents: both('page_no_events'),
  noOutages: both('page_no_outages'),
  power: both('page_power'),
  wan: both('page_wan'),
  ongoing: both('page_ongoing'),
  site: both('page_site'),
  other: both('page_other_language'),
  back: both('page_back'),
} as const;

export function pick(text: Text, lang: Lang): string {
  return text[lang];
}
