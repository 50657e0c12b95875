/**
 * The ledger: what every agent created against what the hub stored. An outbox hands out seqs
 * 1, 2, 3… per stream and forgets a row once the hub acknowledged it, so "created" is the highest
 * seq of each stream the agent ever had (sampled during the run, in case an outbox were ever
 * replaced), "lost" a created seq neither stored at the hub nor still queued, "duplicated" a seq
 * stored twice or counted twice by the hub. The same comparison holds at any moment, so it also runs
 * while the faults go on (a loss seen then is counted even if nothing at the end would show it).
 */
import { join } from 'node:path';
import { agentOutbox, hubHasMessage, hubStreams, integrityCheck } from '@sentinela/tools/harness/stores.js';
import type { AgentRig } from './rig.js';

export interface MessageLedger {
  created: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Created, not yet at the hub, still safe in the outbox. */
  queued: number;
  /** Stored at the hub on streams no agent had (nothing should be). */
  unknown: number;
  /** Streams per agent (more than one: an outbox was replaced). */
  streams: number;
  /** A few lost seqs per site, for the report. */
  lostExamples: string[];
  /** Databases whose integrity_check did not say "ok". */
  damagedDatabases: string[];
}

/** The ledgers taken while the campaign ran. */
export interface RunningChecks {
  checks: number;
  /** Checks that could not read a database at that moment (a disk full, an outbox being created). */
  unreadable: number;
  /** Distinct seqs found lost at some check, with a few of them. */
  lost: number;
  duplicated: number;
  lostExamples: string[];
  /**
   * Where each seq found lost turned up when looked at again: at once, and RELOOK_MS later (in
   * the outbox, at the hub, or nowhere), so that a transient miss says what it was.
   */
  relooks: Record<'outbox' | 'hub' | 'nowhere', number>;
  relookLines: string[];
}

/** How long after a ledger a seq it found lost is looked at again. */
const RELOOK_MS = 5000;

interface LostSeq {
  siteId: string;
  stream: string;
  seq: number;
}

interface Suspect extends LostSeq {
  key: string;
  foundAt: number;
  atOnce: string;
}

/** The highest seq seen per agent and stream, sampled while the campaign runs. */
export class StreamWatch {
  private readonly maxSeq = new Map<string, Map<string, number>>();
  private readonly lostSeen = new Set<string>();
  private suspects: Suspect[] = [];
  readonly running: RunningChecks = { checks: 0, unreadable: 0, lost: 0, duplicated: 0, lostExamples: [], relooks: { outbox: 0, hub: 0, nowhere: 0 }, relookLines: [] };

  sample(a: AgentRig): void {
    try {
      this.note(a.siteId, agentOutbox(a.dataDir));
    } catch {
      /* the outbox may be mid-creation or its disk full: the next sample gets it */
    }
  }

  private note(siteId: string, o: { stream: string; maxSeq: number }): void {
    if (!o.stream) return;
    let m = this.maxSeq.get(siteId);
    if (!m) this.maxSeq.set(siteId, (m = new Map()));
    m.set(o.stream, Math.max(m.get(o.stream) ?? 0, o.maxSeq));
  }

  /** A ledger while the faults go on (no integrity_check: the processes are writing). */
  check(agents: AgentRig[], hubDataDir: string): MessageLedger | null {
    let l: ReturnType<StreamWatch['ledger']>;
    try {
      l = this.ledger(agents, hubDataDir, { integrity: false });
    } catch {
      this.running.unreadable++;
      return null;
    }
    this.running.checks++;
    for (const lost of l.lostSeqs) {
      const e = lostKey(lost);
      if (this.lostSeen.has(e)) continue;
      this.lostSeen.add(e);
      if (this.running.lostExamples.length < 10) this.running.lostExamples.push(e);
      this.suspects.push({ ...lost, key: e, foundAt: Date.now(), atOnce: where(agents, hubDataDir, lost) });
    }
    this.running.lost = this.lostSeen.size;
    this.running.duplicated = Math.max(this.running.duplicated, l.duplicated);
    return l;
  }

