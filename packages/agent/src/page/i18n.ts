/** The page's two languages: fixed words, and times said the way people read them ("há 3 h", "3 h ago"). */
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

/** Fixed words of the page around the status cards. */
export const UI = {
  title: t('Estado do servidor', 'Server status'),
  overall: {
    green: t('Tudo bem', 'All good'),
    amber: t('Atenção', 'Attention'),
    red: t('Ação urgente', 'Urgent action'),
    grey: t('Sem dados', 'No data'),
  },
  level: { green: t('OK', 'OK'), amber: t('Atenção', 'Warning'), red: t('Problema', 'Problem'), grey: t('Desconhecido', 'Unknown') },
  todo: t('O que fazer', 'What to do'),
  updated: t('Atualizado', 'Updated'),
  refresh: t('Atualizar', 'Refresh'),
  actions: t('Ações', 'Actions'),
  pin: t('PIN', 'PIN'),
  pinHint: t('As ações pedem o PIN local (definido com "sentinela-agent page set-pin").', 'Actions need the local PIN (set with "sentinela-agent page set-pin").'),
  noPin: t('Ainda não há PIN: as ações estão desativadas. Defina-o com "sentinela-agent page set-pin".', 'No PIN set yet: actions are disabled. Set one with "sentinela-agent page set-pin".'),
  backupNow: t('Fazer cópia agora', 'Back up now'),
  verify: t('Verificar cópias', 'Verify backups'),
  sendStatus: t('Enviar estado agora', 'Send status now'),
  initDisk: t('Inicializar disco', 'Initialize disk'),
  ejectDisk: t('Ejetar disco', 'Eject disk'),
  diskLabel: t('Nome do disco', 'Disk name'),
  events: t('Eventos recentes', 'Recent events'),
  outages: t('Cortes recentes', 'Recent outages'),
  noEvents: t('Nenhum evento.', 'No events.'),
  noOutages: t('Nenhum corte registado.', 'No outage recorded.'),
  power: t('Energia', 'Power'),
  wan: t('WAN', 'WAN'),
  ongoing: t('em curso', 'ongoing'),
  site: t('Unidade', 'Site'),
  other: t('English', 'Português'),
  back: t('Voltar', 'Back'),
} as const;

export function pick(text: Text, lang: Lang): string {
  return text[lang];
}
