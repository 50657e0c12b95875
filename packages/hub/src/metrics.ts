/** The hub's Prometheus metrics, on a private registry (several hubs can live in one test process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class HubMetrics {
  readonly registry = new Registry();
  readonly received = new Counter({
    name: 'sentinela_hub_messages_received_total',
    help: 'Up messages accepted by ingest, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'sentinela_hub_messages_refused_total',
    help: 'Messages and connections refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly siteCooldowns = new Counter({
    name: 'sentinela_hub_site_cooldowns_total',
    help: 'Times a site sent too many refused messages and was disconnected for a cool-down (mqtt.noisySites)',
    registers: [this.registry],
  });
  readonly seqJumps = new Counter({
    name: 'sentinela_hub_seq_jumps_total',
    help: "Messages whose seq was more than mqtt.maxSeqJump ahead of their stream's highest; the seqs skipped are counted as jumped, not missing",
    registers: [this.registry],
  });
  readonly futureDated = new Counter({
    name: 'sentinela_hub_messages_future_dated_total',
    help: 'Messages dated after their arrival at the hub (a site clock ahead); stored with the arrival time as their time',
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'sentinela_hub_messages_duplicate_total',
    help: 'Queued messages received again after they were stored (acked again, not stored twice)',
    registers: [this.registry],
  });
  readonly acksSent = new Counter({
    name: 'sentinela_hub_acks_sent_total',
    help: 'Ack messages published to sites',
    registers: [this.registry],
  });
  readonly commitFailures = new Counter({
    name: 'sentinela_hub_commit_failures_total',
    help: 'Ingest batches whose transaction failed (nothing acked; agents resend)',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'sentinela_hub_commit_batch_size',
    help: 'Messages per ingest commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'sentinela_hub_commit_duration_seconds',
    help: 'Time to commit one ingest batch',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Gauges read at scrape time from whoever knows the value (the broker, the database). */
  addGauges(connectedClients: () => number, sitesByState: () => Record<string, number>): void {
    new Gauge({
      name: 'sentinela_hub_mqtt_clients_connected',
      help: 'MQTT clients connected to the embedded broker',
      registers: [this.registry],
      collect() {
        this.set(connectedClients());
      },
    });
    new Gauge({
      name: 'sentinela_hub_sites',
      help: 'Sites by state (online, stale, offline, never-seen)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(sitesByState())) this.set({ state }, n);
      },
    });
  }
}
