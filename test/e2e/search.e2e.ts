/**
 * Search in the demo client, in chromium against a server in this process: the page lists what
 * the server ranks, in its order; an edited message is found by its new words only, a deleted
 * one never; nothing found and a refused query each say so. A click on a result shows the
 * message in the chat, paged in from the history when the page did not hold it.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { guest, request } from '../helpers/http-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { ARTIFACTS, CHROMIUM, LAUNCH_ARGS, NO_CHROMIUM, ROOT, WAIT_MS, messagesOf, openPage, send, until, waitForText } from './browser.js';

const describeWithChromium = CHROMIUM || process.env.CI ? describe : describe.skip;
if (!CHROMIUM) console.log(`search e2e ${process.env.CI ? 'cannot run' : 'skipped'}: ${NO_CHROMIUM}`);

interface Shown {
  state: string;
  status: string;
  results: { seq: number; from: string; time: string; edited: boolean; text: string }[];
}

/** Searches from the page's search box; what the panel shows once the answer is in. */
async function search(page: Page, q: string): Promise<Shown> {
  await page.evaluate(() => delete document.getElementById('search-results')!.dataset.state);
  await page.fill('#search-text', q);
  await page.press('#search-text', 'Enter');
  await page.waitForFunction(() => ['results', 'empty', 'error'].includes(document.getElementById('search-results')!.dataset.state ?? ''));
  return page.evaluate(() => ({
    state: document.getElementById('search-results')!.dataset.state!,
    status: document.getElementById('search-status')!.textContent ?? '',
    results: [...document.querySelectorAll<HTMLElement>('#search-list button.result')].map((b) => ({
      seq: Number(b.dataset.seq),
      from: b.querySelector('.from')!.textContent ?? '',
      time: b.querySelector('time')!.textContent ?? '',
      edited: !b.querySelector<HTMLElement>('.edited')!.hidden,
      text: b.querySelector('.text')!.textContent ?? '',
    })),
  }));
}

/** Searches until the page shows what `done` wants: the server indexes a change shortly after storing it. */
async function searchUntil(page: Page, q: string, done: (shown: Shown) => boolean): Promise<Shown> {
  let shown: Shown | undefined;
  await until(async () => done((shown = await search(page, q))), `the search for "${q}" to settle (last: ${JSON.stringify(shown)})`);
  return shown!;
}

const item = (page: Page, seq: number) => page.locator(`#messages li[data-seq="${seq}"]`);
/** The message is outlined as the one found, and within the chat's visible part. */
const foundInView = (page: Page, seq: number) =>
  item(page, seq).evaluate((li) => {
    const r = li.getBoundingClientRect();
    const s = document.getElementById('scroller')!.getBoundingClientRect();
    return li.classList.contains('found') && r.top >= s.top && r.bottom <= s.bottom;
  });

