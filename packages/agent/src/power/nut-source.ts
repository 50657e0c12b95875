/** Polls one UPS through upsd, keeping one logged-in connection (so the primary can count us). */
import { readFileSync } from 'node:fs';
import { NutClient, NutConnectionError, NutError } from './nut-client.js';
import { readingFromNut, type PollResult, type UpsControl, type UpsSource } from './reading.js';

export interface NutSourceOptions {
  host: string;
  port: number;
  ups: string;
  username?: string | undefined;
  passwordFile?: string | undefined;
  timeoutSeconds: number;
}

/** upsd's error codes that mean "no fresh data", each told apart. */
export function classifyNutError(err: unknown): Exclude<PollResult, { contact: 'ok' }> {
  if (err instanceof NutError) {
    if (err.code === 'DATA-STALE') return { contact: 'stale', message: 'upsd says the UPS data is stale (the driver is not updating it)' };
    if (err.code === 'DRIVER-NOT-CONNECTED') return { contact: 'driver-down', message: 'upsd is not connected to the UPS driver' };
    if (err.code === 'UNKNOWN-UPS') return { contact: 'unknown-ups', message: `upsd does not know this UPS (${err.request})` };
    return { contact: 'error', message: err.message };
  }
  const message = (err as Error).message;
  return { contact: err instanceof NutConnectionError ? 'unreachable' : 'error', message };
}

export class NutSource implements UpsSource, UpsControl {
  readonly label: string;
  private client: NutClient | null = null;

  constructor(private readonly opts: NutSourceOptions) {
    this.label = `nut ${opts.ups}@${opts.host}:${opts.port}`;
  }

  async poll(): Promise<PollResult> {
    try {
      const client = await this.connection();
      return { contact: 'ok', reading: readingFromNut(await client.listVar(this.opts.ups)) };
    } catch (err) {
      if (err instanceof NutConnectionError) this.drop();
      return classifyNutError(err);
    }
  }

  async raiseFsd(): Promise<void> {
    await (await this.connection()).fsd(this.opts.ups);
  }

  async numLogins(): Promise<number> {
    return (await this.connection()).numLogins(this.opts.ups);
  }

  async instcmd(cmd: string): Promise<void> {
    await (await this.connection()).instcmd(this.opts.ups, cmd);
  }

  async logout(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.logout();
  }

  async close(): Promise<void> {
    this.drop();
  }

  private drop(): void {
    this.client?.close();
    this.client = null;
  }

  private async connection(): Promise<NutClient> {
    if (this.client && !this.client.closed) return this.client;
    const { host, port, ups, username, passwordFile, timeoutSeconds } = this.opts;
    const client = await NutClient.connect(host, port, timeoutSeconds * 1000);
    try {
      if (username) {
        const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : '';
        await client.authenticate(username, password);
        await client.login(ups);
      }
    } catch (err) {
      client.close();
      throw err;
    }
    this.client = client;
    return client;
  }
}
