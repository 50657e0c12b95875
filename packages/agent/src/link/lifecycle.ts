/** Birth and death messages (Sparkplug-style: the bdSeq ties a death to the connection it ends). */
import os from 'node:os';
import { PROTOCOL_VERSION, SENTINELA_VERSION, type BirthMessage, type DeathMessage } from '@sentinela/shared';
import type { OutboxStats } from '../outbox/outbox.js';

export function agentInfo(): BirthMessage['agent'] {
  return { version: SENTINELA_VERSION, hostname: os.hostname(), platform: `${process.platform}-${process.arch}`, node: process.version };
}

export function birthMessage(site: string, bdSeq: number, stream: string, outbox: OutboxStats): BirthMessage {
  return { v: PROTOCOL_VERSION, site, type: 'birth', ts: new Date().toISOString(), bdSeq, stream, agent: agentInfo(), outbox };
}

export function deathMessage(site: string, bdSeq: number, clean: boolean): DeathMessage {
  return { v: PROTOCOL_VERSION, site, type: 'death', bdSeq, clean };
}
