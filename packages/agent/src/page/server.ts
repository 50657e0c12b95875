/**
 * The page's HTTP server: GET / (the page), GET /api/status (the status document), the PIN unlock,
 * and the actions as form posts (session + CSRF) or API posts (X-Sentinela-Pin header).
 * Nothing here waits on a backup: actions start work and return.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { csrfPasses, newSecret, SESSION_COOKIE_OPTIONS, type AgentConfig, type AgentPageConfig } from '@sentinela/shared';
import { statusDocument, saveLive, type StatusDocument } from './document.js';
import type { LiveStatus } from './rules.js';
import { ACTIONS, type ActionName, type ActionResult, type PageActions } from './actions.js';
import { renderMessage, renderPage, type ActionsView } from './html.js';
import { checkPin, pinFilePath, readPinFile } from './pin.js';
import { pinBackoff } from './pin-gate.js';
import { Sessions, type Session } from './session.js';
import { both, t, type Lang } from './i18n.js';

export interface PageServerOptions {
  config: AgentConfig;
  page: AgentPageConfig;
  actions: PageActions;
  /** The live status now (cached briefly by the caller). */
  live(): Promise<LiveStatus>;
  logger: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

const SESSION = 'sentinela_page';
const PRE = 'sentinela_page_csrf';

type Form = Record<string, string | undefined>;

/**
 * The page's routes declare no JSON schemas, so fastify's default compilers (ajv and
 * fast-json-stringify, ~400 KB of source and their objects kept for the life of the agent) are not
 * loaded. A route given a schema fails at start, loudly, instead of bringing them back unseen.
 */
const noSchemas = (): never => {
  throw new Error('the technician page declares no route schemas (its compilers are not loaded)');
};

