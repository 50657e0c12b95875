/**
 * Mosquitto's dynamic-security plugin, driven over its control topic: each site gets a client
 * (username = client id = site id, the password enrolment handed out) and a role that lets it
 * publish only its own up/ topics and subscribe only to its own down/ topics, the same ACL the
 * embedded broker enforces (broker/acl.ts). The hub's own client gets a role for ingest and acks.
 *
 * Commands and answers are JSON on `$CONTROL/dynamic-security/v1` and `…/response`; answers are
 * matched by correlationData, so several requests may be in flight.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { ALL_UP_FILTER, TOPIC_ROOT, siteDownFilter, siteUpFilter } from '@sentinela/shared';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
/** Roles made by the hub are named so; anything else on the broker is not ours to sweep. */
export const SITE_ROLE_PREFIX = 'sentinela-site-';
export const HUB_ROLE = 'sentinela-hub';

interface Answer {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

export class DynsecError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`Mosquitto dynamic security refused ${command}: ${reason}`);
    this.name = 'DynsecError';
  }
}

type Acl = { acltype: string; topic: string; allow: boolean; priority?: number };

export function siteAcls(siteId: string): Acl[] {
  return [
    { acltype: 'publishClientSend', topic: siteUpFilter(siteId), allow: true },
    { acltype: 'subscribePattern', topic: siteDownFilter(siteId), allow: true },
    { acltype: 'publishClientReceive', topic: siteDownFilter(siteId), allow: true },
    { acltype: 'unsubscribePattern', topic: siteDownFilter(siteId), allow: true },
  ];
}

