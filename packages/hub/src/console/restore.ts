/**
 * The restore instructions, written for the person at the replacement server: plain steps, in
 * order, for each copy they may have (USB disk, secondary server, the hub's off-site copy). Every
 * command is built by agentCommand from the agent's own option definitions, so the page cannot show
 * an option the agent does not take. When a site is given, its own facts are filled in (its
 * sources, the newest copy in each place, what the hub holds off-site).
 */
import { AGENT_CONFIG_PATH, agentCommand } from '@sentinela/shared';
import { escapeHtml } from '../http/escape-html.js';
import type { BackupSummary } from '../core/sections.js';
import { formatTime, type Lang } from './i18n.js';

export interface RestoreSite {
  id: string;
  name: string | null;
  backups: BackupSummary | null;
  /** The complete off-site copies the hub holds of this site, oldest first. */
  offsite: Array<{ id: string; receivedAt: string; verifiedAt: string | null; damaged?: string | null }>;
}

/** What a person types in place of each placeholder; the restore-guide test fills them the same way. */
export const RESTORE_PLACEHOLDERS = {
  code: { pt: '<CÓDIGO-DE-RECUPERAÇÃO>', en: '<RECOVERY-CODE>' },
  mirror: { pt: '<PASTA-DO-ESPELHO>', en: '<MIRROR-FOLDER>' },
  database: { pt: '<BASE-DE-DADOS>', en: '<DATABASE>' },
  folder: { pt: '<PASTA-DE-RESTAURO>', en: '<RESTORE-FOLDER>' },
  hub: { pt: '<ENDEREÇO-DO-HUB>', en: '<HUB-ADDRESS>' },
  token: { pt: '<TOKEN>', en: '<TOKEN>' },
} as const;

/** The playbook a command belongs to; the page marks each command with it (data-playbook). */
export type Playbook = 'usb' | 'peer' | 'hub';

export const HUB_CONFIG_PATH = '/etc/sentinela/hub.yaml';

interface GuideSource {
  name: string;
  kind: string | null;
}

type RestoreOpt = readonly ['to-database' | 'to-dir' | 'to-file' | 'source' | 'latest', string | true];

/** The target options for a source: a new database for the database kinds, a folder or a file otherwise. */
function target(lang: Lang, s: GuideSource, database: string): RestoreOpt[] {
  const folder = RESTORE_PLACEHOLDERS.folder[lang];
  if (s.kind === 'mariadb' || s.kind === 'postgres') return [['to-database', database]];
  if (s.kind === 'files') return [['to-dir', `${folder}/${s.name}`]];
  return [['to-file', `${folder}/${s.name}${s.kind === 'sqlite' ? '.db' : '.dump'}`]];
}

/** Every command of the guide, per playbook, in the order the page shows them. */
export function restoreCommands(lang: Lang, siteId: string, sources: GuideSource[]): Record<Playbook, string[]> {
  const P = RESTORE_PLACEHOLDERS;
  const cfg = ['config', AGENT_CONFIG_PATH] as const;
  const latest = (s: GuideSource): RestoreOpt[] => [['source', s.name], ['latest', true]];
  const bare = [
    ['from', P.mirror[lang]],
    ['recovery-code', P.code[lang]],
  ] as const;
  return {
    usb: [
      agentCommand('snapshots', [cfg, ['from', 'usb']]),
      agentCommand('verify', [cfg, ['from', 'usb'], ['read-data', true]]),
      ...sources.map((s) => agentCommand('restore', [cfg, ['from', 'usb'], ...latest(s), ...target(lang, s, `${s.name.replace(/-/g, '_')}_restored`)])),
    ],
    peer: [
      agentCommand('snapshots', bare),
      agentCommand('verify', [...bare, ['read-data', true]]),
      ...sources.map((s) => agentCommand('restore', [...bare, ...latest(s), ...target(lang, s, P.database[lang])])),
    ],
    hub: [
      `sentinela-hub sites token --config ${HUB_CONFIG_PATH} --id ${siteId}`,
      agentCommand('enroll', [cfg, ['hub', P.hub[lang]], ['token', P.token[lang]]]),
      ...sources.map((s) => agentCommand('restore', [cfg, ['from', 'hub'], ...latest(s), ['recovery-code', P.code[lang]], ...target(lang, s, P.database[lang])])),
    ],
  };
}

