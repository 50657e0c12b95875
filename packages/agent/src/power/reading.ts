/** What a UPS daemon told us, whichever daemon it was, and how the poll went. */

export interface UpsReading {
  /** ups.status as tokens; unknown tokens are kept as they are. */
  flags: string[];
  charge: number | null;
  runtimeSec: number | null;
  loadPct: number | null;
  inputVoltage: number | null;
}

/** Anything but ok means "we do not know": never the same as on battery. */
export type Contact = 'ok' | 'stale' | 'driver-down' | 'unreachable' | 'unknown-ups' | 'error';

/** loginProblem: the UPS was read, but upsd refused our login (what that loses is in the text). */
export type PollResult = { contact: 'ok'; reading: UpsReading; loginProblem?: string } | { contact: Exclude<Contact, 'ok'>; message: string };

export interface UpsSource {
  /** e.g. "nut ups@127.0.0.1:3493". */
  readonly label: string;
  poll(): Promise<PollResult>;
  close(): Promise<void>;
}

/** What only a NUT source can do (a primary tells secondaries to go; the UPS cuts its outlets). */
export interface UpsControl {
  raiseFsd(): Promise<void>;
  numLogins(): Promise<number>;
  instcmd(cmd: string): Promise<void>;
  /** Drops our login so that the primary's count of secondaries goes down. */
  logout(): Promise<void>;
}

export function statusTokens(status: string): string[] {
  return status.trim().split(/\s+/).filter(Boolean).map((t) => t.toUpperCase());
}

/** First number in a value such as "100", "30.0 Minutes", "230.0 Volts"; null when absent. */
export function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const m = /-?\d+(\.\d+)?/.exec(v);
  return m ? Number(m[0]) : null;
}

export function readingFromNut(vars: Record<string, string>): UpsReading {
  return {
    flags: statusTokens(vars['ups.status'] ?? ''),
    charge: num(vars['battery.charge']),
    runtimeSec: num(vars['battery.runtime']),
    loadPct: num(vars['ups.load']),
    inputVoltage: num(vars['input.voltage']),
  };
}

const APC_FLAGS: Record<string, string> = {
  ONLINE: 'OL',
  ONBATT: 'OB',
  LOWBATT: 'LB',
  REPLACEBATT: 'RB',
  CAL: 'CAL',
  TRIM: 'TRIM',
  BOOST: 'BOOST',
  OVERLOAD: 'OVER',
  SHUTTING: 'FSD',
  COMMLOST: 'COMMLOST',
};

/**
 * apcupsd's STATFLAG bits (its defines.h) behind the STATUS words. SHUTTING DOWN and COMMLOST replace
 * every other word of STATUS; the bits still say ONBATT, LOWBATT… (seen with the real apcupsd 3.14).
 */
const APC_STATFLAG_BITS: [number, string][] = [
  [0x1, 'CAL'], [0x2, 'TRIM'], [0x4, 'BOOST'], [0x8, 'ONLINE'], [0x10, 'ONBATT'], [0x20, 'OVERLOAD'],
  [0x40, 'LOWBATT'], [0x80, 'REPLACEBATT'], [0x100, 'COMMLOST'], [0x200, 'SHUTTING'],
];

/** STATUS words, plus those only STATFLAG still holds ("0x05000410 Status Flag"); a malformed STATFLAG is left out. */
function apcupsdWords(rec: Record<string, string>): string[] {
  const words = statusTokens(rec.STATUS ?? '').filter((w) => w !== 'DOWN');
  const m = /^0x([0-9a-f]{1,8})(\s|$)/i.exec((rec.STATFLAG ?? '').trim());
  if (!m) return words;
  const bits = parseInt(m[1]!, 16);
  for (const [bit, word] of APC_STATFLAG_BITS) if (bits & bit && !words.includes(word)) words.push(word);
  return words;
}

/** apcupsd's STATUS words mapped to NUT's tokens; TIMELEFT is in minutes. */
export function readingFromApcupsd(rec: Record<string, string>): UpsReading {
  const words = apcupsdWords(rec);
  return {
    flags: words.map((w) => APC_FLAGS[w] ?? w),
    charge: num(rec.BCHARGE),
    runtimeSec: rec.TIMELEFT === undefined ? null : Math.round(num(rec.TIMELEFT)! * 60),
    loadPct: num(rec.LOADPCT),
    inputVoltage: num(rec.LINEV),
  };
}
