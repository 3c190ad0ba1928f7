// Acceptance tests of keyva's web page: a real keyvad, Debian's headless Chromium, and a person's
// actions (clicks, typing, file uploads, keyboard). Each test uses its own key prefix (t1/, t2/,
// ...) on one shared server, and fails on any console error, uncaught exception or JavaScript
// dialog in the page. Screenshots go to $KEYVA_SCREENSHOT_DIR (docs/images/ refreshes the
// README's).
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/  (CTest: label "browser").

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeCheckedPage, ensureScreenshotDir, getBytes, horizontalOverflow, kvUrl, makePng, openPage, put, startBrowser, startKeyvad, stopAll } from './harness.mjs';

const TIMEOUT = { timeout: 60000 };
let server;
let browser;
let current;  // {page, problems, allow} of the running test

// What the list shows for each key or folder row, in order.
async function rowNames(page) {
  return page.locator('#key-list .row-name').allTextContents();
}

async function openKeysPage(prefix = '', hashExtra = '') {
  const params = new URLSearchParams();
  if (prefix) params.set('prefix', prefix);
  const q = params.toString() + hashExtra;
  await current.page.goto(`${server.base}/#/keys${q ? `?${q}` : ''}`);
  await current.page.locator('#key-list[aria-busy="false"]').waitFor({ state: 'attached' });
}

before(async () => {
  server = await startKeyvad();
  browser = await startBrowser();
});

after(async () => {
  await stopAll(browser, server);
});

beforeEach(async () => {
  current = await openPage(browser.context);
});

afterEach(() => closeCheckedPage(current));

