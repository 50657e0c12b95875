/** Server-sent events: every open console page gets a line when sites or alerts change, and refetches what it shows. */
import type { ServerResponse } from 'node:http';

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly ping: NodeJS.Timeout;

  constructor() {
    // A comment line keeps proxies and the browser from timing the stream out.
    this.ping = setInterval(() => this.write(': ping\n\n'), 25_000);
    this.ping.unref();
  }

  add(res: ServerResponse): void {
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    res.write('retry: 3000\n\n');
  }

  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  get size(): number {
    return this.clients.size;
  }

  private write(chunk: string): void {
    for (const res of this.clients) res.write(chunk);
  }

  close(): void {
    clearInterval(this.ping);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
