/**
 * Many sites at once for benchmarks: created and given enrolment tokens through the hub's own store
 * (as `sentinela-hub sites add` does), then enrolled through the hub's real HTTP endpoint.
 */
import { addSite, issueEnrollToken, openDb, openPostgres, SQL_STEPS, sqliteSql, type SqlStore } from '@sentinela/hub';

export interface SiteCredentials {
  siteId: string;
  password: string;
}

/** `pgUrl`: the hub's store is that PostgreSQL database (store.kind: postgres), not the SQLite file in hubDataDir. */
export async function provisionSites(hubDataDir: string, hubHttpUrl: string, count: number, prefix: string, pgUrl?: string): Promise<SiteCredentials[]> {
  const db = pgUrl ? null : openDb(hubDataDir);
  // Setup only: thousands of small commits need not each wait for the disk.
  db?.pragma('synchronous = OFF');
  const sql: SqlStore = db ? sqliteSql(db) : await openPostgres({ url: pgUrl!, steps: SQL_STEPS });
  const tokens: Array<[string, string]> = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = `${prefix}-${String(i).padStart(4, '0')}`;
      await addSite(sql, { id });
      tokens.push([id, (await issueEnrollToken(sql, id, 1)).token]);
    }
  } finally {
    await sql.close();
    db?.close();
  }
  const out: SiteCredentials[] = [];
  for (const [siteId, token] of tokens) {
    const res = await fetch(`${hubHttpUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    if (!res.ok) throw new Error(`enrolling ${siteId}: ${res.status} ${await res.text()}`);
    out.push({ siteId, password: ((await res.json()) as { password: string }).password });
  }
  return out;
}