const code = (s: string, playbook: Playbook) => `<pre class="cmd" data-playbook="${playbook}"><code>${escapeHtml(s)}</code></pre>`;

function facts(lang: Lang, site: RestoreSite | null): string {
  if (!site) return '';
  const pt = lang === 'pt';
  const b = site.backups;
  const rows = b
    ? b.sources
        .map(
          (s) =>
            `<tr><td>${escapeHtml(s.name)}</td><td>${s.lastLocal ? escapeHtml(`${formatTime(s.lastLocal.at, lang)} (${s.lastLocal.snapshotId ?? '?'})`) : '—'}</td><td>${s.lastUsb ? escapeHtml(`${formatTime(s.lastUsb.at, lang)} (${s.lastUsb.label ?? 'USB'})`) : '—'}</td><td>${s.lastPeer ? escapeHtml(formatTime(s.lastPeer, lang)) : '—'}</td><td>${escapeHtml(formatTime(newestOffsite(site, s.name)?.receivedAt, lang))}</td></tr>`,
        )
        .join('')
    : '';
  return `<section class="card"><h2>${pt ? 'Esta unidade' : 'This site'}: <code>${escapeHtml(site.id)}</code> ${escapeHtml(site.name ?? '')}</h2>
${
  rows
    ? `<table><thead><tr><th>${pt ? 'Origem' : 'Source'}</th><th>${pt ? 'Última cópia no servidor' : 'Last copy on the server'}</th><th>${pt ? 'Última cópia em USB' : 'Last copy on USB'}</th><th>${pt ? 'Servidor secundário' : 'Secondary server'}</th><th>${pt ? 'Cópia externa no hub' : 'Off-site copy at the hub'}</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>${pt ? 'O agente desta unidade ainda não reportou cópias de segurança.' : "This site's agent has not reported any backups yet."}</p>`
}
<p>${pt ? 'Use a cópia mais recente que tiver à mão. Em caso de dúvida, ligue para a DPS antes de começar.' : 'Use the newest copy you have at hand. If in doubt, call the DPS before you start.'}</p></section>`;
}

/** The newest whole, undamaged off-site copy of `source` (snapshot ids carry the source name). */
function newestOffsite(site: RestoreSite, source: string): RestoreSite['offsite'][number] | undefined {
  return site.offsite.filter((o) => !o.damaged && new RegExp(`^\\d{8}T\\d{6}Z-${source}-[a-z0-9]+$`).test(o.id)).at(-1);
}

function offsiteNote(lang: Lang, site: RestoreSite | null, sources: GuideSource[]): string {
  const pt = lang === 'pt';
  if (!site) return `<p class="note">${pt ? 'A página de restauro de cada unidade diz que cópias externas este hub guarda dela.' : 'Each site’s restore page says which off-site copies this hub holds of it.'}</p>`;
  const held = sources.map((s) => [s.name, newestOffsite(site, s.name)] as const).filter(([, o]) => o);
  if (!held.length)
    return `<p class="note" id="offsite-none">${pt ? 'Este hub ainda não guarda nenhuma cópia externa desta unidade: use o disco USB ou o servidor secundário.' : 'This hub holds no off-site copy of this site yet: use the USB disk or the secondary server.'}</p>`;
  const items = held.map(([name, o]) => `<li><code>${escapeHtml(name)}</code>: ${escapeHtml(o!.id)} — ${pt ? 'recebida' : 'received'} ${escapeHtml(formatTime(o!.receivedAt, lang))}${o!.verifiedAt ? `, ${pt ? 'verificada' : 'verified'} ${escapeHtml(formatTime(o!.verifiedAt, lang))}` : ''}</li>`);
  return `<p id="offsite-held">${pt ? 'Este hub guarda cópias externas desta unidade; as mais recentes:' : 'This hub holds off-site copies of this site; the newest:'}</p><ul>${items.join('')}</ul>`;
}

