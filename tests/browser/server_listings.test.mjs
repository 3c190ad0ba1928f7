// The web page shows what the server lists, not what the browser pieced together: folders come
// from delimiter listings (GET /kv/?prefix=P&delimiter=/), each with the server's exact key count
// and size, so every folder is on the first screen however many keys sort before it; counters come
// from GET /seq/, so one created elsewhere is listed and a mistyped name is not kept as one.
// One keyvad of its own, so the root and the counters hold exactly what each test puts there.
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/server_listings.test.mjs  (CTest: "browser").

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { closeCheckedPage, ensureScreenshotDir, kvUrl, openPage, put, startBrowser, startKeyvad, stopAll } from './harness.mjs';

const TIMEOUT = { timeout: 120000 };
let server;
let browser;
let current;

// What the list shows for each key or folder row, in order.
const rowNames = (page) => page.locator('#key-list .row-name').allTextContents();

// The meta text of the folder row named name ("12 keys · 3.4 KiB").
const folderMeta = (page, name) => page.locator('#key-list .row.folder')
  .filter({ has: page.locator('.row-name', { hasText: new RegExp(`^${name}$`) }) })
  .locator('.row-meta');

async function putAll(keys, body) {
  for (let i = 0; i < keys.length; i += 25) {
    await Promise.all(keys.slice(i, i + 25).map((k) => put(server.base, k, body(k))));
  }
}

