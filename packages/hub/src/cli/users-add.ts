/** `sentinela-hub users add`: a console account with a role; the password is prompted (no echo) or read from a file. */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { openDb } from '../database.js';
import { audit } from '../users/audit.js';
import { createUser, UserError } from '../users/users.js';
import { configOption, helpOption, jsonOption, loadHubConfig, loginUrl, parse, UsageError, EXIT_OK, type Command, type Io } from './common.js';

/** Reads one line from the terminal without echoing it; from a pipe, the first line. */
function promptPassword(question: string): Promise<string> {
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const tty = Boolean(process.stdin.isTTY);
  if (tty) process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: tty ? muted : undefined, terminal: tty });
  return new Promise((resolve, reject) => {
    rl.once('line', (line) => {
      if (tty) process.stderr.write('\n');
      rl.close();
      resolve(line);
    });
    rl.once('close', () => reject(new UsageError('no password given (type it at the prompt, pipe it in, or use --password-file)')));
  });
}

async function readPassword(file: string | undefined, io: Io): Promise<string> {
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(`cannot read --password-file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  const first = await promptPassword('Password: ');
  if (process.stdin.isTTY) {
    const again = await promptPassword('Again: ');
    if (again !== first) throw new UsageError('the two passwords differ');
  }
  void io;
  return first;
}

export const usersAdd: Command = {
  name: 'users add',
  summary: 'create a console user (admin, operator or viewer)',
  help: `Usage: sentinela-hub users add --name NAME --role ROLE [--password-file FILE] [--config FILE] [--json]

Creates a user of the web console. Roles: viewer (reads everything), operator (also
acknowledges alerts, sets maintenance windows, exports backups), admin (also manages users).
The password (at least 10 characters) is asked for without echo, read from the first line of
standard input when it is not a terminal, or from --password-file. It is stored as an scrypt
hash (N=2^15, r=8, p=1).

Options:
  --name NAME           user name (letters, digits, . _ @ -)
  --role ROLE           admin, operator or viewer
  --password-file FILE  read the password from this file (first line)
  -c, --config FILE     hub configuration (default /etc/sentinela/hub.yaml)
  --json                print {"name","role","createdAt"}
  -h, --help            this help

Example:
  sentinela-hub users add --config /etc/sentinela/hub.yaml --name ana.m --role operator`,
  async run(args, io) {
    const { values } = parse(args, { ...configOption, ...helpOption, ...jsonOption, name: { type: 'string' }, role: { type: 'string' }, 'password-file': { type: 'string' } });
    if (!values.name) throw new UsageError('--name is required (e.g. --name ana.m)');
    if (!values.role) throw new UsageError('--role is required: admin, operator or viewer');
    const config = loadHubConfig(values.config!);
    const password = await readPassword(values['password-file'], io);
    const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
    try {
      const user = await createUser(db, { name: values.name, role: values.role, password });
      audit(db, { actor: 'cli', action: 'users.add', target: user.name, ok: true, detail: { role: user.role } });
      if (values.json) io.out(JSON.stringify({ name: user.name, role: user.role, createdAt: user.created_at }));
      else io.out(`Created ${user.role} ${user.name}. They can log in at ${loginUrl(config)}`);
    } catch (err) {
      if (err instanceof UserError && err.code !== 'exists') throw new UsageError(err.message);
      throw err;
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
};
