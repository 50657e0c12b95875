/**
 * Who may connect, and what they may subscribe to. Username = site id = MQTT client id;
 * the password is checked against the SHA-256 stored at enrolment. No anonymous clients.
 */
import { clip, hashesEqual, sha256Hex, topicBelongsToSite, type Logger } from '@sentinela/shared';
import type { AuthenticateError, Client, Subscription } from 'aedes';
import type { Db } from '../store/db.js';
import { refusalError, type Refusals } from '../limits/refusals.js';

// aedes' AuthErrorCode is a const enum in a .d.ts, which isolated builds cannot inline.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

export function remoteOf(client: Client | null): string {
  const conn = client?.conn as { remoteAddress?: string } | undefined;
  return conn?.remoteAddress ?? 'unknown address';
}

function refusal(code: number, message: string): AuthenticateError {
  return Object.assign(refusalError(message), { returnCode: code }) as AuthenticateError;
}

export function makeAuthenticate(db: Db, logger: Logger, refusals: Refusals) {
  const lookup = db.prepare('SELECT password_hash FROM sites WHERE id = ?').pluck();
  return function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const from = remoteOf(client);
    // Nobody is proven yet: a refused login counts against no site (it could name any), and is logged per address.
    const refuse = (code: number, reason: string, text: string) => {
      refusals.refuse({ site: null, remote: from, reason, text, fields: { username: username ?? null, clientId: client.id } });
      done(refusal(code, text), false);
    };
    if (!username || !password) {
      return refuse(BAD_USERNAME_OR_PASSWORD, 'auth-anonymous', `MQTT login from ${from} refused: no username or password (anonymous clients are not allowed)`);
    }
    if (client.id !== username) {
      return refuse(
        IDENTIFIER_REJECTED,
        'auth-client-id',
        `MQTT login for site ${clip(username)} from ${from} refused: client id ${JSON.stringify(clip(client.id))} must equal the site id`,
      );
    }
    let stored: string | null | undefined;
    try {
      stored = lookup.get(username) as string | null | undefined;
    } catch (err) {
      logger.error({ err }, `MQTT login for site ${clip(username)}: database error (${(err as Error).message})`);
      return done(refusal(3, 'server unavailable'), false);
    }
    if (stored === undefined) {
      return refuse(BAD_USERNAME_OR_PASSWORD, 'auth-unknown-site', `MQTT login for site ${clip(username)} from ${from} refused: unknown site`);
    }
    if (stored === null) {
      return refuse(BAD_USERNAME_OR_PASSWORD, 'auth-not-enrolled', `MQTT login for site ${username} from ${from} refused: the site has no credentials (not enrolled yet, or revoked)`);
    }
    if (!hashesEqual(sha256Hex(password.toString('utf8')), stored)) {
      return refuse(BAD_USERNAME_OR_PASSWORD, 'auth-bad-password', `MQTT login for site ${username} from ${from} refused: wrong password`);
    }
    // Checked after the password, so that only the site itself learns of its cool-down.
    const cooldown = refusals.cooldownOf(username);
    if (cooldown) {
      return refuse(
        SERVER_UNAVAILABLE,
        'cooldown',
        `MQTT login for site ${username} from ${from} refused: cooling down until ${cooldown.until} after ${cooldown.refusals} refused messages (last: ${cooldown.reason})`,
      );
    }
    logger.debug({ site: username, remote: from }, `site ${username} logged in from ${from}`);
    done(null, true);
  };
}

/** A site may subscribe only to its own down/ topics. Others get SUBACK 128 (refused), not a disconnect. */
export function makeAuthorizeSubscribe(refusals: Refusals) {
  return function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    if (topicBelongsToSite(sub.topic, client.id, 'down')) return done(null, sub);
    refusals.refuse({
      site: client.id,
      remote: remoteOf(client),
      reason: 'acl-subscribe',
      fields: { topic: sub.topic },
      text: `site ${client.id} tried to subscribe to ${JSON.stringify(clip(sub.topic))}, which is not one of its down/ topics; refused`,
    });
    done(null, null);
  };
}