async function post(url) {
  const res = await fetch(`${server.base}${url}`, { method: 'POST' });
  assert.ok(res.ok, `POST ${url}: ${res.status}`);
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

describe('folders from the server', () => {
  // 301 keys: 250 of them in cache/, which sorts first, more than a page of the listing (100)
  // holds; seven more folders after it, and two keys at the top. Values have known sizes.
  const FOLDERS = { 'cache/': 250, 'config/': 5, 'images/': 3, 'logs/': 16, 'sessions/': 10, 'tmp/': 2, 'users/': 8, 'zeta/': 5 };
  const VALUE_SIZE = { 'cache/': 100, 'config/': 40, 'images/': 2000, 'logs/': 300, 'sessions/': 25, 'tmp/': 7, 'users/': 64, 'zeta/': 10 };

  test('every top-level folder shows on load with its exact count and size, and stays exact', TIMEOUT, async () => {
    const { page } = current;
    const keys = [];
    for (const [folder, n] of Object.entries(FOLDERS)) {
      for (let i = 0; i < n; i++) {
        // zeta/ has a subfolder of its own: its keys count in zeta/ at the top.
        keys.push(folder === 'zeta/' && i >= 3 ? `zeta/nested/k${i}` : `${folder}item-${String(i).padStart(3, '0')}`);
      }
    }
    await putAll(keys, (k) => 'x'.repeat(VALUE_SIZE[k.slice(0, k.indexOf('/') + 1)]));
    await put(server.base, 'README', 'keyva test data');
    await put(server.base, 'VERSION', '2');
    assert.ok(keys.length + 2 >= 300);

    await page.goto(`${server.base}/#/keys`);
    await page.locator('#key-list[aria-busy="false"]').waitFor({ state: 'attached' });
    await page.locator('#key-list .row.folder', { hasText: 'zeta/' }).waitFor();

    // All of them at once, in key order, without Load more.
    assert.deepEqual(await rowNames(page), ['README', 'VERSION', ...Object.keys(FOLDERS)]);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).isVisible(), false);
    assert.equal(await page.locator('#list-count').textContent(), `${keys.length + 2} keys`);
    const expectMeta = async (folder, n, bytes) => {
      assert.equal(await folderMeta(page, folder).textContent(), `${n} ${n === 1 ? 'key' : 'keys'} · ${bytes}`, folder);
    };
    await expectMeta('cache/', 250, '24.4 KiB');     // 250 x 100 bytes
    await expectMeta('config/', 5, '200 bytes');
    await expectMeta('images/', 3, '5.9 KiB');       // 3 x 2000 bytes
    await expectMeta('logs/', 16, '4.7 KiB');        // 16 x 300 bytes
    await expectMeta('sessions/', 10, '250 bytes');
    await expectMeta('tmp/', 2, '14 bytes');
    await expectMeta('users/', 8, '512 bytes');
    await expectMeta('zeta/', 5, '50 bytes');
    const cacheRow = page.locator('#key-list .row.folder', { hasText: 'cache/' });
    assert.equal(await cacheRow.getAttribute('aria-label'), 'Folder cache/, 250 keys, 24.4 KiB');
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-folders.png') });

    // Changes made elsewhere keep the numbers exact: a key added to a folder, a new folder, a
    // folder whose keys all go.
    await page.locator('#list-live[data-state="live"]').waitFor();
    await put(server.base, 'config/new.json', '{"added":true}', 'application/json');  // 14 bytes
    await put(server.base, 'new/first', 'hello');
    for (const key of ['tmp/item-000', 'tmp/item-001']) {
      assert.equal((await fetch(kvUrl(server.base, key), { method: 'DELETE' })).status, 200);
    }
    await folderMeta(page, 'config/').filter({ hasText: '6 keys · 214 bytes' }).waitFor();
    await folderMeta(page, 'new/').filter({ hasText: '1 key · 5 bytes' }).waitFor();
    await page.waitForFunction(() => ![...document.querySelectorAll('#key-list .row-name')]
      .some((n) => n.textContent === 'tmp/'));
    assert.deepEqual(await rowNames(page),
      ['README', 'VERSION', 'cache/', 'config/', 'images/', 'logs/', 'new/', 'sessions/', 'users/', 'zeta/']);
    // A key replaced in a folder: the count stays, the size follows.
    await put(server.base, 'zeta/item-000', 'x'.repeat(1010));
    await folderMeta(page, 'zeta/').filter({ hasText: '5 keys · 1.0 KiB' }).waitFor();

    // Inside a folder: its keys and its own subfolders, by the same rules; the breadcrumbs lead back.
    await page.locator('#key-list .row.folder', { hasText: 'zeta/' }).click();
    await page.locator('#crumbs [aria-current="location"]', { hasText: 'zeta' }).waitFor();
    await page.locator('#key-list .row.folder', { hasText: 'nested/' }).waitFor();
    assert.deepEqual(await rowNames(page), ['item-000', 'item-001', 'item-002', 'nested/']);
    assert.equal(await folderMeta(page, 'nested/').textContent(), '2 keys · 20 bytes');
    await page.goBack();
    await page.locator('#key-list .row.folder', { hasText: 'cache/' }).waitFor();
    assert.equal(await folderMeta(page, 'cache/').textContent(), '250 keys · 24.4 KiB');
  });

  test('Load more pages through more folders than a page holds, each once, in order', TIMEOUT, async () => {
    const { page } = current;
    // 120 folders of two keys each under many/: more than the 100 items of a page.
    const folders = Array.from({ length: 120 }, (_, i) => `f${String(i).padStart(3, '0')}/`);
    await putAll(folders.flatMap((f) => [`many/${f}a`, `many/${f}b/deeper`]), () => 'abc');
    await page.goto(`${server.base}/#/keys?prefix=many%2F`);
    await page.locator('#key-list .row.folder', { hasText: 'f000/' }).waitFor();
    const loadMore = page.getByRole('button', { name: 'Load more' });
    let shown = await rowNames(page);
    assert.ok(shown.length < folders.length, `first page has ${shown.length} rows`);
    assert.match(await page.locator('#list-count').textContent(), /^Showing the first/);
    for (let pages = 1; await loadMore.isVisible(); pages++) {
      assert.ok(pages < 5, 'too many pages');
      const before = shown.length;
      await loadMore.click();
      await page.waitForFunction((n) => document.querySelectorAll('#key-list .row').length > n, before);
      shown = await rowNames(page);
    }
    assert.deepEqual(shown, folders, 'every folder exactly once, in order');
    const metas = await page.locator('#key-list .row.folder .row-meta').allTextContents();
    assert.deepEqual([...new Set(metas)], ['2 keys · 6 bytes']);
    assert.equal(await page.locator('#list-count').textContent(), '240 keys');
  });
});

