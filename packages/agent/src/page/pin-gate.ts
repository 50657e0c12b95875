/**
 * Rate limit on PIN attempts. After `freeAttempts` wrong PINs in a row every further attempt must wait,
 * 5 s then doubling up to 5 minutes; during the wait attempts are refused without even checking the PIN,
 * so a 4-digit PIN cannot be walked through. The server keeps one gate per client address, so one
 * person's typos do not lock out the technician at another workstation.
 */
const FIRST_WAIT_MS = 5_000;
const MAX_WAIT_MS = 300_000;

export type GateAnswer = { ok: true } | { ok: false; retryAfterSec: number };

export class PinGate {
  private failures = 0;
  private lockedUntil = 0;

  constructor(private readonly freeAttempts: number) {}

  /** May an attempt be checked now? */
  admit(now = Date.now()): GateAnswer {
    if (now < this.lockedUntil) return { ok: false, retryAfterSec: Math.ceil((this.lockedUntil - now) / 1000) };
    return { ok: true };
  }

  failed(now = Date.now()): void {
    this.failures++;
    const over = this.failures - this.freeAttempts;
    if (over >= 0) this.lockedUntil = now + Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** over);
  }

  succeeded(): void {
    this.failures = 0;
    this.lockedUntil = 0;
  }

  get failuresInARow(): number {
    return this.failures;
  }
}