describe('web page', () => {
  test('create a text key through the form, see it listed, open it, edit it', TIMEOUT, async () => {
    const { page } = current;
    await openKeysPage();
    await page.getByRole('link', { name: 'New key' }).click();
    await page.getByLabel('Key', { exact: true }).fill('t1/hello.txt');
    await page.getByLabel('Value as text').fill('Hello, keyva!\nSecond line.');
    await page.getByRole('button', { name: 'Create key' }).click();

    // The new key is open, and listed in its folder.
    await page.locator('#kv-name').filter({ hasText: 'hello.txt' }).waitFor();
    await page.locator('#kv-preview pre').filter({ hasText: 'Hello, keyva!' }).waitFor();
    assert.equal(await page.locator('#kv-preview pre').textContent(), 'Hello, keyva!\nSecond line.');
    await page.locator('#key-list .row-name', { hasText: 'hello.txt' }).waitFor();
    assert.match(await page.locator('#kv-meta').textContent(), /text\/plain/);

    // The root shows it as a folder; the folder and breadcrumbs lead back to it.
    await page.getByRole('link', { name: 'All keys' }).click();
    await page.locator('#key-list .row.folder', { hasText: 't1/' }).click();
    await page.locator('#crumbs [aria-current="location"]', { hasText: 't1' }).waitFor();
    await page.locator('#key-list .row.key', { hasText: 'hello.txt' }).click();
    await page.locator('#kv-preview pre').filter({ hasText: 'Hello, keyva!' }).waitFor();

    // Edit: the form holds the current text; Ctrl+Enter saves.
    await page.getByRole('link', { name: 'Edit' }).click();
    const text = page.getByLabel('Value as text');
    await text.waitFor();
    assert.equal(await text.inputValue(), 'Hello, keyva!\nSecond line.');
    await text.fill('Hello again.');
    await text.press('Control+Enter');
    await page.locator('#kv-preview pre').filter({ hasText: 'Hello again.' }).waitFor();
    assert.equal(await page.locator('#kv-preview pre').textContent(), 'Hello again.');
    const stored = await getBytes(server.base, 't1/hello.txt');
    assert.equal(stored.bytes.toString('utf8'), 'Hello again.');
  });

  test('upload a PNG file: previewed, and the bytes read back are identical', TIMEOUT, async () => {
    const { page } = current;
    const png = makePng(96, 64);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-png-')), 'gradient.png');
    fs.writeFileSync(file, png);
    await openKeysPage('t2/', '&mode=new');
    await page.getByLabel('Key', { exact: true }).fill('t2/gradient.png');
    await page.getByText('File', { exact: true }).click();
    await page.locator('#ed-file').setInputFiles(file);
    await page.locator('#ed-file-name', { hasText: 'gradient.png' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();

    const img = page.getByRole('img', { name: 'Preview of t2/gradient.png' });
    await img.waitFor();
    await page.waitForFunction(() => {
      const i = document.querySelector('#kv-preview img');
      return i && i.complete && i.naturalWidth > 0;
    });
    assert.deepEqual(await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [96, 64]);
    assert.match(await img.getAttribute('src'), /^blob:/);
    await page.getByText('96 × 64 pixels').waitFor();

    const stored = await getBytes(server.base, 't2/gradient.png');
    assert.equal(stored.status, 200);
    assert.match(stored.headers.get('content-type'), /^image\/png/);
    assert.ok(stored.bytes.equals(png), 'stored bytes differ from the uploaded file');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('delete asks in a dialog (Escape cancels), then the key disappears', TIMEOUT, async () => {
    const { page } = current;
    await put(server.base, 't3/keep', 'stays');
    await put(server.base, 't3/doomed', 'goes');
    await openKeysPage('t3/');
    await page.locator('#key-list .row.key', { hasText: 'doomed' }).click();
    await page.locator('#kv-preview pre', { hasText: 'goes' }).waitFor();

    const dialog = page.getByRole('dialog', { name: 'Delete this key?' });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /t3\/doomed/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await getBytes(server.base, 't3/doomed')).status, 200, 'Escape must not delete');

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('.toast', { hasText: 'Deleted' }).waitFor();
    await page.waitForFunction(() => ![...document.querySelectorAll('#key-list .row-name')]
      .some((n) => n.textContent === 'doomed'));
    assert.deepEqual(await rowNames(page), ['keep']);
    assert.equal((await getBytes(server.base, 't3/doomed')).status, 404);
    assert.equal(await page.locator('#key-view').isVisible(), false);
  });

  test('page through 250 keys under a prefix; the filter narrows the list', TIMEOUT, async () => {
    const { page } = current;
    const names = Array.from({ length: 250 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n) => put(server.base, `t4/${n}`, `value of ${n}`)));
    }
    await openKeysPage('t4/');
    await page.locator('#key-list .row-name', { hasText: 'item-000' }).waitFor();
    const loadMore = page.getByRole('button', { name: 'Load more' });

    let shown = await rowNames(page);
    assert.ok(shown.length > 0 && shown.length < 250, `first page has ${shown.length} rows`);
    assert.match(await page.locator('#list-count').textContent(), /Showing the first/);
    let pages = 1;
    while (await loadMore.isVisible()) {
      const before = shown.length;
      await loadMore.click();
      await page.waitForFunction((n) => document.querySelectorAll('#key-list .row').length > n, before);
      shown = await rowNames(page);
      pages++;
      assert.ok(pages < 20, 'too many pages');
    }
    assert.ok(pages >= 2, '250 keys should need more than one page');
    assert.deepEqual(shown, names, 'every key exactly once, in order');
    assert.equal(await page.locator('#list-count').textContent(), '250 keys');

    // The filter matches names by how they start, on the server.
    const filter = page.getByLabel(/Filter keys/);
    await filter.fill('item-24');
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 10);
    assert.deepEqual(await rowNames(page), names.slice(240, 250));
    await filter.fill('nothing-like-this');
    await page.locator('#list-message', { hasText: 'No keys here start with' }).waitFor();
    assert.equal(await page.locator('#key-list .row').count(), 0);
    await filter.press('Escape');
    await page.locator('#key-list .row-name', { hasText: 'item-000' }).waitFor();
    assert.equal(await filter.inputValue(), '');
  });

  test('a change made by someone else between opening and saving is reported, not overwritten', TIMEOUT, async () => {
    const { page, allow } = current;
    allow(/status of 412/);  // the browser logs the refused PUT; that refusal is the point
    await put(server.base, 't5/doc', 'version 1');
    await openKeysPage('t5/', '&key=t5%2Fdoc');
    await page.locator('#kv-preview pre', { hasText: 'version 1' }).waitFor();
    await page.getByRole('link', { name: 'Edit' }).click();
    const text = page.getByLabel('Value as text');
    await text.waitFor();
    assert.equal(await text.inputValue(), 'version 1');

    await put(server.base, 't5/doc', 'version 2 (theirs)');
    await text.fill('version 3 (mine)');
    await page.getByRole('button', { name: 'Save changes' }).click();

    const alert = page.locator('#ed-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /changed or deleted by someone else/);
    assert.equal(await text.inputValue(), 'version 3 (mine)', 'the draft is kept');
    assert.equal((await getBytes(server.base, 't5/doc')).bytes.toString(), 'version 2 (theirs)');

    await alert.getByRole('button', { name: 'Load the latest version' }).click();
    await page.locator('#kv-preview pre', { hasText: 'version 2 (theirs)' }).waitFor();
  });

  test('stored HTML and a key named like markup never run script in the page', TIMEOUT, async () => {
    const { page, problems } = current;
    const evilKey = 't6/<img src=x onerror=alert(1)>';
    const html = '<!doctype html><script>window.__pwned = 1; alert("stored")</script>'
      + '<img src=x onerror="window.__pwned = 2; alert(2)"><b>bold</b>';
    await put(server.base, 't6/page.html', html, 'text/html; charset=utf-8');
    await put(server.base, evilKey, '<img src=x onerror="window.__pwned = 3; alert(3)">');

    await openKeysPage('t6/');
    const evilRow = page.locator('#key-list .row.key', { hasText: 'onerror' });
    await evilRow.waitFor();
    assert.equal(await evilRow.locator('.row-name').textContent(), '<img src=x onerror=alert(1)>');
    await evilRow.click();
    await page.locator('#kv-name', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
    await page.locator('#kv-preview pre', { hasText: '<img src=x onerror="window.__pwned = 3' }).waitFor();
    // The delete dialog names the key too; open and cancel it.
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Value as text').waitFor();

    await page.goto(`${server.base}/#/keys?prefix=t6%2F&key=${encodeURIComponent('t6/page.html')}`);
    await page.locator('#kv-preview pre', { hasText: '<script>' }).waitFor();
    assert.equal(await page.locator('#kv-preview pre').textContent(), html, 'shown as source, verbatim');
    assert.equal(await page.locator('#kv-kind').textContent(), 'HTML source');

    await page.waitForTimeout(300);  // give any injected handler a chance to fire (it must not)
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#main img[src="x"], #main script, [onerror]').count(), 0);
    assert.deepEqual(problems.dialogs, []);

    // And the stored value itself, opened directly, is sandboxed by the server.
    const direct = await fetch(`${server.base}/kv/${encodeURIComponent('t6/page.html')}`);
    assert.match(direct.headers.get('content-security-policy') || '', /sandbox/);
    assert.equal(direct.headers.get('x-content-type-options'), 'nosniff');
  });

  test('counters: open, increment, reset with confirmation', TIMEOUT, async () => {
    const { page } = current;
    await page.goto(`${server.base}/#/counters`);
    await page.getByLabel('Counter name').fill('t-visits');
    await page.getByLabel('Counter name').press('Enter');
    const card = page.locator('.counter', { hasText: 't-visits' });
    await card.locator('.counter-value', { hasText: '0' }).waitFor();
    await card.getByRole('button', { name: 'Increment' }).click();
    await card.locator('.counter-value', { hasText: /^1$/ }).waitFor();
    await card.getByLabel('Increment t-visits by').fill('41');
    await card.getByLabel('Increment t-visits by').press('Enter');
    await card.locator('.counter-value', { hasText: /^42$/ }).waitFor();
    const res = await fetch(`${server.base}/seq/t-visits`);
    assert.equal((await res.json()).value, 42);

    // Listed by the server from then on: there after a reload.
    await page.reload();
    await card.locator('.counter-value', { hasText: /^42$/ }).waitFor();

    await card.getByRole('button', { name: 'Reset' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reset counter' }).click();
    await card.locator('.counter-value', { hasText: /^0$/ }).waitFor();

    // A reset removes the counter on the server, so the list read again no longer has it.
    await page.reload();
    await page.locator('#counter-list[aria-busy="false"]').waitFor({ state: 'attached' });
    await page.locator('#counter-empty').waitFor();
    assert.equal(await card.count(), 0);
  });

  test('engine stats show levels and the cache, and refresh by themselves', TIMEOUT, async () => {
    const { page } = current;
    await page.goto(`${server.base}/#/stats`);
    await page.locator('.card', { hasText: 'Cache hit rate' }).waitFor();
    // The dashboard folds cards whose counters are all zero (no compactions yet on this server)
    // into a closed "All zero so far" summary, so the Compactions card is there but maybe hidden.
    await page.locator('#stats-cards .card, #stats-cards-zero-cards .card', { hasText: 'Compactions' })
      .waitFor({ state: 'attached' });
    await page.locator('#stats-levels tbody tr').first().waitFor();
    // Every engine figure is listed from the server's own table, the disk-full signals included.
    for (const name of ['write_failures', 'background_failures', 'compactions_running', 'wal_bytes']) {
      await page.locator('#stats-fields tbody tr', { hasText: name }).waitFor({ state: 'attached' });
    }
    // A later poll happens without any click.
    await page.waitForRequest((r) => r.url().endsWith('/api/stats'), { timeout: 15000 });
  });

  test('at 390 px wide nothing overflows horizontally', TIMEOUT, async () => {
    const { page } = current;
    await page.setViewportSize({ width: 390, height: 844 });
    const longKey = `t7/${'a-very-long-key-name-without-spaces-'.repeat(6)}end`;
    await put(server.base, longKey, `${'wide-text-'.repeat(80)}\n${'{"k":1}'.repeat(40)}`);
    await put(server.base, 't7/data.json', JSON.stringify({ list: Array.from({ length: 30 }, (_, i) => `entry number ${i} with a fairly long string value`) }), 'application/json');
    await put(server.base, 't7/blob.bin', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256)), 'application/octet-stream');
    const views = [
      '#/keys',
      '#/keys?prefix=t7%2F',
      `#/keys?prefix=t7%2F&key=${encodeURIComponent(longKey)}`,
      `#/keys?prefix=t7%2F&key=${encodeURIComponent('t7/data.json')}`,
      `#/keys?prefix=t7%2F&key=${encodeURIComponent('t7/blob.bin')}`,
      `#/keys?prefix=t7%2F&key=${encodeURIComponent(longKey)}&mode=edit`,
      '#/keys?prefix=t7%2F&mode=new',
      '#/counters',
      '#/stats',
    ];
    for (const view of views) {
      await page.goto(`${server.base}/${view}`);
      await page.waitForLoadState('networkidle');
      assert.equal(await horizontalOverflow(page), 0, `horizontal overflow at ${view}`);
    }
    await page.goto(`${server.base}/#/keys?prefix=t7%2F&key=${encodeURIComponent('t7/data.json')}`);
    await page.locator('#kv-preview pre', { hasText: 'entry number 29' }).waitFor();
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-phone.png') });
  });

  test('keyboard: every input has a label, "/" focuses the filter, Enter submits', TIMEOUT, async () => {
    const { page } = current;
    await openKeysPage();
    const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, textarea, select')]
      .filter((el) => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.outerHTML));
    assert.deepEqual(unlabeled, []);
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'filter');
    await page.goto(`${server.base}/#/keys?mode=new`);
    await page.getByLabel('Key', { exact: true }).fill('t8/enter');
    await page.getByLabel('Key', { exact: true }).press('Enter');
    await page.locator('#kv-name', { hasText: 'enter' }).waitFor();
    assert.equal((await getBytes(server.base, 't8/enter')).status, 200);
  });

  test('a path typed into the filter opens that folder or key on Enter; the filter is in the URL', TIMEOUT, async () => {
    const { page } = current;
    await put(server.base, 't9/docs/readme.txt', 'read me first');
    await put(server.base, 't9/docs/guide/intro.txt', 'intro');
    await put(server.base, 't9/docs/guide/setup.txt', 'setup');
    await put(server.base, 't9/other', 'other');
    await openKeysPage('t9/');
    await page.locator('#key-list .row.folder', { hasText: 'docs/' }).waitFor();
    const filter = page.getByLabel(/Filter keys/);
    const here = page.locator('#crumbs [aria-current="location"]');

    // A folder path: Enter opens the folder, with an empty filter.
    await filter.fill('docs/guide/');
    await filter.press('Enter');
    await here.filter({ hasText: 'guide' }).waitFor();
    await page.locator('#key-list .row-name', { hasText: 'intro.txt' }).waitFor();
    assert.deepEqual(await rowNames(page), ['intro.txt', 'setup.txt']);
    assert.equal(await filter.inputValue(), '');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'filter');

    // A key's path: Enter opens the key (in its folder), and focus goes to its name.
    await page.locator('#crumbs a', { hasText: 't9' }).click();
    await here.filter({ hasText: 't9' }).waitFor();
    await filter.fill('docs/readme.txt');
    await filter.press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'read me first' }).waitFor();
    assert.equal(await page.locator('#kv-name').textContent(), 'readme.txt');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'kv-name');
    await here.filter({ hasText: 'docs' }).waitFor();
    assert.equal(await filter.inputValue(), '');

    // A folder and the start of a name: the folder opens, filtered by that start; the URL holds
    // the filter, so a reload (or a bookmark) shows the same list.
    await page.locator('#crumbs a', { hasText: 't9' }).click();
    await here.filter({ hasText: 't9' }).waitFor();
    await filter.fill('docs/guide/in');
    await filter.press('Enter');
    await here.filter({ hasText: 'guide' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 1);
    assert.deepEqual(await rowNames(page), ['intro.txt']);
    assert.equal(await filter.inputValue(), 'in');
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, /[?&]prefix=t9%2Fdocs%2Fguide%2F(&|$)/);
    assert.match(hash, /[?&]q=in(&|$)/);
    await page.reload();
    await page.locator('#key-list[aria-busy="false"]').waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 1);
    assert.deepEqual(await rowNames(page), ['intro.txt']);
    assert.equal(await filter.inputValue(), 'in');

    // Without a "/", Enter only narrows the list, as typing does.
    await page.goto(`${server.base}/#/keys?prefix=t9%2F`);
    await page.locator('#key-list .row.folder', { hasText: 'docs/' }).waitFor();
    await filter.fill('oth');
    await filter.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 1);
    assert.deepEqual(await rowNames(page), ['other']);
    await here.filter({ hasText: 't9' }).waitFor();
  });

  test('the open key follows changes made elsewhere; while it is edited a warning says so', TIMEOUT, async () => {
    const { page } = current;
    await put(server.base, 't10/doc', 'version 1');
    await openKeysPage('t10/', '&key=t10%2Fdoc');
    await page.locator('#kv-preview pre', { hasText: 'version 1' }).waitFor();
    await page.evaluate(() => { window.__sameDocument = true; });

    // Changed through the API: the value and its metadata update in place, without a reload.
    const second = 'version 2, from the API';
    const res2 = await put(server.base, 't10/doc', second, 'text/x-test');
    await page.locator('#kv-preview pre', { hasText: second }).waitFor();
    const revision2 = res2.headers.get('x-keyva-revision');
    assert.match(revision2, /^\d+$/);
    await page.locator('#kv-live', { hasText: `revision ${revision2}` }).waitFor();
    const meta = await page.locator('#kv-meta').textContent();
    assert.match(meta, /text\/x-test/);
    assert.match(meta, new RegExp(`${second.length} bytes`));
    assert.ok(meta.includes(res2.headers.get('etag')), 'the new ETag is shown');
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');

    // Changed while being edited: a warning with the revision, at once; the draft stays.
    await page.getByRole('link', { name: 'Edit' }).click();
    const text = page.getByLabel('Value as text');
    await text.waitFor();
    assert.equal(await text.inputValue(), second);
    await text.fill('my draft');
    const res3 = await put(server.base, 't10/doc', 'version 3 (theirs)');
    const warning = page.locator('#ed-remote');
    await warning.waitFor();
    assert.match(await warning.textContent(),
      new RegExp(`changed elsewhere \\(revision ${res3.headers.get('x-keyva-revision')}\\) while you were editing`));
    assert.equal(await text.inputValue(), 'my draft', 'the draft is kept');
    assert.equal(await page.locator('#ed-error').isVisible(), false, 'no save was tried');
    await warning.getByRole('button', { name: 'Discard mine and load theirs' }).click();
    await page.locator('#kv-preview pre', { hasText: 'version 3 (theirs)' }).waitFor();

    // Deleted elsewhere while open: said in the key view.
    const del = await fetch(kvUrl(server.base, 't10/doc'), { method: 'DELETE' });
    assert.equal(del.status, 200);
    await page.locator('#kv-alert', { hasText: 'was deleted elsewhere' }).waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  });

  test('the open folder gains keys added through the API and loses deleted ones, without a reload', TIMEOUT, async () => {
    const { page } = current;
    await put(server.base, 't11/b', 'b');
    await openKeysPage('t11/');
    await page.locator('#key-list .row-name', { hasText: 'b' }).waitFor();
    await page.locator('#list-live[data-state="live"]').waitFor();
    await page.evaluate(() => { window.__sameDocument = true; });

    await put(server.base, 't11/a', 'first by name');
    await put(server.base, 't11/sub/c', 'in a subfolder');
    await put(server.base, 't11x/elsewhere', 'not in this folder');
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 3);
    assert.deepEqual(await rowNames(page), ['a', 'b', 'sub/']);
    assert.equal(await page.locator('#list-count').textContent(), '3 keys');
    assert.match(await page.locator('#key-list .row.folder').textContent(), /1 key/);

    const del = await fetch(kvUrl(server.base, 't11/b'), { method: 'DELETE' });
    assert.equal(del.status, 200);
    await page.waitForFunction(() => document.querySelectorAll('#key-list .row').length === 2);
    assert.deepEqual(await rowNames(page), ['a', 'sub/']);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  });
});

