/**
 * A small client of NUT's upsd network protocol (TCP 3493, one text line per request and answer).
 * There is no well-kept NUT client on npm (node-nut has neither LOGIN nor FSD), hence this one.
 * Requests are serialised: upsd answers in order, and a list answer spans several lines.
 */
import net from 'node:net';

/** An `ERR <CODE>` answer from upsd (DATA-STALE, DRIVER-NOT-CONNECTED, UNKNOWN-UPS, CMD-NOT-SUPPORTED, ACCESS-DENIED…). */
export class NutError extends Error {
  constructor(
    readonly code: string,
    readonly request: string,
  ) {
    super(`upsd answered ERR ${code} to "${request.replace(/^PASSWORD .*/, 'PASSWORD ***')}"`);
    this.name = 'NutError';
  }
}

/** The connection to upsd failed, closed or timed out: not an answer from upsd. */
export class NutConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NutConnectionError';
  }
}

/** Splits a protocol line into words; "quoted values" may hold spaces and \" \\ escapes. */
export function splitNutLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        word += line[i++];
      }
      i++; // closing quote
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++];
    }
    out.push(word);
  }
  return out;
}

/** Quotes a value for a request when it needs it. */
function quote(v: string): string {
  return /^[^\s"\\]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

interface Pending {
  request: string;
  list: boolean;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class NutClient {
  private buffer = '';
  private readonly pending: Pending[] = [];
  private closedError: Error | null = null;

  private constructor(
    private readonly socket: net.Socket,
    readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new NutConnectionError(`connection to upsd failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    socket.on('close', () => this.fail(new NutConnectionError('upsd closed the connection')));
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<NutClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NutConnectionError(`no connection to upsd at ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new NutConnectionError(`cannot connect to upsd at ${host}:${port}: ${err.code ?? err.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new NutClient(socket, timeoutMs));
      });
    });
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends one request; resolves with the answer line (or the lines between BEGIN and END for a list). */
  request(line: string, list = false): Promise<string[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new NutConnectionError(`upsd did not answer "${line.split(' ')[0]}" within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.push({ request: line, list, lines: [], resolve, reject, timer });
      this.socket.write(`${line}\n`);
    });
  }

  async listUps(): Promise<Array<{ name: string; description: string }>> {
    const lines = await this.request('LIST UPS', true);
    return lines.map(splitNutLine).filter((w) => w[0] === 'UPS').map((w) => ({ name: w[1] ?? '', description: w[2] ?? '' }));
  }

  /** Every variable of one UPS. */
  async listVar(ups: string): Promise<Record<string, string>> {
    const lines = await this.request(`LIST VAR ${quote(ups)}`, true);
    const vars: Record<string, string> = {};
    for (const w of lines.map(splitNutLine)) if (w[0] === 'VAR' && w[2]) vars[w[2]] = w[3] ?? '';
    return vars;
  }

  async getVar(ups: string, name: string): Promise<string> {
    const [line] = await this.request(`GET VAR ${quote(ups)} ${quote(name)}`);
    return splitNutLine(line ?? '')[3] ?? '';
  }

  async listCmd(ups: string): Promise<string[]> {
    const lines = await this.request(`LIST CMD ${quote(ups)}`, true);
    return lines.map(splitNutLine).filter((w) => w[0] === 'CMD').map((w) => w[2] ?? '');
  }

  /** How many clients are logged in to this UPS (the primary counts its secondaries with it). */
  async numLogins(ups: string): Promise<number> {
    const [line] = await this.request(`GET NUMLOGINS ${quote(ups)}`);
    return Number(splitNutLine(line ?? '')[2]);
  }

  /** USERNAME + PASSWORD. */
  async authenticate(username: string, password: string): Promise<void> {
    await this.request(`USERNAME ${quote(username)}`);
    await this.request(`PASSWORD ${quote(password)}`);
  }

  /** Registers this connection as a client powered by the UPS (counted by NUMLOGINS). */
  async login(ups: string): Promise<void> {
    await this.request(`LOGIN ${quote(ups)}`);
  }

  /** Asks for primary rights ("upsmon primary", which carries FSD) without using them; upsd before 2.8 calls it MASTER. */
  async primary(ups: string): Promise<void> {
    try {
      await this.request(`PRIMARY ${quote(ups)}`);
    } catch (err) {
      if (!(err instanceof NutError && err.code === 'UNKNOWN-COMMAND')) throw err;
      await this.request(`MASTER ${quote(ups)}`);
    }
  }

  async instcmd(ups: string, cmd: string): Promise<void> {
    await this.request(`INSTCMD ${quote(ups)} ${quote(cmd)}`);
  }

  /** Sets forced shutdown on the UPS: NUT's way of telling every secondary to shut down now. */
  async fsd(ups: string): Promise<void> {
    await this.request(`FSD ${quote(ups)}`);
  }

  async logout(): Promise<void> {
    await this.request('LOGOUT').catch(() => undefined);
    this.close();
  }

  close(): void {
    this.fail(new NutConnectionError('connection to upsd closed by the agent'));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const p = this.pending[0];
    if (!p) return; // unsolicited: ignore
    if (line.startsWith('ERR ')) {
      this.settle(p, () => p.reject(new NutError(line.slice(4).split(' ')[0] ?? 'UNKNOWN', p.request)));
    } else if (!p.list) {
      this.settle(p, () => p.resolve([line]));
    } else if (line.startsWith('BEGIN ')) {
      // the list starts
    } else if (line.startsWith('END ')) {
      this.settle(p, () => p.resolve(p.lines));
    } else {
      p.lines.push(line);
    }
  }

  private settle(p: Pending, fn: () => void): void {
    clearTimeout(p.timer);
    this.pending.shift();
    fn();
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(this.closedError);
    }
    this.socket.destroy();
  }
}
