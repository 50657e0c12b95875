/** The local status page as an agent module: enabled by the `page:` config section. */
import type { AgentPageConfig } from '@sentinela/shared';
import type { FastifyInstance } from 'fastify';
import type { AgentContext, AgentModule } from '../module.js';
import { PageActions } from './actions.js';
import { gatherLive } from './live.js';
import type { LiveStatus } from './rules.js';
import { buildPageServer } from './server.js';

/** Requests within this long share one gathered status: a page load and its API calls probe once. */
const LIVE_TTL_MS = 1000;

export class PageModule implements AgentModule {
  readonly name = 'page';
  private readonly cfg: AgentPageConfig;
  private app: FastifyInstance | null = null;
  private cached: { at: number; live: Promise<LiveStatus> } | null = null;
  /** Where the page answers once started (port 0 in the config: the one the system gave). */
  address: { host: string; port: number } | null = null;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.page!;
  }

  private live(): Promise<LiveStatus> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > LIVE_TTL_MS) {
      const others = (this.ctx.modules?.() ?? []).filter((m) => m !== this);
      this.cached = { at: now, live: gatherLive(this.ctx, others) };
    }
    return this.cached.live;
  }

  async start(): Promise<void> {
    const app = buildPageServer({ config: this.ctx.config, page: this.cfg, actions: new PageActions(this.ctx), live: () => this.live(), logger: this.ctx.logger });
    const { host, port } = this.cfg.listen;
    await app.listen({ host, port });
    const a = app.server.address();
    this.address = { host, port: a && typeof a === 'object' ? a.port : port };
    this.app = app;
    this.ctx.logger.info({ url: `http://${host}:${this.address.port}/` }, `local status page on http://${host}:${this.address.port}/`);
  }

  async close(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }
}
