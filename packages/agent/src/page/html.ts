/**
 * The page as one server-rendered HTML document: inline CSS, no framework, no external asset. Forms
 * post without JavaScript; a few lines of script only refresh the page (a <noscript> meta refresh
 * does it on browsers without scripts). Every word comes in both languages.
 */
import type { StatusDocument } from './document.js';
import type { Card, Level } from './rules.js';
import type { ActionResult, DiskChoice, VerifyOutcome } from './actions.js';
import type { EventView, OutageView } from './history.js';
import { ago, pick, span, t, UI, type Lang, type Text } from './i18n.js';

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

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

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

function cardHtml(c: Card, lang: Lang): string {
  const facts = c.facts.map((f) => `<dt>${esc(pick(f.label, lang))}</dt><dd>${esc(pick(f.value, lang))}</dd>`).join('');
  const todo = c.todo ? `<div class="todo"><strong>${esc(pick(UI.todo, lang))}:</strong> <span class="todo-text">${esc(pick(c.todo, lang))}</span></div>` : '';
  return `<section class="card level-${c.level}" id="card-${c.id}" data-level="${c.level}">
<h2>${esc(pick(c.title, lang))} <span class="badge bg-${c.level}">${SYMBOL[c.level]} ${esc(pick(UI.level[c.level], lang))}</span></h2>
<dl>${facts}</dl>${todo}</section>`;
}

const EVENT_TEXT: Record<EventView['kind'], (e: EventView) => Text> = {
  'backup.completed': (e) => t(`Cópia de ${e.subject} concluída`, `Backup of ${e.subject} complete`),
  'backup.failed': (e) => t(`Cópia de ${e.subject} falhou: ${e.detail ?? ''}`, `Backup of ${e.subject} failed: ${e.detail ?? ''}`),
  'usb.copied': (e) => t(`Cópia para o disco "${e.subject}"${e.detail ? ` com problema: ${e.detail}` : ''}`, `Copy to disk "${e.subject}"${e.detail ? ` with a problem: ${e.detail}` : ''}`),
};

function outageRow(o: OutageView, now: number, lang: Lang): string {
  const what = o.kind === 'power' ? UI.power : UI.wan;
  const dur = o.durationSec === null ? UI.ongoing : span(o.durationSec * 1000);
  const extra = o.shutdown ? t(' — servidor desligado', ' — server shut down') : t('', '');
  return `<tr><td>${esc(pick(what, lang))}</td><td>${esc(pick(ago(o.start, now), lang))}</td><td>${esc(pick(dur, lang))}${esc(pick(extra, lang))}</td></tr>`;
}

function actionsHtml(v: PageView): string {
  const { lang, actions: a } = v;
  const L = (x: Text) => esc(pick(x, lang));
  const open = a.state === 'open';
  const dis = open ? '' : ' disabled';
  const csrf = `<input type="hidden" name="csrf" value="${esc(a.csrf)}">`;
  const flash = a.flash ? `<div class="flash ${a.flash.ok ? 'ok' : 'bad'}" id="flash">${L(a.flash.message)}</div>` : '';
  const verify = a.verify
    ? `<p class="note" id="verify-state">${a.verify.running ? L(t('Verificação em curso…', 'Verification running…')) : a.verify.error ? L(t(`Verificação falhou: ${a.verify.error}`, `Verification failed: ${a.verify.error}`)) : L(t(`Última verificação: ${a.verify.problems} problemas`, `Last verification: ${a.verify.problems} problems`))}</p>`
    : '';
  let gate: string;
  if (a.state === 'none') gate = `<p class="note" id="no-pin">${L(UI.noPin)}</p>`;
  else if (a.state === 'locked')
    gate = `<form method="post" action="/unlock" id="unlock-form">${csrf}<label for="pin">${L(UI.pin)}</label> <input type="password" inputmode="numeric" autocomplete="off" name="pin" id="pin" size="8"> <button type="submit" id="unlock">${L(t('Desbloquear ações', 'Unlock actions'))}</button></form><p class="note">${L(UI.pinHint)}</p>`;
  else gate = `<form method="post" action="/lock">${csrf}<button type="submit" id="lock">${L(t('Bloquear ações', 'Lock actions'))}</button></form>`;
  const simple = (name: string, label: Text) => `<form method="post" action="/actions/${name}">${csrf}<button type="submit" id="action-${name}"${dis}>${L(label)}</button></form>`;
  const options = (list: DiskChoice[]) => list.map((d) => `<option value="${esc(d.path)}">${esc(d.label ? `${d.label} (${d.path})` : d.path)}</option>`).join('');
  const init = a.disks.blank.length
    ? `<form method="post" action="/actions/disk-init">${csrf}<select name="path"${dis}>${options(a.disks.blank)}</select> <label>${L(UI.diskLabel)} <input name="label" size="12"${dis}></label> <button type="submit" id="action-disk-init"${dis}>${L(UI.initDisk)}</button></form>`
    : `<p class="note">${L(t('Nenhum disco novo ligado para inicializar.', 'No new disk plugged in to initialize.'))}</p>`;
  const eject = a.disks.attached.length
    ? `<form method="post" action="/actions/disk-eject">${csrf}<select name="path"${dis}>${options(a.disks.attached)}</select> <button type="submit" id="action-disk-eject"${dis}>${L(UI.ejectDisk)}</button></form>`
    : '';
  return `<section id="actions"><h2>${L(UI.actions)}</h2>${flash}${gate}
<fieldset id="action-forms" data-state="${a.state}"${dis}>${simple('backup', UI.backupNow)}${simple('verify', UI.verify)}${simple('send-status', UI.sendStatus)}${init}${eject}${verify}</fieldset></section>`;
}