export function restoreBody(lang: Lang, site: RestoreSite | null): string {
  const pt = lang === 'pt';
  const id = site?.id ?? 'hf-0001';
  const reported = site?.backups?.sources.map((s) => ({ name: s.name, kind: s.kind })) ?? [];
  const sources: GuideSource[] = reported.length ? reported : [{ name: 'openmrs', kind: 'mariadb' }];
  const cmds = restoreCommands(lang, id, sources);
  const P = RESTORE_PLACEHOLDERS;
  const each = (playbook: Playbook, from: number) => cmds[playbook].slice(from).map((c) => code(c, playbook)).join('');
  const admin = pt
    ? '<p class="note">Se o servidor de bases de dados recusar (acesso negado, ERROR 1044), acrescente <code>--user ADMIN --password-file FICHEIRO</code>: o utilizador das cópias só lê, o restauro precisa de um administrador. Sem estas opções usa-se o utilizador por omissão do cliente (root pelo socket local), nunca o das cópias.</p>'
    : '<p class="note">If the database server refuses (access denied, ERROR 1044), add <code>--user ADMIN --password-file FILE</code>: the backup user only reads, restore needs an admin. Without these options the client’s default user is used (root over the local socket), never the backup user.</p>';
  const placeholders = pt
    ? `<p>Nos comandos, substitua <code>${P.code.pt}</code> pelo código de recuperação (envelope selado da unidade, ou <code>sentinela-agent key export</code>), <code>${P.mirror.pt}</code> pela pasta do espelho no servidor secundário, <code>${P.database.pt}</code> pelo nome da base de dados do sistema clínico e <code>${P.folder.pt}</code> por uma pasta vazia.</p>`
    : `<p>In the commands, replace <code>${P.code.en}</code> with the recovery code (the facility's sealed envelope, or <code>sentinela-agent key export</code>), <code>${P.mirror.en}</code> with the mirror folder on the secondary server, <code>${P.database.en}</code> with the clinical system's database name and <code>${P.folder.en}</code> with an empty folder.</p>`;
  const title = pt ? 'Como restaurar um servidor' : 'How to restore a server';
  return `<h1>${title}${site ? ` — ${escapeHtml(site.id)}` : ''}</h1>
${facts(lang, site)}
<section class="card"><h2>${pt ? 'Antes de começar' : 'Before you start'}</h2><ol>
<li>${pt ? 'Tenha o servidor ligado à UPS e à rede da unidade, com o sistema e o agente Sentinela instalados (<code>sentinela-agent --version</code> responde).' : 'Have the server plugged into the UPS and the facility network, with the operating system and the Sentinela agent installed (<code>sentinela-agent --version</code> answers).'}</li>
<li>${pt ? 'Tenha consigo <strong>uma</strong> destas cópias: o disco USB da unidade, o servidor secundário, ou a cópia externa no hub.' : 'Have <strong>one</strong> of these copies: the facility’s USB backup disk, the secondary server, or the off-site copy at the hub.'}</li>
<li>${pt ? 'Tenha o código de recuperação das cópias. Sem ele (ou sem a chave no servidor) as cópias não podem ser lidas.' : 'Have the backups’ recovery code. Without it (or the key on the server) the copies cannot be read.'}</li>
<li>${pt ? 'Conte com menos de uma hora para uma base de dados de alguns GB. Não desligue o servidor durante o restauro.' : 'Allow less than an hour for a database of a few GB. Do not turn the server off while it restores.'}</li>
</ol>${placeholders}</section>
<section class="card" id="playbook-usb"><h2>${pt ? 'A. A partir do disco USB (base de dados corrompida)' : 'A. From the USB disk (corrupted database)'}</h2><ol>
<li>${pt ? 'Ligue o disco USB ao servidor.' : 'Plug the USB disk into the server.'}</li>
<li>${pt ? 'Veja as cópias que o disco tem:' : 'List the copies on the disk:'}${code(cmds.usb[0]!, 'usb')}</li>
<li>${pt ? 'Verifique o disco (lê e decifra cada objeto):' : 'Verify the disk (reads and decrypts every object):'}${code(cmds.usb[1]!, 'usb')}</li>
<li>${pt ? 'Restaure a cópia mais recente de cada origem para uma base de dados nova (a danificada fica intacta):' : 'Restore the newest copy of each source into a new database (the damaged one is left as it is):'}${each('usb', 2)}${pt ? 'O progresso aparece no ecrã. No fim o comando compara as linhas de cada tabela com as da cópia e diz «check: OK».' : 'Progress shows on screen. At the end the command compares each table’s rows with the copy’s and says "check: OK".'}</li>
<li>${pt ? 'Aponte o sistema clínico para a base restaurada e confirme que os registos de ontem estão lá.' : 'Point the clinical system at the restored database and check that yesterday’s records are there.'}</li>
</ol>${admin}</section>
<section class="card" id="playbook-peer"><h2>${pt ? 'B. A partir do servidor secundário (servidor principal avariado)' : 'B. From the secondary server (the main server is dead)'}</h2><ol>
<li>${pt ? 'No servidor secundário, que já tem um espelho das cópias, veja as cópias:' : 'On the secondary server, which already holds a mirror of the backups, list the copies:'}${code(cmds.peer[0]!, 'peer')}</li>
<li>${pt ? 'Verifique o espelho:' : 'Verify the mirror:'}${code(cmds.peer[1]!, 'peer')}</li>
<li>${pt ? 'Restaure cada origem:' : 'Restore each source:'}${each('peer', 2)}</li>
<li>${pt ? 'Ponha o servidor secundário no lugar do principal (mesmo endereço de rede) e avise a DPS.' : 'Put the secondary server in the main server’s place (same network address) and tell the DPS.'}</li>
</ol></section>
<section class="card" id="playbook-hub"><h2>${pt ? 'C. A partir do hub (incêndio, inundação, roubo)' : 'C. From the hub (fire, flood, theft)'}</h2>
${offsiteNote(lang, site, sources)}<ol>
<li>${pt ? 'O administrador do hub gera um token de registo:' : 'The hub’s administrator makes an enrolment token:'}${code(cmds.hub[0]!, 'hub')}</li>
<li>${pt ? 'Instale o agente no novo servidor (o instalador escreve agent.yaml) e registe-o no hub:' : 'Install the agent on the new server (the installer writes agent.yaml) and enrol it with the hub:'}${code(cmds.hub[1]!, 'hub')}</li>
<li>${pt ? 'Descarregue e restaure cada origem:' : 'Download and restore each source:'}${each('hub', 2)}</li>
</ol>
<p class="note">${pt ? `Sem rede até ao hub: na consola, «Exportar a cópia externa mais recente» dá um ficheiro tar com a chave; extraia-o numa pasta e use <code>--from PASTA</code> em vez de <code>--from hub</code>.` : 'Without a network path to the hub: in the console, "Export the latest off-site copy" gives a tar with the key; extract it into a folder and use <code>--from FOLDER</code> instead of <code>--from hub</code>.'}</p></section>
<section class="card"><h2>${pt ? 'Depois do restauro' : 'After the restore'}</h2><ol>
<li>${pt ? 'Confirme na consola que a unidade aparece «Em linha» e que há uma nova cópia nas horas seguintes.' : 'Check in the console that the site shows "Online" and that a new backup appears within the next hours.'}</li>
<li>${pt ? 'Anote o que fez (data, cópia usada, duração) e envie à DPS: é o relatório do teste de restauro.' : 'Write down what you did (date, copy used, how long it took) and send it to the DPS: it is the restore test report.'}</li>
</ol></section>`;
}
