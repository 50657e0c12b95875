/**
 * The restore instructions, written for the person at the replacement server: plain steps,
 * in order, for each copy they may have (USB disk, secondary server, hub export). When a site
 * is given, its own facts are filled in (site id, newest backup and where it is).
 */
import { escapeHtml } from '../api/console.js';
import type { BackupSummary } from './sections.js';
import type { Lang } from './i18n.js';

export interface RestoreSite {
  id: string;
  name: string | null;
  backups: BackupSummary | null;
}

const code = (s: string) => `<pre><code>${escapeHtml(s)}</code></pre>`;

function facts(lang: Lang, site: RestoreSite | null): string {
  if (!site) return '';
  const pt = lang === 'pt';
  const b = site.backups;
  const rows = b
    ? b.sources
        .map(
          (s) =>
            `<tr><td>${escapeHtml(s.name)}</td><td>${s.lastLocal ? escapeHtml(`${s.lastLocal.at} (${s.lastLocal.snapshotId ?? '?'})`) : '—'}</td><td>${s.lastUsb ? escapeHtml(`${s.lastUsb.at} (${s.lastUsb.label ?? 'USB'})`) : '—'}</td><td>${s.lastPeer ? escapeHtml(s.lastPeer) : '—'}</td></tr>`,
        )
        .join('')
    : '';
  return `<section class="card"><h2>${pt ? 'Esta unidade' : 'This site'}: <code>${escapeHtml(site.id)}</code> ${escapeHtml(site.name ?? '')}</h2>
${
  rows
    ? `<table><thead><tr><th>${pt ? 'Origem' : 'Source'}</th><th>${pt ? 'Última cópia no servidor' : 'Last copy on the server'}</th><th>${pt ? 'Última cópia em USB' : 'Last copy on USB'}</th><th>${pt ? 'Servidor secundário' : 'Secondary server'}</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>${pt ? 'O agente desta unidade ainda não reportou cópias de segurança.' : "This site's agent has not reported any backups yet."}</p>`
}
<p>${pt ? 'Use a cópia mais recente que tiver à mão. Em caso de dúvida, ligue para a DPS antes de começar.' : 'Use the newest copy you have at hand. If in doubt, call the DPS before you start.'}</p></section>`;
}

