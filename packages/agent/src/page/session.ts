/**
 * Unlocked sessions and CSRF tokens. Entering the PIN unlocks the actions for a few minutes in that
 * browser (an HttpOnly, SameSite=Strict cookie); every form carries a CSRF token, checked on each post:
 * the session's own for actions, a per-browser cookie's for the unlock form itself.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

const IDLE_MS = 10 * 60_000;
const MAX_SESSIONS = 100;

export interface Session {
  id: string;
  csrf: string;
  expires: number;
}

export const newToken = (): string => randomBytes(24).toString('base64url');

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  open(now = Date.now()): Session {
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
    const s = { id: newToken(), csrf: newToken(), expires: now + IDLE_MS };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session with this id, its idle timer renewed; null when unknown or expired. */
  get(id: string | undefined, now = Date.now()): Session | null {
    const s = id ? this.byId.get(id) : undefined;
    if (!s) return null;
    if (s.expires < now) {
      this.byId.delete(s.id);
      return null;
    }
    s.expires = now + IDLE_MS;
    return s;
  }

  close(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }
}
