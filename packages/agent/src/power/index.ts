export { NutClient, NutError, NutConnectionError, splitNutLine } from './nut-client.js';
export { fetchApcupsdStatus, frame as apcFrame, readFrames as apcReadFrames } from './apcupsd-client.js';
export { PowerPolicy, type PolicyOptions, type PolicyEvent, type Outage, type ShutdownReason } from './policy.js';
export { provideFinalBackup, finalBackupFor, decideFinalBackup, type FinalBackup } from './final-backup.js';
export { PowerModule } from './power-module.js';
export { PowerStore } from './store.js';