export function restoreBody(lang: Lang, site: RestoreSite | null): string {
  const id = site?.id ?? 'hf-0001';
  if (lang === 'pt') {
    return `<h1>Como restaurar um servidor${site ? ` — ${escapeHtml(site.id)}` : ''}</h1>
${facts(lang, site)}
<section class="card"><h2>Antes de começar</h2><ol>
<li>Tenha o novo servidor ligado à UPS e à rede da unidade, com o sistema instalado e o agente Sentinela instalado (<code>sentinela-agent --version</code> responde).</li>
<li>Tenha consigo <strong>uma</strong> destas cópias: o disco USB de cópias da unidade, o servidor secundário, ou um ficheiro exportado do hub.</li>
<li>Tenha a palavra-passe de cifra das cópias (no envelope selado da unidade ou com a DPS). Sem ela as cópias não podem ser lidas.</li>
<li>Conte com menos de uma hora para uma base de dados de alguns GB. Não desligue o servidor durante o restauro.</li>
</ol></section>
<section class="card"><h2>A. A partir do disco USB (base de dados corrompida ou servidor novo)</h2><ol>
<li>Ligue o disco USB ao servidor.</li>
<li>Veja as cópias que o disco tem:${code('sentinela-agent snapshots --config /etc/sentinela/agent.yaml --json')}</li>
<li>Verifique a cópia que vai usar (a mais recente):${code('sentinela-agent verify --config /etc/sentinela/agent.yaml --snapshot <CÓPIA>')}</li>
<li>Restaure-a:${code('sentinela-agent restore --config /etc/sentinela/agent.yaml --snapshot <CÓPIA>')}O progresso aparece no ecrã. No fim, o comando diz se tudo correu bem.</li>
<li>Abra o sistema clínico e confirme que os registos de ontem estão lá.</li>
</ol></section>
<section class="card"><h2>B. A partir do servidor secundário (servidor principal avariado)</h2><ol>
<li>Ligue o servidor secundário no lugar do principal (mesmos cabos de rede).</li>
<li>Ele já tem uma cópia das cópias de segurança. Siga os passos 2 a 5 de A neste servidor.</li>
<li>Avise a DPS: o servidor secundário passou a ser o principal.</li>
</ol></section>
<section class="card"><h2>C. A partir do hub (incêndio, inundação, roubo)</h2><ol>
<li>Na consola do hub, abra a unidade <code>${escapeHtml(id)}</code>, secção «Cópias de segurança», e carregue em «Exportar».</li>
<li>Copie o ficheiro para o novo servidor (disco USB ou rede).</li>
<li>Registe o novo servidor no hub: o administrador corre <code>sentinela-hub sites token --id ${escapeHtml(id)}</code> e no servidor:${code(`sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub <ENDEREÇO DO HUB> --token <TOKEN>`)}</li>
<li>Restaure a partir do ficheiro exportado como em A (passos 3 e 4).</li>
</ol>
<p class="note">Nota: este hub ainda não guarda cópias externas dos dados; por agora a exportação contém o registo do hub sobre a unidade (estado, cópias, eventos). Use o disco USB ou o servidor secundário para os dados.</p></section>
<section class="card"><h2>Depois do restauro</h2><ol>
<li>Confirme na consola que a unidade aparece «Em linha» e que há uma nova cópia nas horas seguintes.</li>
<li>Anote o que fez (data, cópia usada, duração) e envie à DPS: é o relatório do teste de restauro.</li>
</ol></section>`;
  }
  return `<h1>How to restore a server${site ? ` — ${escapeHtml(site.id)}` : ''}</h1>
${facts(lang, site)}
<section class="card"><h2>Before you start</h2><ol>
<li>Have the new server plugged into the UPS and the facility network, with the operating system and the Sentinela agent installed (<code>sentinela-agent --version</code> answers).</li>
<li>Have <strong>one</strong> of these copies with you: the facility's USB backup disk, the secondary server, or a file exported from the hub.</li>
<li>Have the backup encryption passphrase (in the facility's sealed envelope, or from the DPS). Without it the copies cannot be read.</li>
<li>Allow less than an hour for a database of a few GB. Do not turn the server off while it restores.</li>
</ol></section>
<section class="card"><h2>A. From the USB disk (corrupted database, or a new server)</h2><ol>
<li>Plug the USB disk into the server.</li>
<li>List the copies on the disk:${code('sentinela-agent snapshots --config /etc/sentinela/agent.yaml --json')}</li>
<li>Verify the copy you will use (the newest):${code('sentinela-agent verify --config /etc/sentinela/agent.yaml --snapshot <SNAPSHOT>')}</li>
<li>Restore it:${code('sentinela-agent restore --config /etc/sentinela/agent.yaml --snapshot <SNAPSHOT>')}Progress shows on screen. At the end the command says whether everything went well.</li>
<li>Open the clinical system and check that yesterday's records are there.</li>
</ol></section>
<section class="card"><h2>B. From the secondary server (the main server is dead)</h2><ol>
<li>Put the secondary server in the main server's place (same network cables).</li>
<li>It already holds a mirror of the backups. Follow steps 2 to 5 of A on it.</li>
<li>Tell the DPS: the secondary server is now the main one.</li>
</ol></section>
<section class="card"><h2>C. From the hub (fire, flood, theft)</h2><ol>
<li>In the hub console, open site <code>${escapeHtml(id)}</code>, section "Backups", and press "Export".</li>
<li>Copy the file to the new server (USB disk or network).</li>
<li>Register the new server with the hub: the admin runs <code>sentinela-hub sites token --id ${escapeHtml(id)}</code> and on the server:${code('sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub <HUB ADDRESS> --token <TOKEN>')}</li>
<li>Restore from the exported file as in A (steps 3 and 4).</li>
</ol>
<p class="note">Note: this hub does not keep off-site copies of the data yet; for now the export holds the hub's record of the site (status, backups, events). Use the USB disk or the secondary server for the data.</p></section>
<section class="card"><h2>After the restore</h2><ol>
<li>Check in the console that the site shows "Online" and that a new backup appears within the next hours.</li>
<li>Write down what you did (date, copy used, how long it took) and send it to the DPS: it is the restore test report.</li>
</ol></section>`;
}
