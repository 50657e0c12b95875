/**
 * The one session and CSRF scheme of the hub's console and the agent's technician page. A session
 * is a random token in an HttpOnly, SameSite=Strict cookie; it carries its own random CSRF token
 * (synchroniser token), which every state-changing request must echo (the console in the
 * `x-csrf-token` header, the page's forms in a `csrf` field); and a request whose Origin is another
 * host is refused whatever it carries. Where sessions are kept is each program's: the hub's table
 * (users/sessions.ts), the page's memory (page/session.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { randomToken } from './secrets.js';

/** A session id or CSRF token: 192 random bits, url-safe. */
export const newSecret = (): string => randomToken(24);

/** Constant-time comparison of two secrets; a missing one never matches. */
export function sameSecret(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A browser always sends Origin on a cross-site POST: true when it names another host than `host`
 * (the Host header, or X-Forwarded-Host from a trusted proxy). No Origin is not foreign (an older
 * client, a CLI); an unreadable one, "null" included, is.
 */
export function foreignOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** A state-changing request passes when it echoes the session's token and comes from no other origin. */
export function csrfPasses(sent: unknown, expected: string | null | undefined, origin: string | undefined, host: string | undefined): boolean {
  return typeof sent === 'string' && sameSecret(sent, expected) && !foreignOrigin(origin, host);
}

/** The session cookie's attributes in both programs (Secure is added where the server speaks TLS). */
export const SESSION_COOKIE_OPTIONS = { path: '/', sameSite: 'strict', httpOnly: true } as const;
