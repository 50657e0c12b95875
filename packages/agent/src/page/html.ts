/**
 * The page as one server-rendered HTML document (views/page.eta): inline CSS, no framework, no
 * external asset. Forms post without JavaScript; a few lines of script only refresh the page (a
 * <noscript> meta refresh does it on browsers without scripts). Every word comes in both languages.
 */
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { StatusDocument } from './document.js';
import type { Level } from './rules.js';
import type { ActionResult, DiskChoice, VerifyOutcome } from './actions.js';
import type { EventView, OutageView } from './history.js';
import { ago, both, pick, span, t, UI, type Lang, type Text } from './i18n.js';

export interface ActionsView {
  /** none: no PIN set (actions disabled); locked: PIN set, not entered; open: unlocked in this browser. */
  state: 'none' | 'locked' | 'open';
  csrf: string;
  disks: { attached: DiskChoice[]; blank: DiskChoice[] };
  flash: ActionResult | null;
  verify: VerifyOutcome | null;
}

export interface PageView {
  lang: Lang;
  doc: StatusDocument;
  now: number;
  refreshSeconds: number;
  actions: ActionsView;
  siteName: string | null;
}

/** The page's templates (page/views, copied into dist/ by `npm run build`): every `<%= %>` escaped. */
const views = new Eta({ views: fileURLToPath(new URL('./views/', import.meta.url)), cache: true, autoEscape: true, autoTrim: false });

/** HTML-escapes a string the way the templates do (one escaper: Eta's). */
export const esc = (s: string): string => views.config.escapeFunction(s);

// Colour plus a word and a symbol: the state never rests on colour alone.
const CSS = `
body{margin:0;font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#111;background:#f4f4f4}
header{background:#223;color:#fff;padding:8px 12px}header h1{font-size:20px;margin:0}
header a{color:#fff}.wrap{max-width:960px;margin:0 auto;padding:8px}
.overall{padding:10px;font-size:20px;font-weight:bold;margin:8px 0;border-radius:4px}
.card{background:#fff;border-left:10px solid #999;margin:8px 0;padding:8px 12px;border-radius:4px}
.card h2{font-size:18px;margin:0 0 6px 0}.badge{font-size:14px;padding:2px 6px;border-radius:3px;color:#fff}
.level-green{border-color:#1b7f3b}.level-amber{border-color:#e08a00}.level-red{border-color:#c62828}.level-grey{border-color:#5f6368}
.bg-green{background:#1b7f3b;color:#fff}.bg-amber{background:#e08a00;color:#111}.bg-red{background:#c62828;color:#fff}.bg-grey{background:#5f6368;color:#fff}
dl{margin:0}dt{font-weight:bold;float:left;clear:left;width:45%}dd{margin:0 0 4px 47%}
.todo{margin-top:6px;padding:6px;background:#fff6e0;border:1px solid #e0c080}
.card.level-red .todo{background:#fde8e8;border-color:#e0a0a0}
form{margin:6px 0}input,select,button{font-size:16px;padding:6px;max-width:100%}button{min-width:44px}
fieldset{border:1px solid #ccc;margin:8px 0}fieldset[disabled]{opacity:.55}
.note{font-size:14px;color:#444}.flash{padding:8px;margin:8px 0;border:1px solid #888;background:#fff}
.flash.ok{border-color:#1b7f3b}.flash.bad{border-color:#c62828}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border-bottom:1px solid #ddd;padding:4px;text-align:left;font-size:14px}
@media (max-width:600px){dt{float:none;width:auto}dd{margin:0 0 6px 0}}
`;

const SYMBOL: Record<Level, string> = { green: '✔', amber: '!', red: '✖', grey: '?' };

const EVENT_TEXT: Record<EventView['kind'], (e: EventView) => Text> = {
  'backup.completed': (e) => both('page_ev_backup_completed', { source: e.subject }),
  'backup.failed': (e) => both('page_ev_backup_failed', { source: e.subject, error: e.detail ?? '' }),
  'usb.copied': (e) => t(`Cópia para o disco "${e.subject}"${e.detail ? ` com problema: ${e.detail}` : ''}`, `Copy to disk "${e.subject}"${e.detail ? ` with a problem: ${e.detail}` : ''}`),
};

const WORDS = {
  when: both('page_when'),
  what: both('page_what'),
  kind: both('page_kind'),
  start: both('page_start'),
  duration: both('page_duration'),
  unlock: both('page_unlock'),
  lock: both('page_lock'),
  noBlank: both('page_no_blank_disk'),
};

function verifyText(v: VerifyOutcome): Text {
  if (v.running) return both('page_verify_running');
  if (v.error) return both('page_verify_failed', { error: v.error });
  return both('page_verify_last', { n: v.problems ?? 0 });
}

export function renderPage(v: PageView): string {
  const { lang, doc, now } = v;
  const overall = doc.glance?.overall ?? 'grey';
  return views.render('page', {
    lang,
    L: (x: Text) => pick(x, lang),
    UI,
    css: CSS,
    symbol: SYMBOL,
    words: WORDS,
    overall,
    other: lang === 'pt' ? 'en' : 'pt',
    // The name people know the clinic by; the id only when no name is configured.
    site: v.siteName ?? doc.site,
    cards: doc.glance?.cards ?? [],
    noData: both('page_no_data'),
    actions: v.actions,
    verifyText: v.actions.verify ? verifyText(v.actions.verify) : null,
    simple: [['backup', UI.backupNow], ['verify', UI.verify], ['send-status', UI.sendStatus]],
    events: doc.events.map((e) => ({ at: ago(e.at, now), text: EVENT_TEXT[e.kind](e) })),
    outages: doc.outages.map((o: OutageView) => ({
      what: o.kind === 'power' ? UI.power : UI.wan,
      start: ago(o.start, now),
      duration: o.durationSec === null ? UI.ongoing : span(o.durationSec * 1000),
      extra: o.shutdown ? both('page_server_shut_down') : t('', ''),
    })),
    updated: ago(new Date(now).toISOString(), now),
    refreshSeconds: v.refreshSeconds,
  });
}

export function renderMessage(lang: Lang, title: Text, body: Text): string {
  return views.render('message', { lang, css: CSS, title: pick(title, lang), body: pick(body, lang), back: pick(UI.back, lang) });
}
