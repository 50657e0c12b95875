/**
 * Unlocked sessions and CSRF tokens, kept in memory, in the scheme the hub's console shares (shared
 * runtime/web-session.ts). Entering the PIN unlocks the actions for a few minutes in that
 * browser (an HttpOnly, SameSite=Strict cookie); every form carries a CSRF token, checked on each post:
 * the session's own for actions, a per-browser cookie's for the unlock form itself.
 */
import { newSecret } from '@sentinela/shared';

const IDLE_MS = 10 * 60_000;
const MAX_SESSIONS = 100;

export interface Session {
  id: string;
  csrf: string;
  expires: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  open(now = Date.now()): Session {
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
    const s = { id: newSecret(), csrf: newSecret(), expires: now + IDLE_MS };
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
