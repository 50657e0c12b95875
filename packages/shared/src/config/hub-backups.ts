/** hub.yaml `backups:` section: the off-site store of the sites' backups. */
import { z } from 'zod';
import { byteSize } from './common.js';

export const HubBackupsConfig = z.strictObject({
  /** Most bytes one site's off-site repository may hold; an offer beyond it is refused (and logged). */
  quotaBytes: byteSize.default(50 * 1024 ** 3),
  /** Snapshots kept per site and source (plus every base a kept delta needs). */
  keepLast: z.number().int().min(1).max(100000).default(90),
  /** Keyless verify of every site's store (every object's SHA-256) this often; 0: never. */
  verifyEveryHours: z.number().min(0).max(24 * 365).default(24),
});
export type HubBackupsConfig = z.infer<typeof HubBackupsConfig>;
