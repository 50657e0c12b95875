/**
 * Recent events and outages for the page and `status --json`, read from the stores the modules keep
 * on disk (power.db, network.db, backup-state), so the running agent and the CLI tell the same story.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '@sentinela/shared';
import { PowerStore } from '../power/store.js';
import { outageView } from '../power/outage-view.js';
import { NetworkStore } from '../network/store.js';
import { BackupState, backupStatePath } from '../backup/state.js';

export interface OutageView {
  kind: 'power' | 'wan';
  start: string;
  end: string | null;
  durationSec: number | null;
  /** Power only: the server was shut down during it. */
  shutdown?: boolean;
}
export interface EventView {
  at: string;
  kind: 'backup.completed' | 'backup.failed' | 'usb.copied';
  subject: string;
  detail: string | null;
}
export interface History {
  outages: OutageView[];
  events: EventView[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const secs = (a: number, b: number | null): number | null => (b === null ? null : Math.round((b - a) / 1000));

function withStore<S extends { close(): void }, R>(file: string, open: (f: string) => S, use: (s: S) => R, none: R): R {
  if (!existsSync(file)) return none; // never create a module's database from the outside
  const s = open(file);
  try {
    return use(s);
  } finally {
    s.close();
  }
}

export function readHistory(config: AgentConfig, limit = 10): History {
  const outages: OutageView[] = [
    ...withStore(join(config.dataDir, 'power.db'), (f) => new PowerStore(f), (s) => s.recent(limit), []).map(
      (o): OutageView => ({ kind: 'power', start: iso(o.start)!, end: iso(o.end), durationSec: outageView(o)!.durationSec, shutdown: o.shutdown }),
    ),
    ...withStore(join(config.dataDir, 'network.db'), (f) => new NetworkStore(f), (s) => [s.openOutage(), s.lastClosed()], []).flatMap((o) =>
      o ? [{ kind: 'wan' as const, start: iso(o.start)!, end: iso(o.end), durationSec: secs(o.start, o.end) }] : [],
    ),
  ]
    .sort((a, b) => b.start.localeCompare(a.start))
    .slice(0, limit);

  const events: EventView[] = config.backup
    ? withStore(
        backupStatePath(config),
        (f) => BackupState.open(f),
        (st) => {
          const out: EventView[] = [];
          for (const s of config.backup!.sources) {
            const good = st.lastRun(s.name, true);
            const bad = st.lastRun(s.name, false);
            if (good) out.push({ at: good.finishedAt, kind: 'backup.completed', subject: s.name, detail: null });
            if (bad) out.push({ at: bad.finishedAt, kind: 'backup.failed', subject: s.name, detail: bad.error ?? null });
          }
          for (const d of st.disks()) {
            if (d.lastCopyAt) out.push({ at: d.lastCopyAt, kind: 'usb.copied', subject: d.label, detail: d.lastError ?? null });
          }
          return out;
        },
        [],
      )
    : [];
  events.sort((a, b) => b.at.localeCompare(a.at));
  return { outages, events: events.slice(0, limit) };
}