const HUB_ACLS: Acl[] = [
  { acltype: 'subscribePattern', topic: ALL_UP_FILTER, allow: true },
  // Several instances subscribe through a shared subscription (externalBroker.shareGroup).
  { acltype: 'subscribePattern', topic: `$share/+/${ALL_UP_FILTER}`, allow: true },
  { acltype: 'publishClientReceive', topic: ALL_UP_FILTER, allow: true },
  { acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/site/+/down/#`, allow: true },
];

export class Dynsec {
  private readonly waiting = new Map<string, { resolve: (a: Answer) => void; timer: NodeJS.Timeout }>();
  private subscribed: Promise<void> | null = null;

  constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs = 10_000,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE) return;
      let answers: unknown;
      try {
        answers = (JSON.parse(payload.toString('utf8')) as { responses?: unknown } | null)?.responses;
      } catch {
        return; // not JSON: no answer of ours (the command times out with its own message)
      }
      // Any shape may arrive on this topic; only objects with our string correlationData are answers.
      if (!Array.isArray(answers)) return;
      for (const a of answers as Answer[]) {
        const w = a && typeof a === 'object' && typeof a.correlationData === 'string' ? this.waiting.get(a.correlationData) : undefined;
        if (!w) continue;
        clearTimeout(w.timer);
        this.waiting.delete(a.correlationData!);
        w.resolve(a);
      }
    });
    // A new session has no subscriptions: subscribe again on every connect.
    client.on('connect', () => (this.subscribed = null));
  }

  /** The hub's own client may ingest every site's up/ topics and send on every down/ topic. */
  async ensureHubRole(hubUsername: string): Promise<void> {
    await this.ensureRole(HUB_ROLE, HUB_ACLS);
    // Mosquitto disconnects a client whose roles change: add the role only when it is missing, or every reconnect would kick the hub again.
    const got = await this.run({ command: 'getClient', username: hubUsername });
    const roles = ((got.data as { client?: { roles?: Array<{ rolename?: string }> } } | undefined)?.client?.roles ?? []).map((r) => r.rolename);
    if (!roles.includes(HUB_ROLE)) await this.run({ command: 'addClientRole', username: hubUsername, rolename: HUB_ROLE }, ['already']);
  }

  connected(): boolean {
    return this.client.connected;
  }

  /** Creates or re-keys the site's client, with its role; idempotent. */
  async provisionSite(siteId: string, password: string): Promise<void> {
    const rolename = SITE_ROLE_PREFIX + siteId;
    await this.ensureRole(rolename, siteAcls(siteId));
    const created = await this.run(
      { command: 'createClient', username: siteId, clientid: siteId, password, textname: `Sentinela site ${siteId}`, roles: [{ rolename }] },
      ['already exists'],
    );
    if (created.error) {
      // An existing client (re-enrolment): new password, its role, and the client id pinned again.
      await this.run({ command: 'setClientPassword', username: siteId, password });
      await this.run({ command: 'setClientId', username: siteId, clientid: siteId });
      await this.run({ command: 'addClientRole', username: siteId, rolename }, ['already']);
      await this.run({ command: 'enableClient', username: siteId });
    }
  }

  /** Removes the site's client (Mosquitto drops its session) and its role; a missing one is not an error. */
  async revokeSite(siteId: string): Promise<void> {
    await this.run({ command: 'deleteClient', username: siteId }, ['not found']);
    await this.run({ command: 'deleteRole', rolename: SITE_ROLE_PREFIX + siteId }, ['not found']);
  }

  /** Site ids that have a hub-made role on the broker. */
  async provisionedSites(): Promise<string[]> {
    const a = await this.run({ command: 'listRoles', verbose: false, count: -1, offset: 0 });
    const roles = ((a.data as { roles?: unknown[] } | undefined)?.roles ?? []).filter((r): r is string => typeof r === 'string');
    return roles.filter((r) => r.startsWith(SITE_ROLE_PREFIX)).map((r) => r.slice(SITE_ROLE_PREFIX.length));
  }

  private async ensureRole(rolename: string, acls: Acl[]): Promise<void> {
    const created = await this.run({ command: 'createRole', rolename, textname: 'Sentinela', acls }, ['already exists']);
    if (!created.error) return;
    // It existed: make its ACLs exactly these (an older hub or a hand edit may have left others).
    const got = await this.run({ command: 'getRole', rolename });
    const have = ((got.data as { role?: { acls?: Acl[] } } | undefined)?.role?.acls ?? []) as Acl[];
    const key = (a: Acl) => `${a.acltype} ${a.topic}`;
    const want = new Set(acls.map(key));
    for (const a of have) if (!want.has(key(a))) await this.run({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic }, ['not found']);
    const present = new Map(have.map((a) => [key(a), a]));
    for (const a of acls) {
      const p = present.get(key(a));
      if (p && p.allow === a.allow) continue;
      if (p) await this.run({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic }, ['not found']);
      await this.run({ command: 'addRoleACL', rolename, ...a });
    }
  }

  /** Sends one command; an error whose text contains one of `tolerated` comes back as an answer instead of a throw. */
  private async run(cmd: Record<string, unknown> & { command: string }, tolerated: string[] = []): Promise<Answer> {
    // Just after a start or a broker restart the connection may be a moment away: wait for it, within the timeout.
    if (!this.client.connected) {
      const up = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => (this.client.off('connect', on), resolve(false)), this.timeoutMs);
        const on = () => (clearTimeout(timer), resolve(true));
        this.client.once('connect', on);
      });
      if (!up) throw new DynsecError(cmd.command, 'the hub is not connected to the broker');
    }
    this.subscribed ??= this.client.subscribeAsync(RESPONSE, { qos: 1 }).then((granted) => {
      if (granted.some((g) => g.qos === 128)) throw new DynsecError('subscribe', `${RESPONSE} refused: the hub's broker user is not a dynamic-security admin`);
    });
    const subscribing = this.subscribed;
    await subscribing.catch((err: unknown) => {
      if (this.subscribed === subscribing) this.subscribed = null;
      throw err;
    });
    const id = randomUUID();
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new DynsecError(cmd.command, `no answer within ${this.timeoutMs} ms (is the dynamic-security plugin loaded, and the hub's user its admin?)`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, timer });
    });
    await this.client.publishAsync(CONTROL, JSON.stringify({ commands: [{ ...cmd, correlationData: id }] }), { qos: 1 });
    const a = await answer;
    if (a.error && !tolerated.some((t) => a.error!.toLowerCase().includes(t))) throw new DynsecError(cmd.command, a.error);
    return a;
  }

  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.resolve({ command: 'closed', error: 'the hub is stopping' });
    }
  }
}