describe('counters from the server', () => {
  test('counters made through the API are listed; a mistyped name is not kept', TIMEOUT, async () => {
    const { page } = current;
    for (let i = 0; i < 3; i++) await post('/seq/visits');
    await post('/seq/orders?by=10');
    await post('/seq/big?by=9007199254740993');  // 2^53 + 1: more than a JavaScript number holds
    await page.goto(`${server.base}/#/counters`);
    await page.locator('#counter-list[aria-busy="false"]').waitFor({ state: 'attached' });
    await page.locator('.counter', { hasText: 'visits' }).waitFor();
    assert.deepEqual(await page.locator('.counter-name').allTextContents(), ['big', 'orders', 'visits']);
    assert.deepEqual(await page.locator('.counter-value').allTextContents(), ['9007199254740993', '10', '3']);
    assert.equal(await page.locator('#counter-count').textContent(), '3 counters');
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-counters.png') });

    // Listed counters work as before: incrementing one changes it on the server.
    const visits = page.locator('.counter', { hasText: 'visits' });
    await visits.getByRole('button', { name: 'Increment' }).click();
    await visits.locator('.counter-value', { hasText: /^4$/ }).waitFor();
    assert.equal((await (await fetch(`${server.base}/seq/visits`)).json()).value, 4);

    // A name the server has no counter by: shown with a note, never listed, never remembered.
    await page.getByLabel('Counter name').fill('vistis');
    await page.getByLabel('Counter name').press('Enter');
    const typo = page.locator('.counter', { hasText: 'vistis' });
    await typo.locator('.counter-note', { hasText: 'no counter by this name yet' }).waitFor();
    assert.equal(await typo.locator('.counter-value').textContent(), '0');
    await page.reload();
    await page.locator('.counter', { hasText: 'visits' }).waitFor();
    await page.locator('#counter-list[aria-busy="false"]').waitFor({ state: 'attached' });
    assert.deepEqual(await page.locator('.counter-name').allTextContents(), ['big', 'orders', 'visits']);
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), []);

    // Opening a listed name shows it, without a note; a new name started here is listed after a reload.
    await page.getByLabel('Counter name').fill('orders');
    await page.getByLabel('Counter name').press('Enter');
    assert.equal(await page.locator('.counter', { hasText: 'orders' }).count(), 1);
    assert.equal(await page.locator('.counter-note:visible').count(), 0);
    await page.getByLabel('Counter name').fill('signups');
    await page.getByLabel('Counter name').press('Enter');
    const signups = page.locator('.counter', { hasText: 'signups' });
    await signups.locator('.counter-note').waitFor();
    await signups.getByRole('button', { name: 'Increment' }).click();
    await signups.locator('.counter-value', { hasText: /^1$/ }).waitFor();
    assert.equal(await signups.locator('.counter-note').isVisible(), false);
    await page.reload();
    await page.locator('.counter', { hasText: 'signups' }).waitFor();
    assert.deepEqual(await page.locator('.counter-name').allTextContents(), ['big', 'orders', 'signups', 'visits']);
  });

  test('more counters than a page holds: Load more brings the rest', TIMEOUT, async () => {
    const { page } = current;
    const names = Array.from({ length: 110 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n, j) => post(`/seq/${n}?by=${i + j + 1}`)));
    }
    await page.goto(`${server.base}/#/counters`);
    await page.locator('.counter', { hasText: 'page-000' }).waitFor();
    assert.match(await page.locator('#counter-count').textContent(), /^Showing the first 100 counters$/);
    await page.getByRole('button', { name: 'Load more counters' }).click();
    await page.locator('#counter-count', { hasText: /^\d+ counters$/ }).waitFor();
    const shown = await page.locator('.counter-name').allTextContents();
    assert.deepEqual(shown.filter((n) => n.startsWith('page-')), names, 'every counter exactly once, in order');
    assert.equal(await page.locator('.counter', { hasText: 'page-109' }).locator('.counter-value').textContent(), '110');
    assert.equal(await page.getByRole('button', { name: 'Load more counters' }).isVisible(), false);
  });
});
