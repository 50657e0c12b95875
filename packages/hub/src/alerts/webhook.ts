/** Optional webhook: each raised or cleared alert is POSTed as JSON. Best effort, never blocks evaluation. */
import type { Logger } from '@sentinela/shared';

export class Webhook {
  constructor(
    private readonly url: string | undefined,
    private readonly hubId: string,
    private readonly log: Logger,
  ) {}

  send(event: 'raised' | 'cleared' | 'updated', alert: Record<string, unknown>): void {
    if (!this.url) return;
    const url = this.url;
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hub: this.hubId, event, alert }),
      signal: AbortSignal.timeout(5000),
    })
      .then((res) => {
        if (!res.ok) this.log.warn({ url, status: res.status }, `alert webhook ${url} answered ${res.status}`);
      })
      .catch((err: Error) => this.log.warn({ url, err: err.message }, `alert webhook ${url} failed: ${err.message}`));
  }
}
