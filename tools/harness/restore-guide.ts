/** Reading console pages as a logged-in user sees them, and the commands the restore guide shows. */
import type { HubHandle } from './fleet.js';

const sessions = new WeakMap<HubHandle, Map<string, string>>();

/** A console page's HTML, fetched with a session of `name` (logged in once per hub and user). */
export async function consoleHtml(hub: HubHandle, path: string, name: string, password: string): Promise<string> {
  const byUser = sessions.get(hub) ?? new Map<string, string>();
  sessions.set(hub, byUser);
  let cookie = byUser.get(name);
  if (!cookie) {
    const res = await fetch(`${hub.httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
    if (!res.ok) throw new Error(`login as ${name}: ${res.status} ${await res.text()}`);
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    byUser.set(name, cookie);
  }
  const res = await fetch(`${hub.httpUrl}${path}`, { headers: { cookie } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return res.text();
}

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

/** The commands of the page's `<pre class="cmd" data-playbook="…">` blocks, by playbook, in page order. */
export function guideCommands(html: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of html.matchAll(/<pre class="cmd" data-playbook="([a-z]+)"><code>([\s\S]*?)<\/code><\/pre>/g)) (out[m[1]!] ??= []).push(unescape(m[2]!));
  return out;
}