// The page's feeds pause while the tab is hidden; coming back after the feed dropped the changes
// since, the page reads the folder and the key again instead of missing them.
describe('live updates after a gap', () => {
  test('a hidden tab whose revision was trimmed meanwhile re-reads the folder and the key', TIMEOUT, async () => {
    const small = await startKeyvad({ args: ['--watch-retention=10'] });
    try {
      const { page, allow } = current;
      // The feed answers 410 for the old revision (the streams and the page's probes): the browser
      // logs each refusal.
      allow(/status of 410/);
      await put(small.base, 'g/doc', 'before');
      await page.goto(`${small.base}/#/keys?prefix=g%2F&key=${encodeURIComponent('g/doc')}`);
      await page.locator('#kv-preview pre', { hasText: 'before' }).waitFor();
      await page.locator('#list-live[data-state="live"]').waitFor();
      const setHidden = (hidden) => page.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { value: h, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
      const probes = [];  // the long polls the page sends to learn why a stream was refused
      page.on('response', (r) => {
        if (r.url().includes('/watch?') && r.url().includes('format=ndjson')) probes.push(r.status());
      });
      await setHidden(true);  // the page closes its streams at once
      await put(small.base, 'g/doc', 'after');
      for (let i = 0; i < 20; i++) await put(small.base, `g/new-${String(i).padStart(2, '0')}`, 'x');
      // Wait until the server has trimmed the feed past what the page last saw.
      const listed = await (await fetch(`${small.base}/kv/?prefix=g%2F`)).json();
      assert.ok(listed.keys.length > 20);
      let status = 0;
      for (let i = 0; i < 600 && status !== 410; i++) {
        if (i > 0) await sleep(50);
        const res = await fetch(`${small.base}/watch?key=g%2Fdoc&since=1&format=ndjson&wait=0s`);
        status = res.status;
        await res.arrayBuffer();
      }
      assert.equal(status, 410);

      await setHidden(false);
      await page.locator('#kv-preview pre', { hasText: 'after' }).waitFor();
      await page.locator('#key-list .row-name', { hasText: 'new-19' }).waitFor();
      await page.locator('#list-live[data-state="live"]').waitFor();
      assert.deepEqual((await rowNames(page)).slice(0, 2), ['doc', 'new-00']);
      assert.ok(probes.includes(410), `the page learnt that the feed was trimmed (probes: ${probes})`);
      await page.goto('about:blank');
    } finally {
      await small.stop();
    }
  });
});

// The README's picture: the browse view with a key open, on a server holding a tidy data set.
describe('screenshots', () => {
  test('browse view with a key open', TIMEOUT, async () => {
    // Sampled every 200 ms so the Engine picture has a few seconds of sparklines.
    const demo = await startKeyvad({ args: ['--stats-interval=200ms'] });
    try {
      const { page } = current;
      const config = {
        service: 'checkout',
        version: '2.4.1',
        replicas: 3,
        features: { one_click: true, gift_cards: false, currency: ['EUR', 'USD', 'GBP'] },
        limits: { request_timeout_ms: 2500, max_cart_items: 200 },
        owner: null,
      };
      await put(demo.base, 'config/checkout.json', JSON.stringify(config), 'application/json');
      await put(demo.base, 'config/feature-flags.json', '{"dark_mode":true,"beta_search":false}', 'application/json');
      await put(demo.base, 'config/regions.json', '["eu-west","us-east","ap-south"]', 'application/json');
      await put(demo.base, 'config/motd.txt', 'Deploy freeze on Friday after 15:00.');
      await put(demo.base, 'config/theme.css', ':root { --brand: #3b5bdb; }', 'text/css');
      await put(demo.base, 'images/logo.png', makePng(64, 64));
      await put(demo.base, 'images/banner.png', makePng(320, 80));
      for (const id of [1001, 1002, 1003]) {
        await put(demo.base, `sessions/${id}`, `{"user":${id}}`, 'application/json');
      }
      await put(demo.base, 'README', 'keyva demo data');
      await page.goto(`${demo.base}/#/keys?prefix=config%2F&key=${encodeURIComponent('config/checkout.json')}`);
      await page.locator('#kv-preview pre', { hasText: 'checkout' }).waitFor();
      await page.waitForLoadState('networkidle');
      const dir = ensureScreenshotDir();
      await page.screenshot({ path: path.join(dir, 'web-browse.png') });

      await sleep(2000);  // a few seconds of history for the sparklines
      await page.goto(`${demo.base}/#/stats`);
      await page.locator('.card', { hasText: 'Cache hit rate' }).waitFor();
      await page.locator('#history-cards .spark').first().waitFor();
      await page.screenshot({ path: path.join(dir, 'web-engine.png') });
    } finally {
      // Leave the demo server's page first: its live feeds would log the server going away.
      await current.page.goto('about:blank');
      await demo.stop();
    }
  });
});
