/** The local spool: opened with the site key, created on first start. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from '../repository/api.js';
import type { MasterKey } from '../repository/keys.js';
import { initRepository, openRepository } from './repo.js';

export async function openOrInitSpool(dir: string, siteId: string, key: MasterKey): Promise<Repository> {
  if (!existsSync(join(dir, 'sentinela-repo.json'))) await initRepository(dir, { siteId, key });
  return openRepository(dir, key);
}
