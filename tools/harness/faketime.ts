/**
 * A clock of its own for one process, without touching the machine's: libfaketime (Debian's
 * faketime package) preloaded, its offset read from a file the test rewrites. Only the wall clock
 * moves; the monotonic clock (timers, intervals) stays true, as when NTP or a technician sets the time.
 */
import { existsSync, writeFileSync } from 'node:fs';

const LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export function hasFaketime(): boolean {
  return existsSync(LIB);
}

export class FakeClock {
  /** Seconds the process's wall clock is ahead of the machine's (negative: behind). */
  offsetSeconds = 0;

  constructor(readonly file: string) {
    this.write();
  }

  /** Environment for the process whose clock this is (children it starts inherit it). */
  env(): NodeJS.ProcessEnv {
    if (!hasFaketime()) throw new Error(`${LIB} not found: apt-get install faketime`);
    return {
      LD_PRELOAD: LIB,
      FAKETIME_TIMESTAMP_FILE: this.file,
      // The file is re-read at most once a second: a jump shows within a second.
      FAKETIME_CACHE_DURATION: '1',
      DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Moves the wall clock by `seconds` (negative: back). */
  jump(seconds: number): void {
    this.offsetSeconds += seconds;
    this.write();
  }

  reset(): void {
    this.offsetSeconds = 0;
    this.write();
  }

  private write(): void {
    writeFileSync(this.file, `${this.offsetSeconds >= 0 ? '+' : ''}${this.offsetSeconds}\n`);
  }
}
