/** `sentinela-agent status`: local view of enrolment and the outbox, no hub needed. */
import type { AGENT_VERB_OPTIONS, StatusPower } from '@sentinela/shared';
import { EXIT_OK, formatBytes, type VerbInput } from '@sentinela/shared/cli';
import { loadAgentConfig } from './config.js';
import { loadLive, statusDocument } from '../page/document.js';
import { collectStatus, type StatusReport } from '../status/collect.js';
import type { PowerSnapshot } from '../power/snapshot.js';

export async function statusVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.status>): Promise<number> {
  const config = loadAgentConfig(values.config);
  // --json is the document the local page's GET /api/status answers, built by the same function.
  if (values.json) io.out(JSON.stringify(statusDocument(config, loadLive(config)), null, 2));
  else io.out(formatStatus(collectStatus(config)));
  return EXIT_OK;
}

function when(ts: string | null, now = Date.now()): string {
  if (!ts) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(ts)) / 1000));
  const ago = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} days`;
  return `${ts} (${ago} ago)`;
}

export function formatStatus(r: StatusReport): string {
  const rows: Array<[string, string]> = [
    ['site', r.site ?? '(not known until enrolled)'],
    [
      'enrolled',
      r.enrolled
        ? `yes, ${r.enrolledAt} with hub ${r.hubHttpUrl}`
        : r.credentialsProblem
          ? `NO: ${r.credentialsProblem}`
          : `NO: run sentinela-agent enroll (no ${r.credentialsFile})`,
    ],
    ['hub mqtt', r.hubMqttUrl],
    [
      'outbox',
      r.outbox.exists
        ? `${r.outbox.pending} messages waiting, ${formatBytes(r.outbox.pendingBytes)} of ${formatBytes(r.outbox.maxBytes)}`
        : `not created yet (${r.outbox.path})`,
    ],
    ['oldest waiting', when(r.outbox.oldestTs)],
    ['thinned', `${r.outbox.thinned} old messages dropped to stay under the limit (counted for the hub in outbox.thinned events)`],
    ['last sample', when(r.lastStatusTs)],
    ['last connected', when(r.lastConnectedAt)],
    ['last ack', when(r.lastAckAt)],
    ['stream', r.outbox.stream ?? '-'],
    ['power', powerLine(r.power)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => k.padEnd(width) + v).join('\n');
}

const STATE_TEXT: Record<StatusPower['state'], string> = {
  mains: 'on mains',
  battery: 'ON BATTERY',
  'low-battery': 'LOW BATTERY',
  'lost-contact': 'NO CONTACT with the UPS',
  'shutting-down': 'SHUTTING DOWN',
  'shut-down': 'shut down',
  unknown: 'not read yet',
};

/** One line: the state, the readings, what is wrong, and how old the view is. */
export function powerLine(p: PowerSnapshot | StatusPower | null, now = Date.now()): string {
  if (!p) return 'no power status saved yet (is the agent running?)';
  if (p.watch === 'off') return `not watched: ${p.reason ?? 'no power section in agent.yaml'}`;
  const parts = [p.lastSeenAt === null && p.state === 'lost-contact' ? 'UNKNOWN: the UPS has never been read' : STATE_TEXT[p.state]];
  if (p.charge !== null) parts.push(`charge ${Math.round(p.charge)} %`);
  if (p.runtimeSec !== null) parts.push(`runtime ${Math.floor(p.runtimeSec / 60)} min`);
  if (p.contact !== 'ok' && p.contactMessage) parts.push(`${p.contact}: ${p.contactMessage}`);
  if (p.shutdownDueAt) parts.push(`shutdown due ${p.shutdownDueAt}`);
  if (p.login === 'failed') parts.push('upsd refuses the login (FSD and outlet commands do not work; run sentinela-agent doctor)');
  if (p.flaps) parts.push(`${p.flaps} mains flap${p.flaps === 1 ? '' : 's'}`);
  const saved = typeof p.savedAt === 'string' ? `, as of ${when(p.savedAt, now)}` : '';
  return `${parts.join(', ')} (${p.source ?? '?'}${saved})`;
}
