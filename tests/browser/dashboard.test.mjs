// The Engine tab as an operator's dashboard: sparklines of the server's own history (full from
// the first paint, not only from when the page was opened), uptime and version, data on disk
// counting the WAL, empty SST levels folded away, and — when keyvad stops — the cards kept but
// greyed, coming back live when a keyvad starts again on the same port and data directory. And
// the top bar's connection badge, driven by a heartbeat, through the same stop and restart.
// One keyvad of its own, sampling every 200 ms (--stats-interval) so history exists at once.
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/dashboard.test.mjs  (CTest: "browser").

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeCheckedPage, ensureScreenshotDir, kvUrl, openPage, put, startBrowser, startKeyvad, stopAll } from './harness.mjs';

const TIMEOUT = { timeout: 120000 };
const ARGS = ['--stats-interval=200ms'];
let dataDir;  // kept across the restart; removed at the end
let server;
let browser;
let current;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-dashboard-'));
  server = await startKeyvad({ args: ARGS, dataDir });
  browser = await startBrowser();
});

after(async () => {
  await stopAll(browser, server);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  current = await openPage(browser.context);
});

afterEach(() => closeCheckedPage(current));

// The number of samples each sparkline draws, by its data-spark name.
const sparkPoints = (page) => page.$$eval('#history-cards .spark', (cards) => Object.fromEntries(
  cards.map((c) => [c.dataset.spark, Number(c.querySelector('svg').dataset.points)])));

