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

/** Errors that are about the UPS or its driver, not about our login. */
const NOT_LOGIN = new Set(['UNKNOWN-UPS', 'DATA-STALE', 'DRIVER-NOT-CONNECTED']);
/** A refused login is tried again (on a new connection: upsd takes USERNAME once per connection) this often. */
const LOGIN_RETRY_MS = 60_000;

export function loginProblemText(err: unknown, opts: Pick<NutSourceOptions, 'username' | 'passwordFile' | 'ups'>): string {
  const lost = 'the agent still reads the UPS, but without a login the primary cannot count this server before it powers off, and FSD and outlet commands are refused';
  if (!(err instanceof NutError)) return `cannot read the upsd password file ${opts.passwordFile}: ${(err as Error).message}; ${lost}`;
  const why = err.code === 'ACCESS-DENIED'
    ? `a wrong password in ${opts.passwordFile ?? '(no passwordFile)'}, or no "upsmon primary" / "upsmon secondary" line for the user in upsd.users`
    : `upsd answered ERR ${err.code}`;
  return `upsd refused the login of user ${opts.username} to UPS ${opts.ups} (ERR ${err.code}: ${why}); ${lost}`;
}

export class NutSource implements UpsSource, UpsControl {
  readonly label: string;
  private client: NutClient | null = null;
  private loginProblem: string | null = null;
  private loginTriedAt = 0;

  constructor(private readonly opts: NutSourceOptions) {
    this.label = `nut ${opts.ups}@${opts.host}:${opts.port}`;
  }

  async poll(): Promise<PollResult> {
    try {
      if (this.loginProblem && Date.now() - this.loginTriedAt >= LOGIN_RETRY_MS) this.drop();
      const client = await this.connection();
      const reading = readingFromNut(await client.listVar(this.opts.ups));
      return { contact: 'ok', reading, ...(this.loginProblem ? { loginProblem: this.loginProblem } : {}) };
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
    this.loginProblem = null;
    if (username) {
      this.loginTriedAt = Date.now();
      try {
        const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : '';
        await client.authenticate(username, password);
        await client.login(ups);
      } catch (err) {
        // Like upsmon: a refused login does not stop the reading (upsd serves variables without one).
        if (err instanceof NutConnectionError || (err instanceof NutError && NOT_LOGIN.has(err.code))) {
          client.close();
          throw err;
        }
        this.loginProblem = loginProblemText(err, this.opts);
      }
    }
    this.client = client;
    return client;
  }
}
