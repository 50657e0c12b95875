/** Bytes for people (1.5 MiB): the one implementation, shared with the doctor reports. A module of its own so that verbs printing sizes need not load status.ts (the page and SQLite). */
import { doctor } from '@sentinela/shared';

export const formatBytes = doctor.formatSize;
