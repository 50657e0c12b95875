/** Polls apcupsd's NIS. apcupsd's own COMMLOST means it lost its UPS: stale, not on battery. */
import { fetchApcupsdStatus } from './apcupsd-client.js';
import { readingFromApcupsd, type PollResult, type UpsSource } from './reading.js';

export class ApcupsdSource implements UpsSource {
  readonly label: string;

  constructor(private readonly opts: { host: string; port: number; timeoutSeconds: number }) {
    this.label = `apcupsd ${opts.host}:${opts.port}`;
  }

  async poll(): Promise<PollResult> {
    let rec: Record<string, string>;
    try {
      rec = await fetchApcupsdStatus(this.opts.host, this.opts.port, this.opts.timeoutSeconds * 1000);
    } catch (err) {
      return { contact: 'unreachable', message: (err as Error).message };
    }
    const reading = readingFromApcupsd(rec);
    if (reading.flags.includes('COMMLOST')) return { contact: 'stale', message: 'apcupsd has lost contact with the UPS (COMMLOST)' };
    return { contact: 'ok', reading };
  }

  async close(): Promise<void> {}
}
