/**
 * Many sites at once for benchmarks: created and given enrolment tokens through the hub's own store
 * (as `sentinela-hub sites add` does), then enrolled through the hub's real HTTP endpoint.
 */
import { createSite, issueEnrollToken, openDb } from '@sentinela/hub';

export interface SiteCredentials {
  siteId: string;
  password: string;
}

export async function provisionSites(hubDataDir: string, hubHttpUrl: string, count: number, prefix: string): Promise<SiteCredentials[]> {
  const db = openDb(hubDataDir);
  const tokens: Array<[string, string]> = [];
  try {
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const id = `${prefix}-${String(i).padStart(4, '0')}`;
        createSite(db, { id });
        tokens.push([id, issueEnrollToken(db, id, 1).token]);
      }
    })();
  } finally {
    db.close();
  }
  const out: SiteCredentials[] = [];
  for (const [siteId, token] of tokens) {
    const res = await fetch(`${hubHttpUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    if (!res.ok) throw new Error(`enrolling ${siteId}: ${res.status} ${await res.text()}`);
    out.push({ siteId, password: ((await res.json()) as { password: string }).password });
  }
  return out;
}
