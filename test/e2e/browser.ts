/**
 * What the browser suites share: where chromium is, how it starts (fake camera and microphone,
 * nothing reaching out), a page per person, and polling instead of sleeping.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
export const NO_CHROMIUM = 'chromium is not installed (apt-get install chromium; .ci/run does this), or set CHROMIUM_PATH';
export const LAUNCH_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];
export const WAIT_MS = 20_000;

/** A page in a browser context of its own (its own storage, so its own guest); its errors go to `errors`. */
export async function openPage(browser: Browser, who: string, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 680 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
  // What the browser logs while the server is away (the restart test stops it): a refused
  // connection, a failed load, a send racing the server's close ("WebSocket is already in
  // CLOSING or CLOSED state"). The pages recover from those; the tests check that they do.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/WebSocket connection|WebSocket is already in CLOSING|ERR_CONNECTION_REFUSED|Failed to load resource/.test(msg.text())) {
      errors.push(`${who} console: ${msg.text()}`);
    }
  });
  return page;
}

/** Polls `check` every 100 ms until it is true; fails after `ms` naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
      if ((err as Error).message.startsWith('server exited')) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Confirmed messages on the page, in the order shown. */
export function messagesOf(page: Page): Promise<{ seq: number; text: string }[]> {
  return page.$$eval('#messages li', (items) =>
    items.map((li) => ({ seq: Number((li as HTMLElement).dataset.seq), text: li.querySelector('.text')!.textContent ?? '' })),
  );
}

export async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

export async function waitForText(page: Page, who: string, text: string): Promise<void> {
  await until(async () => (await messagesOf(page)).some((m) => m.text === text), `${who} to show "${text}"`);
}