export function buildPageServer(o: PageServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } } });
  const sessions = new Sessions();
  const pinWaits = pinBackoff(o.page.pinAttempts);
  const flashes = new Map<string, ActionResult>();

  // The same cookie and form parsers as the hub's console (fastify's own plugins).
  void app.register(fastifyCookie);
  void app.register(fastifyFormbody);

  const cookieOpts = SESSION_COOKIE_OPTIONS;
  const langOf = (req: FastifyRequest, reply: FastifyReply): Lang => {
    const q = (req.query as Record<string, string | undefined>).lang;
    if (q === 'pt' || q === 'en') {
      reply.setCookie('sentinela_lang', q, { path: '/', sameSite: 'strict', maxAge: 31_536_000 });
      return q;
    }
    const c = req.cookies.sentinela_lang;
    return c === 'pt' || c === 'en' ? c : o.page.language;
  };
  const sessionOf = (req: FastifyRequest): Session | null => sessions.get(req.cookies[SESSION]);
  const pinRecord = () => readPinFile(pinFilePath(o.config));

  /** A post from another site's page is refused even before the CSRF token is looked at. */
  /** The shared CSRF rule (shared runtime/web-session.ts): the expected token echoed, no foreign Origin. */
  const csrfOk = (req: FastifyRequest, expected: string | undefined): boolean => csrfPasses(((req.body ?? {}) as Form).csrf, expected, req.headers.origin, req.headers.host);

  /** PIN check through the client's gate: ok, wrong (403) or wait (429). */
  const tryPin = async (ip: string, pin: string | undefined): Promise<'ok' | 'wrong' | { wait: number }> => {
    const record = pinRecord();
    if (!record) return 'wrong';
    const waitMs = pinWaits.waitMs(ip);
    if (waitMs > 0) return { wait: Math.ceil(waitMs / 1000) };
    if (pin && (await checkPin(pin, record))) {
      pinWaits.clear(ip);
      return 'ok';
    }
    const failuresInARow = pinWaits.failed(ip);
    o.logger.warn({ ip, failuresInARow }, 'local page: wrong PIN');
    return 'wrong';
  };

  const document = async (): Promise<StatusDocument> => {
    const live = await o.live();
    saveLive(o.config, live);
    return statusDocument(o.config, live);
  };

  const refuse = (reply: FastifyReply, lang: Lang, code: number, body: ReturnType<typeof t>) =>
    reply.code(code).type('text/html; charset=utf-8').send(renderMessage(lang, both('page_refused'), body));

  app.get('/', async (req, reply) => {
    const lang = langOf(req, reply);
    const session = sessionOf(req);
    let pre = req.cookies[PRE];
    if (!session && !pre) {
      pre = newSecret();
      reply.setCookie(PRE, pre, cookieOpts);
    }
    const flash = session ? flashes.get(session.id) ?? null : null;
    if (session) flashes.delete(session.id);
    const view: ActionsView = {
      state: !pinRecord() ? 'none' : session ? 'open' : 'locked',
      csrf: session ? session.csrf : pre!,
      disks: o.actions.disks(),
      flash,
      verify: o.actions.verifyOutcome,
    };
    const doc = await document();
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    return renderPage({ lang, doc, now: Date.now(), refreshSeconds: o.page.refreshSeconds, actions: view, siteName: o.config.site.name ?? null });
  });

  app.get('/api/status', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return document();
  });

  app.post('/unlock', async (req, reply) => {
    const lang = langOf(req, reply);
    const form = (req.body ?? {}) as Form;
    if (!csrfOk(req, req.cookies[PRE]))
      return refuse(reply, lang, 403, both('page_form_expired'));
    if (!pinRecord()) return refuse(reply, lang, 403, both('page_pin_missing'));
    const r = await tryPin(req.ip, form.pin);
    if (r === 'wrong') return refuse(reply, lang, 403, both('page_pin_wrong'));
    if (r !== 'ok') {
      reply.header('retry-after', String(r.wait));
      return refuse(reply, lang, 429, both('page_pin_wait', { s: r.wait }));
    }
    const s = sessions.open();
    reply.setCookie(SESSION, s.id, cookieOpts);
    return reply.redirect('/', 303);
  });

  app.post('/lock', async (req, reply) => {
    const s = sessionOf(req);
    if (s && csrfOk(req, s.csrf)) sessions.close(s.id);
    return reply.redirect('/', 303);
  });

  app.post<{ Params: { name: string } }>('/actions/:name', async (req, reply) => {
    const lang = langOf(req, reply);
    const name = req.params.name as ActionName;
    if (!ACTIONS.includes(name)) return reply.code(404).send();
    const s = sessionOf(req);
    const form = (req.body ?? {}) as Form;
    if (!s || !csrfOk(req, s.csrf))
      return refuse(reply, lang, 403, both('page_actions_need_pin'));
    o.logger.info({ action: name, ip: req.ip }, `local page: ${name}`);
    flashes.set(s.id, await o.actions.run(name, form));
    return reply.redirect('/', 303);
  });

  // For scripts on the LAN: the PIN in a header on each call (a browser cannot send it cross-site).
  app.post<{ Params: { name: string } }>('/api/actions/:name', async (req, reply) => {
    const name = req.params.name as ActionName;
    if (!ACTIONS.includes(name)) return reply.code(404).send({ error: `unknown action "${name}"; actions: ${ACTIONS.join(', ')}` });
    if (!pinRecord()) return reply.code(403).send({ error: 'no PIN set: actions are disabled (sentinela-agent page set-pin)' });
    const pin = req.headers['x-sentinela-pin'];
    const r = await tryPin(req.ip, typeof pin === 'string' ? pin : undefined);
    if (r === 'wrong') return reply.code(403).send({ error: 'a valid PIN in the X-Sentinela-Pin header is required' });
    if (r !== 'ok') return reply.code(429).header('retry-after', String(r.wait)).send({ error: `too many wrong PINs: retry in ${r.wait} s` });
    const body = (typeof req.body === 'object' && req.body ? req.body : {}) as Form;
    const result = await o.actions.run(name, body);
    return reply.code(result.ok ? 202 : 409).send(result);
  });

  return app;
}
