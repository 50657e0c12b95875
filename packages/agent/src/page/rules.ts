/**
 * The page's judgement, in one pure place: from the live status to a colour per area and the one
 * sentence that says what to do. No I/O and no clock of its own (`now` is an input), so every rule
 * is unit-tested (rules.test.ts) and the page, the JSON API and `status --json` agree.
 */
import type { StatusBackups, StatusMessage, StatusNetwork, StatusPower } from '@sentinela/shared';
import { ago, clock, span, t, type Text } from './i18n.js';

export type Level = 'green' | 'amber' | 'red' | 'grey';
export type CardId = 'backups' | 'power' | 'network' | 'server';

export interface Fact {
  label: Text;
  value: Text;
  level?: Level;
}
export interface Card {
  id: CardId;
  level: Level;
  title: Text;
  facts: Fact[];
  /** One plain sentence of what to do; null when green (or nothing a technician can do). */
  todo: Text | null;
}
export interface Glance {
  overall: Level;
  cards: Card[];
}

/** What the running agent knows right now (its modules' status sections, host health, services). */
export interface LiveStatus {
  sampledAt: string;
  host: StatusMessage['host'];
  services: StatusMessage['services'];
  power?: StatusPower;
  network?: StatusNetwork;
  backups?: StatusBackups;
  /** The MQTT link to the hub is up (null: no link in this process). */
  hubConnected: boolean | null;
}

