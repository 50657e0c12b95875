/**
 * Network health as an agent module: each round probes the LAN gateway, DNS and the hub (TCP
 * connect, and an MQTT ping on the agent's own link when it can reach it), then tells LAN from WAN:
 * gateway down = a local fault (lan-down); gateway up and hub unreachable = a WAN outage.
 */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { AgentNetworkConfig, ProbeResult, StatusNetwork } from '@sentinela/shared';
import type { AgentContext, AgentModule, StatusSections } from '../module.js';
import { interfaceCounters } from './interfaces.js';
import { mqttPing } from './mqtt-ping.js';
import { dnsAttempt, hubTarget, probe, splitHostPort, tcpAttempt } from './probes.js';
import { NetworkStore } from './store.js';
import { dayOf, WanTracker, type WanOutageRec } from './wan.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const outageView = (o: WanOutageRec | null) =>
  o ? { start: iso(o.start)!, end: iso(o.end), durationSec: o.end === null ? null : Math.round((o.end - o.start) / 1000) } : null;

export class NetworkModule implements AgentModule {
  readonly name = 'network';
  private readonly cfg: AgentNetworkConfig;
  private readonly hub: string;
  private store: NetworkStore | null = null;
  private wan: WanTracker | null = null;
  private lan: ProbeResult | null = null;
  private dns: ProbeResult | null = null;
  private hubProbe: ProbeResult;
  private mqttRttMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.network!;
    this.hub = this.cfg.hub.tcp ?? hubTarget(ctx.config.hub.mqttUrl);
    this.hubProbe = { target: this.hub, up: null, latencyMs: null, lossPct: null };
  }

  start(): void {
    this.store = new NetworkStore(join(this.ctx.config.dataDir, 'network.db'));
    this.store.prune(this.cfg.keepDays);
    const store = this.store;
    this.wan = new WanTracker(this.cfg.downAfterRounds, (day, obs, up) => store.account(day, obs, up), store.openOutage());
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.round = this.runRound()
        .catch((err: Error) => this.ctx.logger.error({ err: err.message }, `network probe round failed: ${err.message}`))
        .finally(() => {
          this.round = null;
          this.schedule(this.cfg.intervalSeconds * 1000);
        });
    }, ms);
  }

  /** The agent's own MQTT connection, when it is up: the MQTT ping rides on it. */
  private mqttClient(): MqttClient | null {
    return this.ctx.link?.mqttClient ?? null;
  }

  private async runRound(): Promise<void> {
    const { attempts, timeoutMs } = this.cfg;
    const now = Date.now();
    const gw = this.cfg.lan.gateway;
    const hub = splitHostPort(this.hub);
    const [lan, dns, hubProbe] = await Promise.all([
      gw ? probe(gw, attempts, () => tcpAttempt(splitHostPort(gw).host, splitHostPort(gw).port, timeoutMs, true)) : Promise.resolve(null),
      this.cfg.dns.names.length
        ? probe(this.cfg.dns.names.join(','), attempts, async () => {
            const all = await Promise.all(this.cfg.dns.names.map((n) => dnsAttempt(n, this.cfg.dns.servers, timeoutMs)));
            return all.find((a) => !a.ok) ?? { ok: true, ms: Math.max(...all.map((a) => a.ms)) };
          })
        : Promise.resolve(null),
      probe(this.hub, attempts, () => tcpAttempt(hub.host, hub.port, timeoutMs)),
    ]);
    const client = this.mqttClient();
    this.mqttRttMs = client ? await mqttPing(client, timeoutMs) : null;
    if (this.closed) return;
    this.lan = lan;
    this.dns = dns;
    this.hubProbe = hubProbe;
    for (const ev of this.wan!.observe(hubProbe.up === true, lan ? lan.up : null, now)) {
      if (ev.type === 'down') {
        this.store!.saveOutage({ start: ev.start, end: null });
        this.ctx.event('network.wan_down', 'warning', `The hub (${this.hub}) is unreachable: WAN down since ${iso(ev.start)}; the LAN ${lan?.up ? 'is fine' : 'is not probed'}; messages are queued`, {
          since: iso(ev.start),
          hub: this.hub,
          error: hubProbe.error,
          lanUp: lan?.up ?? null,
        });
      } else {
        this.store!.saveOutage(ev.outage);
        const o = outageView(ev.outage)!;
        this.ctx.event('network.wan_up', 'info', `The hub is reachable again after a WAN outage of ${o.durationSec} s`, { outage: o });
      }
    }
    if (lan && lan.up === false) this.ctx.logger.warn({ gateway: gw, error: lan.error }, 'the LAN gateway does not answer');
  }

  private verdict(): StatusNetwork['verdict'] {
    if (this.lan?.up === false) return 'lan-down';
    if (this.hubProbe.up === null) return 'unknown';
    return this.hubProbe.up ? 'ok' : 'wan-down';
  }

  async status(): Promise<StatusSections> {
    const now = Date.now();
    const wan = this.wan;
    return {
      network: {
        verdict: this.verdict(),
        lan: this.lan,
        dns: this.dns,
        hub: this.hubProbe,
        mqttRttMs: this.mqttRttMs,
        wan: {
          up: wan?.up ?? null,
          since: iso(wan?.since ?? null),
          uptimeTodayPct: this.store?.uptimePct(dayOf(now)) ?? null,
          uptimeYesterdayPct: this.store?.uptimePct(dayOf(now - 86_400_000)) ?? null,
          outage: outageView(wan?.outage ?? null),
          lastOutage: outageView(this.store?.lastClosed() ?? null),
        },
        interfaces: await interfaceCounters(),
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    this.store?.close();
  }
}