export function renderPage(v: PageView): string {
  const { lang, doc, now } = v;
  const L = (x: Text) => esc(pick(x, lang));
  const g = doc.glance;
  const overall = g?.overall ?? 'grey';
  const other: Lang = lang === 'pt' ? 'en' : 'pt';
  const cards = g ? g.cards.map((c) => cardHtml(c, lang)).join('\n') : `<p>${L(t('O agente ainda não tem dados.', 'The agent has no data yet.'))}</p>`;
  const outages = doc.outages.length
    ? `<table id="outages"><tr><th>${L(t('Tipo', 'Kind'))}</th><th>${L(t('Início', 'Start'))}</th><th>${L(t('Duração', 'Duration'))}</th></tr>${doc.outages.map((o) => outageRow(o, now, lang)).join('')}</table>`
    : `<p id="outages">${L(UI.noOutages)}</p>`;
  const events = doc.events.length
    ? `<table id="events">${doc.events.map((e) => `<tr><td>${L(ago(e.at, now))}</td><td>${esc(pick(EVENT_TEXT[e.kind](e), lang))}</td></tr>`).join('')}</table>`
    : `<p id="events">${L(UI.noEvents)}</p>`;
  // The name people know the clinic by; the id only when no name is configured.
  const site = v.siteName ?? doc.site;
  return `<!DOCTYPE html>
<html lang="${lang === 'pt' ? 'pt' : 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${L(UI.title)}${site ? ` — ${esc(site)}` : ''}</title>
<noscript><meta http-equiv="refresh" content="${v.refreshSeconds}"></noscript>
<style>${CSS}</style></head>
<body data-overall="${overall}" data-lang="${lang}">
<header><div class="wrap"><h1>${L(UI.title)}${site ? ` — ${L(UI.site)} ${esc(site)}` : ''}</h1>
<a href="/?lang=${other}" id="lang-switch">${L(UI.other)}</a> · <a href="/" id="refresh">${L(UI.refresh)}</a></div></header>
<div class="wrap">
<div class="overall bg-${overall}" id="overall">${SYMBOL[overall]} ${L(UI.overall[overall])}</div>
${cards}
${actionsHtml(v)}
<h2>${L(UI.events)}</h2>${events}
<h2>${L(UI.outages)}</h2>${outages}
<p class="note">${L(UI.updated)}: ${L(ago(new Date(now).toISOString(), now))} · <a href="/api/status">JSON</a></p>
</div>
<script>
// Refresh unless someone is typing (the PIN, a disk name). ES3 on purpose: old browsers.
setTimeout(function () { var a = document.activeElement; if (!a || (a.tagName !== 'INPUT' && a.tagName !== 'SELECT')) location.replace('/'); else setTimeout(arguments.callee, 5000); }, ${v.refreshSeconds * 1000});
</script>
</body></html>`;
}

export function renderMessage(lang: Lang, title: Text, body: Text): string {
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(pick(title, lang))}</title><style>${CSS}</style></head>
<body><div class="wrap"><h1 id="message-title">${esc(pick(title, lang))}</h1><p id="message">${esc(pick(body, lang))}</p><p><a href="/" id="back">${esc(pick(UI.back, lang))}</a></p></div></body></html>`;
}
