export { NetworkModule } from './network-module.js';
export { WanTracker, dayOf, type WanEvent, type WanOutageRec } from './wan.js';
export { probe, tcpAttempt, dnsAttempt, hubTarget } from './probes.js';
export { mqttPing } from './mqtt-ping.js';
