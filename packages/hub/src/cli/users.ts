/**
 * `sentinela-hub users add|list|disable|enable|delete|password`: the console's accounts. Each change
 * is written to the audit log with actor "cli". The password is asked for twice without echo on a
 * terminal, read from the first line of stdin when it is a pipe, or from --password-file.
 */
import { readFileSync } from 'node:fs';
import { defineVerb, EXIT_OK, readSecret, UsageError } from '@sentinela/shared/cli';
import type { Db } from '../store/db.js';
import { openDb } from '../database.js';
import { audit } from '../users/audit.js';
import { createUser, deleteUser, listUsers, resetPassword, setUserDisabled, UserError, type UserRow } from '../users/users.js';
import { configOption, loadHubConfig, loginUrl } from './common.js';

async function readPassword(file: string | undefined): Promise<string> {
  if (file) {
    try {
      return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
    } catch (err) {
      throw new UsageError(`cannot read --password-file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return readSecret({ question: 'Password / Palavra-passe: ', again: 'Again / Outra vez: ', missing: 'no password given (type it at the prompt, pipe it in, or use --password-file)' });
}

/** Opens the database of the config, runs `fn`, closes it; a user's mistake (bad name, unknown user) is a usage error. */
async function withDb<T>(configFile: string | undefined, fn: (db: Db) => Promise<T> | T): Promise<{ result: T; loginUrl: string }> {
  const config = loadHubConfig(configFile);
  const db = openDb(config.dataDir, { synchronous: config.store.synchronous });
  try {
    return { result: await fn(db), loginUrl: loginUrl(config) };
  } catch (err) {
    if (err instanceof UserError && err.code !== 'exists') throw new UsageError(err.message);
    throw err;
  } finally {
    db.close();
  }
}

/** The audit row a CLI change writes; a refused change writes one too, with why. */
async function audited<T>(db: Db, action: string, target: string, detail: Record<string, unknown> | null, fn: () => T | Promise<T>): Promise<T> {
  try {
    const r = await fn();
    audit(db, { actor: 'cli', action, target, ok: true, detail });
    return r;
  } catch (err) {
    audit(db, { actor: 'cli', action, target, ok: false, detail: { ...detail, error: (err as Error).message } });
    throw err;
  }
}

const name = { type: 'string', arg: 'NAME', help: 'the user name' } as const;
const passwordFile = { type: 'string', arg: 'FILE', help: 'read the password from the first line of FILE' } as const;
const json = { type: 'boolean', help: 'print {"name","role","disabled"} as JSON' } as const;
const EXAMPLE_CONFIG = '--config /etc/sentinela/hub.yaml';

function requireName(n: string | undefined): string {
  if (!n) throw new UsageError('--name is required (e.g. --name ana.m)');
  return n;
}

const shown = (u: UserRow) => ({ name: u.name, role: u.role, disabled: u.disabled === 1 });

export const usersAdd = defineVerb({
  name: 'users add',
  summary: 'create a console user (admin, operator or viewer)',
  description: `Creates a user of the web console. Roles: viewer (reads everything), operator (also
acknowledges alerts, sets maintenance windows, exports backups), admin (also manages users).
The password (at least 10 characters) is asked for twice without echo, read from the first line of
standard input when it is not a terminal, or from --password-file. It is stored as an scrypt
hash (N=2^15, r=8, p=1).`,
  options: {
    ...configOption,
    name: { type: 'string', arg: 'NAME', help: 'user name (letters, digits, . _ @ -)' },
    role: { type: 'string', arg: 'ROLE', help: 'admin, operator or viewer' },
    'password-file': passwordFile,
    json: { type: 'boolean', help: 'print {"name","role","createdAt"}' },
  },
  examples: [`sentinela-hub users add ${EXAMPLE_CONFIG} --name ana.m --role operator`],
  async run({ values, io }) {
    const user = requireName(values.name);
    if (!values.role) throw new UsageError('--role is required: admin, operator or viewer');
    const role = values.role;
    loadHubConfig(values.config); // a config mistake before the password is asked for
    const password = await readPassword(values['password-file']);
    const { result: u, loginUrl: login } = await withDb(values.config, (db) =>
      audited(db, 'users.add', user, { role }, () => createUser(db, { name: user, role, password })),
    );
    if (values.json) io.out(JSON.stringify({ name: u.name, role: u.role, createdAt: u.created_at }));
    else io.out(`Created ${u.role} ${u.name}. They can log in at ${login}`);
    return EXIT_OK;
  },
});

export const usersList = defineVerb({
  name: 'users list',
  summary: 'list the console users with their role and whether they are disabled',
  description: 'Lists every console user: name, role, created, and whether the account is disabled.',
  options: { ...configOption, json: { type: 'boolean', help: 'print {"users":[…]}' } },
  examples: [`sentinela-hub users list ${EXAMPLE_CONFIG}`],
  async run({ values, io }) {
    const { result: users } = await withDb(values.config, (db) => listUsers(db));
    if (values.json) io.out(JSON.stringify({ users: users.map((u) => ({ ...u, disabled: u.disabled === 1 })) }));
    else if (users.length === 0) io.out('No users yet. Create one with: sentinela-hub users add --name NAME --role admin');
    else {
      const rows = [['NAME', 'ROLE', 'CREATED', 'STATE'], ...users.map((u) => [u.name, u.role, u.created_at, u.disabled ? 'DISABLED' : 'enabled'])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    }
    return EXIT_OK;
  },
});

function toggle(disabled: boolean) {
  const verb = disabled ? 'disable' : 'enable';
  return defineVerb({
    name: `users ${verb}`,
    summary: disabled ? 'disable a console user: no login, open sessions end at once' : 'enable a disabled console user again',
    description: disabled
      ? `Disables a user of the console: they can no longer log in and their open sessions end at once.
The account, its role and its audit history stay; "users enable" undoes it. The only enabled admin
cannot be disabled.`
      : 'Enables a disabled user again, with the same role and password.',
    options: { ...configOption, name, json },
    examples: [`sentinela-hub users ${verb} ${EXAMPLE_CONFIG} --name ana.m`],
    async run({ values, io }) {
      const user = requireName(values.name);
      const { result: u } = await withDb(values.config, (db) => audited(db, `users.${verb}`, user, null, () => setUserDisabled(db, user, disabled)));
      io.out(values.json ? JSON.stringify(shown(u)) : disabled ? `Disabled ${u.name}: they cannot log in, and their sessions have ended.` : `Enabled ${u.name} (${u.role}).`);
      return EXIT_OK;
    },
  });
}
export const usersDisable = toggle(true);
export const usersEnable = toggle(false);

export const usersDelete = defineVerb({
  name: 'users delete',
  summary: 'delete a console user and end their sessions',
  description: `Deletes a user of the console and ends their sessions. The audit log keeps what they did.
The only enabled admin cannot be deleted. To keep the account but stop its use, see "users disable".`,
  options: { ...configOption, name, json },
  examples: [`sentinela-hub users delete ${EXAMPLE_CONFIG} --name ana.m`],
  async run({ values, io }) {
    const user = requireName(values.name);
    const { result: u } = await withDb(values.config, (db) => audited(db, 'users.delete', user, null, () => deleteUser(db, user)));
    io.out(values.json ? JSON.stringify(shown(u)) : `Deleted ${u.role} ${u.name}.`);
    return EXIT_OK;
  },
});

export const usersPassword = defineVerb({
  name: 'users password',
  summary: "reset a console user's password (their sessions end)",
  description: `Sets a new password for a user (at least 10 characters), asked for twice without echo, or read
from the first line of standard input or --password-file. Their open sessions end at once.`,
  options: { ...configOption, name, 'password-file': passwordFile, json },
  examples: [`sentinela-hub users password ${EXAMPLE_CONFIG} --name ana.m`],
  async run({ values, io }) {
    const user = requireName(values.name);
    loadHubConfig(values.config);
    const password = await readPassword(values['password-file']);
    const { result: u, loginUrl: login } = await withDb(values.config, (db) => audited(db, 'users.password', user, null, () => resetPassword(db, user, password)));
    io.out(values.json ? JSON.stringify(shown(u)) : `New password set for ${u.name}; their sessions have ended. They can log in at ${login}`);
    return EXIT_OK;
  },
});