export interface GlanceInput {
  now: number;
  live: LiveStatus;
  /** backup.usb.rotationDays, or null when there is no backup or usb section. */
  usbRotationDays: number | null;
  backupConfigured: boolean;
  offsiteConfigured: boolean;
  /** The agent's data folder: its filesystem is "the server's disk". */
  dataDir: string;
  outboxPending: number;
  /** The last restore drill (drills/last.json): when it finished, and its failing copies. */
  lastDrill?: { at: string; failed: string[] } | null;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** RPO is one hour: twice that without a good backup is a warning, a day is a problem. */
const LOCAL_AMBER_MS = 2 * HOUR;
const LOCAL_RED_MS = DAY;
const OFFSITE_AMBER_MS = 3 * DAY;
const DISK_AMBER_PCT = 85;
const DISK_RED_PCT = 95;
const MEM_AMBER_PCT = 95;

const RANK: Record<Level, number> = { green: 0, grey: 1, amber: 2, red: 3 };
export const worst = (levels: Level[]): Level => levels.reduce<Level>((a, b) => (RANK[b] > RANK[a] ? b : a), 'green');

/** A card's level and sentence come from its most severe finding; ties keep the first (most important) one. */
interface Finding {
  level: Level;
  todo: Text | null;
}
function card(id: CardId, title: Text, facts: Fact[], findings: Finding[]): Card {
  let top: Finding = { level: 'green', todo: null };
  for (const f of findings) if (RANK[f.level] > RANK[top.level]) top = f;
  return { id, title, facts, level: top.level, todo: top.level === 'green' ? null : top.todo };
}

const age = (ts: string | null | undefined, now: number): number => (ts ? now - Date.parse(ts) : Infinity);
const newest = (xs: Array<string | null | undefined>): string | null => xs.filter((x): x is string => !!x).sort().pop() ?? null;
const oldest = (xs: Array<string | null>): string | null => (xs.some((x) => x === null) ? null : xs.filter((x): x is string => !!x).sort()[0] ?? null);

export function backupsCard(i: GlanceInput): Card {
  const title = t('Cópias de segurança', 'Backups');
  const b = i.live.backups;
  if (!i.backupConfigured || !b)
    return card('backups', title, [{ label: t('Cópias', 'Backups'), value: t('não configuradas', 'not configured') }], [
      { level: 'amber', todo: t('Peça ao suporte para configurar as cópias deste servidor.', 'Ask support to configure backups on this server.') },
    ]);
  const { now } = i;
  const findings: Finding[] = [];
  const facts: Fact[] = [];

  // Local: the oldest "newest good backup" among the sources decides (every database counts).
  const lastLocal = oldest(b.sources.map((s) => s.lastLocal?.at ?? null));
  const running = b.sources.filter((s) => s.running).map((s) => s.name);
  const failed = b.sources.find((s) => s.lastFailure);
  const localAge = age(lastLocal, now);
  facts.push({ label: t('Última cópia local', 'Last local backup'), value: running.length ? t(`${ago(lastLocal, now).pt} — cópia em curso`, `${ago(lastLocal, now).en} — backup running`) : ago(lastLocal, now) });
  if (failed)
    findings.push({
      level: localAge > LOCAL_RED_MS ? 'red' : 'amber',
      todo: t(`A última cópia de ${failed.name} falhou: carregue em "Fazer cópia agora"; se falhar de novo, chame o suporte.`, `The last backup of ${failed.name} failed: press "Back up now"; if it fails again, call support.`),
    });
  if (localAge > LOCAL_AMBER_MS && !(running.length && localAge === Infinity))
    findings.push({
      level: localAge > LOCAL_RED_MS ? 'red' : 'amber',
      todo: t('Não há cópia local recente: carregue em "Fazer cópia agora".', 'No recent local backup: press "Back up now".'),
    });

  // USB: the disk rotation is what a technician does by hand, so it gets the plainest sentence.
  if (i.usbRotationDays !== null) {
    const lastUsb = oldest(b.sources.map((s) => s.lastUsb?.at ?? null));
    const attached = b.disks.filter((d) => d.attached);
    facts.push({
      label: t('Última cópia em disco USB', 'Last USB disk copy'),
      value: b.usbCopying ? t(`${ago(lastUsb, now).pt} — a copiar agora`, `${ago(lastUsb, now).en} — copying now`) : ago(lastUsb, now),
    });
    facts.push({
      label: t('Disco USB', 'USB disk'),
      value: attached.length
        ? t(`ligado: ${attached.map((d) => d.label).join(', ')}`, `plugged in: ${attached.map((d) => d.label).join(', ')}`)
        : b.disks.length
          ? t(`nenhum ligado (último: ${ago(b.usbLastAttachedAt, now).pt})`, `none plugged in (last: ${ago(b.usbLastAttachedAt, now).en})`)
          : t('nenhum disco preparado', 'no disk prepared yet'),
    });
    const rotationMs = i.usbRotationDays * DAY;
    if (b.disks.length === 0)
      findings.push({ level: 'red', todo: t('Ligue um disco USB de backup e carregue em "Inicializar disco".', 'Plug in a backup USB disk and press "Initialize disk".') });
    else if (!attached.length && age(newest([b.usbLastAttachedAt, lastUsb]), now) > rotationMs)
      findings.push({ level: 'amber', todo: t('Ligue o disco USB de backup.', 'Plug in the backup USB disk.') });
    else if (attached.length && !b.usbCopying && age(lastUsb, now) > rotationMs)
      findings.push({ level: 'amber', todo: t('O disco USB ligado não recebeu cópias: carregue em "Fazer cópia agora" ou troque de disco.', 'The plugged-in USB disk has no recent copy: press "Back up now" or use another disk.') });
  }

  if (i.offsiteConfigured) {
    const lastOff = oldest(b.sources.map((s) => s.lastOffsite?.at ?? null));
    facts.push({ label: t('Última cópia fora do local (hub)', 'Last off-site copy (hub)'), value: ago(lastOff, now) });
    if (age(lastOff, now) > OFFSITE_AMBER_MS)
      findings.push({ level: 'amber', todo: t('A cópia no hub está atrasada: verifique a ligação à rede WAN (GovNet).', 'The off-site copy is late: check the WAN (GovNet) connection.') });
  } else facts.push({ label: t('Cópia fora do local (hub)', 'Off-site copy (hub)'), value: t('não configurada', 'not configured') });

  const d = i.lastDrill;
  if (d === undefined || d === null) facts.push({ label: t('Último teste de reposição', 'Last restore drill'), value: t('nunca', 'never') });
  else {
    const when = ago(d.at, now);
    facts.push({
      label: t('Último teste de reposição', 'Last restore drill'),
      value: d.failed.length ? t(`FALHOU ${when.pt}: ${d.failed.join('; ')}`, `FAILED ${when.en}: ${d.failed.join('; ')}`) : t(`passou ${when.pt}`, `passed ${when.en}`),
    });
    if (d.failed.length)
      findings.push({ level: 'red', todo: t(`Uma cópia não se restaurou no teste (${d.failed.join('; ')}): avise a equipa central.`, `A copy did not restore in the drill (${d.failed.join('; ')}): tell the central team.`) });
  }

  return card('backups', title, facts, findings);
}

export function powerCard(i: GlanceInput): Card {
  const title = t('Energia', 'Power');
  const p = i.live.power;
  if (!p || p.watch === 'off')
    return { id: 'power', title, level: 'grey', facts: [{ label: t('UPS', 'UPS'), value: t('não vigiada (sem UPS configurada)', 'not watched (no UPS configured)') }], todo: null };
  const { now } = i;
  const facts: Fact[] = [];
  const stateText: Record<StatusPower['state'], Text> = {
    mains: t('rede elétrica', 'mains power'),
    battery: t('na bateria', 'on battery'),
    'low-battery': t('bateria fraca', 'low battery'),
    'lost-contact': t('sem contacto com a UPS', 'no contact with the UPS'),
    'shutting-down': t('a desligar o servidor', 'shutting the server down'),
    'shut-down': t('servidor desligado', 'server shut down'),
    unknown: t('a verificar…', 'checking…'),
  };
  facts.push({ label: t('Estado da UPS', 'UPS state'), value: stateText[p.state] });
  if (p.charge !== null) facts.push({ label: t('Carga', 'Charge'), value: t(`${Math.round(p.charge)} %`, `${Math.round(p.charge)} %`) });
  if (p.runtimeSec !== null) {
    const m = Math.floor(p.runtimeSec / 60);
    facts.push({ label: t('Autonomia', 'Time left'), value: t(`${m} min`, `${m} min`) });
  }
  if (p.onBatterySince) facts.push({ label: t('Na bateria desde', 'On battery since'), value: ago(p.onBatterySince, now) });
  else if (p.lastOutage?.end) facts.push({ label: t('Último corte', 'Last outage'), value: t(`${ago(p.lastOutage.start, now).pt}, durou ${span((p.lastOutage.durationSec ?? 0) * 1000).pt}`, `${ago(p.lastOutage.start, now).en}, lasted ${span((p.lastOutage.durationSec ?? 0) * 1000).en}`) });

  const findings: Finding[] = [];
  const due = p.shutdownDueAt ? clock(p.shutdownDueAt, now) : null;
  switch (p.state) {
    case 'battery':
      findings.push({
        level: 'amber',
        todo: due
          ? t(`Sem energia da rede: a UPS está na bateria. Desligue o que não for essencial; o servidor desliga-se às ${due.pt} se a energia não voltar.`, `Mains power is off: the UPS is on battery. Switch off what is not essential; the server shuts down at ${due.en} if power does not return.`)
          : t('Sem energia da rede: a UPS está na bateria. Desligue o que não for essencial.', 'Mains power is off: the UPS is on battery. Switch off what is not essential.'),
      });
      break;
    case 'low-battery':
    case 'shutting-down':
    case 'shut-down':
      findings.push({ level: 'red', todo: t('Bateria quase vazia: o servidor vai desligar-se. Guarde o seu trabalho.', 'Battery almost empty: the server is shutting down. Save your work.') });
      break;
    case 'lost-contact':
      findings.push(
        p.lastSeenAt === null
          ? { level: 'red', todo: t('O agente nunca conseguiu ler a UPS: o estado da energia é desconhecido e o servidor não está protegido. Corra sentinela-agent doctor (power.source, utilizador do upsd).', 'The agent has never read the UPS: the power state is unknown and the server is not protected. Run sentinela-agent doctor (power.source, the upsd user).') }
          : { level: 'amber', todo: t('Sem contacto com a UPS: verifique o cabo entre a UPS e o servidor.', 'No contact with the UPS: check the cable between the UPS and the server.') },
      );
      break;
    case 'unknown':
      findings.push({ level: 'grey', todo: null });
      break;
    case 'mains':
      break;
  }
  if (p.login === 'failed') {
    findings.push({ level: 'amber', todo: t('O upsd recusa o login do agente (palavra-passe ou direitos "upsmon" em upsd.users): a UPS é lida, mas o aviso aos outros servidores (FSD) e o corte das tomadas não funcionam. Corra sentinela-agent doctor.', 'upsd refuses the agent\'s login (password or "upsmon" rights in upsd.users): the UPS is read, but telling the other servers (FSD) and cutting the outlets do not work. Run sentinela-agent doctor.') });
  }
  return card('power', title, facts, findings);
}

export function networkCard(i: GlanceInput): Card {
  const title = t('Rede', 'Network');
  const n = i.live.network;
  const { now } = i;
  const facts: Fact[] = [];
  const findings: Finding[] = [];
  const waiting = i.outboxPending === 1 ? t('1 mensagem à espera de envio', '1 message waiting to be sent') : t(`${i.outboxPending} mensagens à espera de envio`, `${i.outboxPending} messages waiting to be sent`);
  if (!n) {
    // No probes configured: the agent's own link to the hub is the only evidence.
    const up = i.live.hubConnected;
    facts.push({ label: t('Hub', 'Hub'), value: up ? t('ligado', 'connected') : up === false ? t('sem ligação', 'not connected') : t('desconhecido', 'unknown') });
    facts.push({ label: t('Fila', 'Queue'), value: waiting });
    if (up === false) findings.push({ level: 'amber', todo: t('Sem ligação ao hub: verifique o router e a ligação GovNet. Os dados ficam guardados e seguem depois.', 'No connection to the hub: check the router and the GovNet link. Data is kept and sent later.') });
    if (up === null) findings.push({ level: 'grey', todo: null });
    return card('network', title, facts, findings);
  }
  facts.push({ label: t('Rede local (LAN)', 'Local network (LAN)'), value: n.lan === null ? t('não verificada', 'not checked') : n.lan.up ? t('OK', 'OK') : n.lan.up === false ? t('falha', 'failing') : t('a verificar…', 'checking…') });
  const since = n.wan.since ? ago(n.wan.since, now) : null;
  facts.push({
    label: t('WAN / hub', 'WAN / hub'),
    value: n.wan.up === true ? t(`ligada${since ? ` desde ${since.pt}` : ''}`, `up${since ? ` since ${since.en}` : ''}`)
      : n.wan.up === false ? t(`em baixo${since ? ` desde ${since.pt}` : ''}`, `down${since ? ` since ${since.en}` : ''}`)
      : t('a verificar…', 'checking…'),
  });
  facts.push({ label: t('Fila', 'Queue'), value: waiting });
  if (n.verdict === 'lan-down')
    findings.push({ level: 'red', todo: t('A rede local falha: verifique o cabo de rede do servidor e o switch.', 'The local network is failing: check the server\'s network cable and the switch.') });
  else if (n.verdict === 'wan-down') {
    // The probe fails a round or two before the WAN is declared down; until then wan.since is the up time.
    const downSince = n.wan.up === false && n.wan.since ? clock(n.wan.since, now) : null;
    findings.push({
      level: 'amber',
      todo: t(`Sem ligação ao hub${downSince ? ` desde ${downSince.pt}` : ''}: verifique o router e a ligação GovNet. Os dados ficam guardados e seguem depois.`, `No connection to the hub${downSince ? ` since ${downSince.en}` : ''}: check the router and the GovNet link. Data is kept and sent later.`),
    });
  } else if (n.verdict === 'unknown') findings.push({ level: 'grey', todo: null });
  return card('network', title, facts, findings);
}

/** The filesystem that holds `dir`: the longest mount point that is a prefix of it. */
function filesystemOf(fss: StatusMessage['host']['filesystems'], dir: string): StatusMessage['host']['filesystems'][number] | null {
  let best: StatusMessage['host']['filesystems'][number] | null = null;
  for (const f of fss) {
    const m = f.mount.endsWith('/') ? f.mount : f.mount + '/';
    if ((dir + '/').startsWith(m) && (!best || f.mount.length > best.mount.length)) best = f;
  }
  return best;
}

export function serverCard(i: GlanceInput): Card {
  const title = t('Servidor', 'Server');
  const { host, services } = i.live;
  const facts: Fact[] = [];
  const findings: Finding[] = [];
  const fs = filesystemOf(host.filesystems, i.dataDir);
  if (fs) {
    const pct = Math.round(fs.usePct);
    facts.push({ label: t('Disco', 'Disk'), value: t(`${pct} % usado (${fs.mount})`, `${pct} % used (${fs.mount})`) });
    if (pct >= DISK_AMBER_PCT)
      findings.push({ level: pct >= DISK_RED_PCT ? 'red' : 'amber', todo: t('O disco do servidor está quase cheio: chame o suporte.', 'The server\'s disk is almost full: call support.') });
  }
  const mem = host.memory.totalBytes > 0 ? Math.round((host.memory.usedBytes / host.memory.totalBytes) * 100) : null;
  if (mem !== null) {
    facts.push({ label: t('Memória', 'Memory'), value: t(`${mem} % usada`, `${mem} % used`) });
    if (mem >= MEM_AMBER_PCT) findings.push({ level: 'amber', todo: t('A memória do servidor está esgotada: reinicie o servidor fora do horário de consultas.', 'The server is out of memory: restart it outside clinic hours.') });
  }
  if (services.length === 0) facts.push({ label: t('Base de dados', 'Database'), value: t('não verificada', 'not checked') });
  for (const s of services) facts.push({ label: t(s.name, s.name), value: s.up ? t('a funcionar', 'up') : t('não responde', 'not answering'), level: s.up ? 'green' : 'red' });
  const down = services.filter((s) => !s.up);
  if (down.length)
    findings.push({ level: 'red', todo: t(`${down.map((s) => s.name).join(', ')} não responde: reinicie o serviço (ou o servidor) e chame o suporte se continuar.`, `${down.map((s) => s.name).join(', ')} is not answering: restart the service (or the server) and call support if it persists.`) });
  return card('server', title, facts, findings);
}

export function glance(i: GlanceInput): Glance {
  const cards = [backupsCard(i), powerCard(i), networkCard(i), serverCard(i)];
  // Grey (not watched, still checking) never hides green: the headline is grey only when nothing is known.
  const known = cards.map((c) => c.level).filter((l) => l !== 'grey');
  return { overall: known.length ? worst(known) : 'grey', cards };
}
