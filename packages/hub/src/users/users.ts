/** The users table: console accounts with a role and a scrypt password hash. */
import type { Db } from '../store/db.js';
import { hashPassword, passwordProblem } from './password.js';
import { isRole, type Role } from './roles.js';

export interface UserRow {
  id: number;
  name: string;
  role: Role;
  password_hash: string;
  created_at: string;
  disabled: number;
}

export class UserError extends Error {
  constructor(
    readonly code: 'bad-name' | 'bad-role' | 'bad-password' | 'exists' | 'unknown' | 'last-admin',
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$/;

export async function createUser(db: Db, user: { name: string; role: string; password: string }, now = new Date()): Promise<UserRow> {
  if (!NAME.test(user.name)) throw new UserError('bad-name', `"${user.name}" is not a valid user name: 2-64 letters, digits, dots, dashes, @ or _`);
  if (!isRole(user.role)) throw new UserError('bad-role', `"${user.role}" is not a role: use admin, operator or viewer`);
  const problem = passwordProblem(user.password);
  if (problem) throw new UserError('bad-password', problem);
  if (getUser(db, user.name)) throw new UserError('exists', `user ${user.name} already exists`);
  const hash = await hashPassword(user.password);
  const res = db
    .prepare('INSERT OR IGNORE INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)')
    .run(user.name, user.role, hash, now.toISOString());
  if (res.changes === 0) throw new UserError('exists', `user ${user.name} already exists`);
  return getUser(db, user.name)!;
}

export function getUser(db: Db, name: string): UserRow | undefined {
  return db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
}

export function listUsers(db: Db): Array<Omit<UserRow, 'password_hash'>> {
  return db.prepare('SELECT id, name, role, created_at, disabled FROM users ORDER BY name').all() as Array<Omit<UserRow, 'password_hash'>>;
}

export function setUserRole(db: Db, name: string, role: Role): void {
  if (db.prepare('UPDATE users SET role = ? WHERE name = ?').run(role, name).changes === 0) throw new UserError('unknown', `there is no user ${name}`);
}

/** The enabled admins other than `name`: a change that would leave none is refused, or nobody could manage users from the console. */
function otherAdmins(db: Db, name: string): number {
  return (db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND name <> ?").get(name) as { n: number }).n;
}

function existing(db: Db, name: string): UserRow {
  const user = getUser(db, name);
  if (!user) throw new UserError('unknown', `there is no user ${name}`);
  return user;
}

/**
 * Disables or enables a user. A disabled user cannot log in and their open sessions end at once
 * (the session lookup joins on disabled = 0; the rows are deleted too).
 */
export function setUserDisabled(db: Db, name: string, disabled: boolean): UserRow {
  const user = existing(db, name);
  if (disabled && user.role === 'admin' && user.disabled === 0 && otherAdmins(db, user.name) === 0)
    throw new UserError('last-admin', `${user.name} is the only enabled admin; add or enable another admin first`);
  db.transaction(() => {
    db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, user.id);
    if (disabled) db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
  })();
  return getUser(db, user.name)!;
}

/** Deletes a user and their sessions; their audit entries stay (they name the user, not a row). */
export function deleteUser(db: Db, name: string): UserRow {
  const user = existing(db, name);
  if (user.role === 'admin' && user.disabled === 0 && otherAdmins(db, user.name) === 0)
    throw new UserError('last-admin', `${user.name} is the only enabled admin; add or enable another admin first`);
  db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
  return user;
}

/** Sets a new password; the user's open sessions end (whoever knew the old one is logged out). */
export async function resetPassword(db: Db, name: string, password: string): Promise<UserRow> {
  const user = existing(db, name);
  const problem = passwordProblem(password);
  if (problem) throw new UserError('bad-password', problem);
  const hash = await hashPassword(password);
  db.transaction(() => {
    db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, user.id);
    db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
  })();
  return getUser(db, user.name)!;
}
