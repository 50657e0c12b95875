/**
 * Headless Chromium for the browser tests (the hub console, the agent's local page): the system
 * browser through playwright-core (never a downloaded one), screenshots under test-output/screenshots/,
 * and a record of every request that left the server under test (pages must load no external asset).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './paths.js';

export const SCREENSHOTS = resolve(REPO_ROOT, 'test-output/screenshots');

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Requests to anywhere but `origin` (and data: URLs). */
  external: string[];
  /** Uncaught script errors in the page. */
  pageErrors: string[];
  /** Saves a full-page screenshot as test-output/screenshots/NAME.png; returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(profileDir: string, origin: string, viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: '/usr/bin/chromium', headless: true, viewport, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  const external: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) external.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    context,
    page,
    external,
    pageErrors,
    async shot(name) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => context.close(),
  };
}

/** Logs in to the hub console and waits until the overview has drawn. */
export async function consoleLogin(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#login-button')]);
  await page.waitForSelector('body[data-ready="1"]');
}