describeWithChromium('demo client search in a real browser (chromium)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: Browser;
  let ann: Page;
  let roomId: string;
  const pageErrors: string[] = [];

  before(async () => {
    if (!CHROMIUM) throw new Error(NO_CHROMIUM);
    if (!existsSync(join(ROOT, 'dist/public/index.html'))) throw new Error('build first: npm run build (npm run test:e2e does)');
    mkdirSync(ARTIFACTS, { recursive: true });
    // A loopback STUN port where nothing answers; a chat budget that lets one guest post 60 at once.
    server = await startServer({ STUN_URLS: 'stun:127.0.0.1:3478', RATE_LIMIT_MESSAGES: '1000' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS, timeout: WAIT_MS });
    ann = await openPage(browser, 'ann', pageErrors);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [i, page] of browser.contexts().flatMap((c) => c.pages()).entries()) {
        await page.screenshot({ path: join(ARTIFACTS, `failed-search-${i}.png`) }).catch(() => undefined);
      }
      console.log(`page errors:\n${pageErrors.join('\n')}`);
    }
  });

  it('finds a message by its current words, ranked as the server ranks; says when nothing matches and why a query is refused', async () => {
    await ann.goto(`${server.url}/`);
    await ann.fill('#name', 'Ann');
    await ann.fill('#room', 'Search');
    await ann.click('#join');
    await ann.waitForFunction(() => document.body.dataset.connection === 'connected');
    roomId = new URL(ann.url()).hash.match(/room=([^&]+)/)![1]!;

    for (const text of ['lunch at noon, anyone?', 'the release notes are ready', 'release day: release notes, release party', 'the secret word is marmalade']) {
      await send(ann, text);
      await waitForText(ann, 'Ann', text);
    }
    await item(ann, 1).getByTestId('edit').click();
    await send(ann, 'dinner at eight, anyone?');
    await item(ann, 4).getByTestId('delete').click();
    await until(async () => (await messagesOf(ann)).map((m) => m.text).join('|') === 'dinner at eight, anyone?|the release notes are ready|release day: release notes, release party|message deleted', 'Ann to show the edit and the delete');

    // The edit is found by its new word, with "(edited)", and no longer by the old one.
    const dinner = await searchUntil(ann, 'dinner', (s) => s.results.length === 1);
    expect(dinner.state).to.equal('results');
    expect(dinner.status).to.equal('1 message matches.');
    expect(dinner.results[0]).to.deep.include({ seq: 1, from: 'Ann', edited: true, text: 'dinner at eight, anyone?' });
    expect(dinner.results[0]!.time).to.match(/\d/);
    const lunch = await searchUntil(ann, 'lunch', (s) => s.state === 'empty');
    expect(lunch).to.deep.equal({ state: 'empty', status: 'No message matches “lunch”.', results: [] });
    // A deleted message is never found; a word nobody wrote finds nothing.
    expect((await searchUntil(ann, 'marmalade', (s) => s.state === 'empty')).results).to.deep.equal([]);
    expect(await search(ann, 'zebra')).to.deep.equal({ state: 'empty', status: 'No message matches “zebra”.', results: [] });

    // Several matches: the page keeps the server's order.
    const release = await searchUntil(ann, 'release notes', (s) => s.results.length === 2);
    const cat = await guest(server.url, 'Cat');
    const ranked = await request(server.url, 'GET', `/api/messages/search?${new URLSearchParams({ roomId, q: 'release notes' })}`, { token: cat.token });
    expect(release.results.map((r) => r.seq)).to.deep.equal(ranked.body.messages.map((m: { seq: number }) => m.seq));
    expect(release.status).to.equal('2 messages match.');
    await ann.screenshot({ path: join(ARTIFACTS, 'search-ann.png') });

    // A refused query shows the server's own message.
    for (const q of ['', 'a'.repeat(201)]) {
      const refused = await request(server.url, 'GET', `/api/messages/search?${new URLSearchParams({ roomId, q })}`, { token: cat.token });
      expect([refused.status, refused.body.error.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(await search(ann, q)).to.deep.equal({ state: 'error', status: `Cannot search: ${refused.body.error.message}`, results: [] });
    }
    await ann.getByTestId('search-close').click();
    expect(await ann.getByTestId('search-results').isHidden()).to.equal(true);
    expect(pageErrors, pageErrors.join('\n')).to.deep.equal([]);
  });

  it('a click on a result scrolls the chat to the message; a newcomer whose page holds only the latest page gets it from the history', async () => {
    // Sixty more messages: a page that joins now holds the latest 50 only.
    const cat = await guest(server.url, 'Cat');
    for (let i = 1; i <= 60; i++) {
      const res = await request(server.url, 'POST', '/api/messages', { token: cat.token, body: { roomId, text: `filler ${i}` } });
      expect(res.status).to.equal(201);
    }
    await waitForText(ann, 'Ann', 'filler 60');

    // Ann's page holds every message: the click scrolls up to the first one.
    expect(await foundInView(ann, 1)).to.equal(false);
    await search(ann, 'dinner');
    await ann.getByTestId('result').first().click();
    await until(() => foundInView(ann, 1), "Ann's chat to show message 1 as the one found");

    const bob = await openPage(browser, 'bob', pageErrors);
    await bob.goto(`${server.url}/#room=${roomId}`);
    await bob.fill('#name', 'Bob');
    await bob.click('#join');
    await bob.waitForFunction(() => document.body.dataset.connection === 'connected');
    await waitForText(bob, 'Bob', 'filler 60');
    const held = (await messagesOf(bob)).map((m) => m.seq);
    expect(held[0]).to.be.above(1);

    const found = await search(bob, 'dinner');
    expect(found.results.map((r) => r.seq)).to.deep.equal([1]);
    await bob.getByTestId('result').first().click();
    await until(() => foundInView(bob, 1), "Bob's chat to page in message 1 and show it as the one found");
    expect(await item(bob, 1).getByTestId('text').textContent()).to.equal('dinner at eight, anyone?');
    // Paged back from the oldest message held: still every message once, in seq order, no gap.
    const seqs = (await messagesOf(bob)).map((m) => m.seq);
    expect(seqs).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.at(-1)).to.equal(held.at(-1));
    await bob.screenshot({ path: join(ARTIFACTS, 'search-bob.png') });
    await bob.context().close();
    expect(pageErrors, pageErrors.join('\n')).to.deep.equal([]);
  });
});
