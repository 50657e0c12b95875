/** The DPS hub's one MQTT connection to the MoH hub, as relay `relay:<id>`, shared by the forwarder and the backup mirror. */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { relayAckTopic, RELAYED_SYNC_DOWN_FILTER, relayUsername, type HubUpstreamConfig, type Logger } from '@sentinela/shared';

export class UpstreamLink extends EventEmitter<{ connected: []; disconnected: []; message: [topic: string, payload: Buffer] }> {
  readonly client: MqttClient;
  private readonly log: Logger;

  constructor(cfg: HubUpstreamConfig, secret: string, logger: Logger) {
    super();
    this.log = logger.child({ component: 'upstream-link' });
    const id = relayUsername(cfg.relayId);
    this.client = mqtt.connect(cfg.url, {
      clientId: id,
      username: id,
      password: secret,
      clean: true, // the forwarder's cursor and the sync's `need` say where to resume; no broker session needed
      reconnectPeriod: 2000,
      connectTimeout: 15_000,
      ...(cfg.caFile ? { ca: readFileSync(cfg.caFile) } : {}),
    });
    let wasUp = false;
    this.client.on('connect', () => {
      this.client.subscribe([relayAckTopic(cfg.relayId), RELAYED_SYNC_DOWN_FILTER], { qos: 1 }, (err) => {
        if (err) return this.log.error({ err: err.message }, `could not subscribe at the MoH hub: ${err.message}`);
        wasUp = true;
        this.log.info({ url: cfg.url, relay: cfg.relayId }, `connected to the MoH hub ${cfg.url} as relay ${cfg.relayId}`);
        this.emit('connected');
      });
    });
    this.client.on('close', () => {
      if (wasUp) {
        this.log.warn({ url: cfg.url }, `connection to the MoH hub ${cfg.url} lost; retrying every 2 s`);
        this.emit('disconnected');
      }
      wasUp = false;
    });
    this.client.on('error', (err) => this.log.warn({ err: err.message }, `MoH hub ${cfg.url}: ${err.message}`));
    this.client.on('message', (topic, payload) => this.emit('message', topic, payload));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1): void {
    this.client.publish(topic, payload, { qos });
  }

  close(): Promise<void> {
    return new Promise((r) => this.client.end(false, {}, () => r()));
  }
}