  /** Looks again at the seqs a ledger found lost RELOOK_MS ago; logs where each is now. Called every tick. */
  relook(agents: AgentRig[], hubDataDir: string, log: (line: string) => void): void {
    const due = this.suspects.filter((s) => Date.now() - s.foundAt >= RELOOK_MS);
    if (due.length === 0) return;
    this.suspects = this.suspects.filter((s) => !due.includes(s));
    for (const s of due) {
      const now = where(agents, hubDataDir, s);
      this.running.relooks[now]++;
      const line = `${s.key}: lost at a ledger; looked at again at once: ${s.atOnce}; ${((Date.now() - s.foundAt) / 1000).toFixed(1)} s later: ${now}`;
      if (this.running.relookLines.length < 20) this.running.relookLines.push(line);
      log(`faults: ledger re-look: ${line}`);
    }
  }

  /** Compares each agent's outbox (read first) with the hub (read after: a seq acked in between is then at the hub). */
  ledger(agents: AgentRig[], hubDataDir: string, opts = { integrity: true }): MessageLedger & { lostSeqs: LostSeq[] } {
    const l = { created: 0, stored: 0, lost: 0, duplicated: 0, queued: 0, unknown: 0, streams: 0, lostExamples: [] as string[], damagedDatabases: [] as string[], lostSeqs: [] as LostSeq[] };
    const pendingBy = new Map<string, Set<number>>();
    for (const a of agents) {
      const o = agentOutbox(a.dataDir);
      this.note(a.siteId, o);
      pendingBy.set(`${a.siteId}/${o.stream}`, new Set(o.pending));
      if (!opts.integrity) continue;
      const ok = integrityCheck(join(a.dataDir, 'outbox.db'));
      if (ok !== 'ok') l.damagedDatabases.push(`${a.siteId} outbox.db: ${ok}`);
    }
    const hubOk = opts.integrity ? integrityCheck(join(hubDataDir, 'hub.db')) : 'ok';
    if (hubOk !== 'ok') l.damagedDatabases.push(`hub.db: ${hubOk}`);
    for (const a of agents) {
      const created = this.maxSeq.get(a.siteId) ?? new Map<string, number>();
      const stored = new Map(hubStreams(hubDataDir, a.siteId).map((s) => [s.stream, s]));
      l.streams += created.size;
      for (const [stream, maxSeq] of created) {
        l.created += maxSeq;
        const pending = pendingBy.get(`${a.siteId}/${stream}`) ?? new Set<number>();
        const rec = stored.get(stream);
        const seqs = rec?.seqs ?? [];
        const have = new Set(seqs);
        l.duplicated += seqs.length - have.size + Math.max(0, (rec?.receivedCount ?? 0) - have.size);
        for (let s = 1; s <= maxSeq; s++) {
          if (have.has(s)) l.stored++;
          else if (pending.has(s)) l.queued++;
          else {
            l.lost++;
            const lost = { siteId: a.siteId, stream, seq: s };
            l.lostSeqs.push(lost);
            if (l.lostExamples.length < 10) l.lostExamples.push(lostKey(lost));
          }
        }
      }
      for (const [stream, rec] of stored) if (!created.has(stream)) l.unknown += rec.seqs.length;
    }
    return l;
  }
}

const lostKey = (l: LostSeq): string => `${l.siteId} stream ${l.stream} seq ${l.seq}`;

/** Where a seq is now: still in its agent's outbox, stored at the hub, or nowhere (a database that cannot be read says so). */
function where(agents: AgentRig[], hubDataDir: string, l: LostSeq): 'outbox' | 'hub' | 'nowhere' {
  const a = agents.find((x) => x.siteId === l.siteId);
  try {
    const o = a ? agentOutbox(a.dataDir) : null;
    if (o && o.stream === l.stream && o.pending.includes(l.seq)) return 'outbox';
  } catch {
    /* the outbox unreadable at this moment (a full disk): the hub may still have it */
  }
  try {
    if (hubHasMessage(hubDataDir, l.siteId, l.stream, l.seq)) return 'hub';
  } catch {
    /* the hub's database unreadable at this moment */
  }
  return 'nowhere';
}