describe('engine dashboard', () => {
  test('history from the first paint, uptime, disk with the WAL, folded levels, greyed while down', TIMEOUT, async () => {
    const { page, allow } = current;
    // Some writes and reads, then time for the server to take several samples of them.
    for (let i = 0; i < 40; i++) await put(server.base, `d/key-${i}`, `value ${i} `.repeat(20));
    for (let i = 0; i < 40; i++) await (await fetch(kvUrl(server.base, `d/key-${i}`))).arrayBuffer();
    await sleep(1500);

    const historyRequests = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/stats/history')) historyRequests.push(r.url()); });
    await page.goto(`${server.base}/#/stats`);
    await page.locator('#history-cards .spark').first().waitFor();

    // The sparklines hold history at once: the page's first request brought several samples, and
    // no later poll (every 3 s) was needed for it.
    const points = await sparkPoints(page);
    assert.equal(historyRequests.length, 1, 'one history request so far');
    for (const name of ['requests', 'write-throughput', 'read-p99', 'write-p99', 'cache', 'memory', 'l0', 'debt', 'stalls']) {
      assert.ok(points[name] >= 5, `sparkline ${name} has ${points[name]} points right after opening`);
    }
    // Each is an image with its current value in its accessible name, and shows it as text too.
    const requests = page.locator('#history-cards .spark[data-spark="requests"]');
    const label = await requests.locator('svg').getAttribute('aria-label');
    assert.equal(await requests.locator('svg').getAttribute('role'), 'img');
    assert.match(label, /^Requests, requests per second: [\d.,]+ req\/s now/);
    assert.match(await requests.locator('.big').textContent(), /req\/s$/);
    // The history's writes show: the 2xx line rose above zero somewhere in the window.
    const path2xx = await requests.locator('path.spark-line.s-2xx').getAttribute('d');
    assert.ok(path2xx.split(/[ML]/).length > 5, `the 2xx line has points: ${path2xx}`);
    const l0 = page.locator('#history-cards .spark[data-spark="l0"]');
    assert.equal(await l0.locator('line.spark-limit').count(), 2, 'L0 is drawn against the slowdown and stop limits');
    assert.match(await l0.locator('svg').getAttribute('aria-label'), /slowdown at \d+ files, stop at \d+ files/);

    // Uptime and version, as the server reports them.
    const stats = await (await fetch(`${server.base}/api/stats`)).json();
    assert.equal(await page.locator('#stats-version').textContent(), stats.server.version);
    assert.match(await page.locator('#stats-uptime').textContent(), /^\d+ s$/);
    assert.equal(await page.locator('#stats-started').getAttribute('datetime'), new Date(stats.server.started).toISOString());

    // Data on disk is WALs + SSTs: nothing is flushed yet, so it is the WAL alone, not zero.
    const engine = stats.engine;
    assert.ok(engine.wal_bytes > 0, 'the writes are in the WAL');
    assert.equal(engine.live_sst_bytes, 0, 'nothing flushed yet');
    const disk = page.locator('#stats-cards .card', { hasText: 'Data on disk' });
    const diskText = await disk.locator('.big').textContent();
    assert.notEqual(diskText, '0 bytes');
    assert.match(await disk.locator('.sub').textContent(), /^WAL \S+ \S+ · 0 SST files 0 bytes$/);

    // Empty levels are folded: no row per empty level, a summary of the range instead.
    assert.equal(await page.locator('#stats-levels-summary').textContent(), 'L0–L6: all empty');
    assert.equal(await page.locator('#stats-levels tbody tr').count(), 1);
    // All-zero counters of a fresh database are folded into one closed summary, not shown as cards.
    const zero = page.locator('#stats-cards-zero');
    assert.match(await zero.locator('summary').textContent(), /^All zero so far: .*Compactions.*Flushes/);
    assert.equal(await zero.getAttribute('open'), null);
    assert.equal(await page.locator('#stats-cards > .card', { hasText: 'Compactions' }).count(), 0);
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-dashboard.png'), fullPage: true });

    // keyvad stops: the cards stay, greyed, with when they were last updated.
    const cardCount = await page.locator('#stats-body .card').count();
    allow(/ERR_CONNECTION_REFUSED|Failed to load resource/);
    const { port } = server;
    await server.stop();
    server = null;
    await page.locator('#stats-body.stale[aria-disabled="true"]').waitFor({ state: 'attached', timeout: 15000 });
    assert.equal(await page.locator('#stats-body .card').count(), cardCount, 'every card is still there');
    assert.ok(await page.locator('#history-cards .spark svg').first().isVisible());
    await page.locator('#stats-error', { hasText: 'The figures below are from' }).waitFor();
    assert.match(await page.locator('#stats-updated').textContent(), /^Last updated /);
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-dashboard-down.png'), fullPage: true });

    // A keyvad on the same port and data: live again by itself, history carried on.
    server = await startKeyvad({ args: ARGS, port, dataDir });
    await page.locator('#stats-body:not(.stale)').waitFor({ state: 'attached', timeout: 15000 });
    assert.equal(await page.locator('#stats-body').getAttribute('aria-disabled'), null);
    await page.locator('#stats-error').waitFor({ state: 'hidden' });
    assert.match(await page.locator('#stats-updated').textContent(), /^Updated /);
    const restarted = await (await fetch(`${server.base}/api/stats`)).json();
    assert.notEqual(restarted.server.started, stats.server.started);
    await page.locator('#stats-started').and(page.locator(`[datetime="${new Date(restarted.server.started).toISOString()}"]`)).waitFor();
    const after = await sparkPoints(page);
    assert.ok(after.requests >= points.requests, `history kept across the restart (${points.requests} → ${after.requests})`);
    await page.goto('about:blank');
  });
  test('the connection badge turns unreachable and back by itself when keyvad stops and returns', TIMEOUT, async () => {
    const { page, allow } = current;
    allow(/ERR_CONNECTION_REFUSED|Failed to load resource/);
    await page.goto(`${server.base}/#/keys`);
    await page.locator('#conn[data-state="ok"]').waitFor();
    const { port } = server;
    await server.stop();
    // No click and no other request: the heartbeat notices within 3 s (the bound).
    await page.locator('#conn[data-state="down"]').waitFor({ timeout: 3000 });
    assert.equal(await page.locator('#conn-text').textContent(), 'Server unreachable');
    server = await startKeyvad({ args: ARGS, port, dataDir });
    await page.locator('#conn[data-state="ok"]').waitFor({ timeout: 3000 });
    assert.equal(await page.locator('#conn-text').textContent(), 'Connected');
  });
});
