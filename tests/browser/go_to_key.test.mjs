// "Go to key" and the New key form's checks (issue 19, finding 10), on a keyvad of its own with
// 300+ keys: a key found by its full path, by a glob and by text it holds (the server's ?glob= and
// ?contains=), with the keyboard (↑/↓/Enter/Escape); the search in the URL across a reload and
// Back; focus kept on the list after Enter on a folder or a key (finding 7); a new key's name
// refused when it is a folder or has an empty segment; a chosen file naming the key; typed JSON
// stored as application/json.
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/go_to_key.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { closeCheckedPage, ensureScreenshotDir, getBytes, openPage, put, startBrowser, startKeyvad, stopAll } from './harness.mjs';

const TIMEOUT = { timeout: 60000 };
let server;
let browser;
let current;  // {page, problems, allow} of the running test

const ITEMS = Array.from({ length: 280 }, (_, i) => `items/item-${String(i).padStart(3, '0')}`);
const LOGS = Array.from({ length: 20 }, (_, i) => `logs/log-${String(i).padStart(2, '0')}`);
const NAMED = {
  'config/app/feature-login': 'on',
  'config/app/feature-search': 'off',
  'config/app/settings.json': '{"theme":"dark"}',
  'config/db/pool.json': '{"size":8}',
  'config/web/feature-dark-mode': 'on',
  'config/web/limits': 'the web limits',
  'notes/Meeting-Notes.txt': 'agenda',
  'reports/2024/q1.json': '{"q":1}',
  'reports/2024/q2.json': '{"q":2}',
};

const gotoBox = () => current.page.getByLabel(/^Go to key/);
const matchNames = () => current.page.locator('#goto-results .row-name').allTextContents();
const activeMatch = () => current.page.evaluate(() => {
  const a = document.activeElement;
  return a && a.matches('#goto-results a.row') ? a.dataset.key : null;
});

async function openKeys(hash = '#/keys') {
  await current.page.goto(`${server.base}/${hash}`);
  await current.page.locator('#key-list[aria-busy="false"]').waitFor({ state: 'attached' });
}

// Types text into Go to key and waits for the search to answer.
async function search(text) {
  await gotoBox().fill(text);
  await current.page.locator('#goto-status', { hasText: `“${text}”` }).waitFor();
}

before(async () => {
  server = await startKeyvad();
  browser = await startBrowser();
  const all = [...ITEMS.map((k) => [k, `value of ${k}`]), ...LOGS.map((k) => [k, 'log']), ...Object.entries(NAMED)];
  assert.ok(all.length >= 300);
  for (let i = 0; i < all.length; i += 25) {
    await Promise.all(all.slice(i, i + 25).map(([k, v]) => put(server.base, k, v, k.endsWith('.json') ? 'application/json' : 'text/plain')));
  }
});

after(async () => {
  await stopAll(browser, server);
});

beforeEach(async () => {
  current = await openPage(browser.context);
});

afterEach(() => closeCheckedPage(current));

describe('go to key', () => {
  test('a full path: Enter opens that key, focus stays on its match', TIMEOUT, async () => {
    const { page } = current;
    await openKeys();
    await gotoBox().fill('config/web/limits');
    await gotoBox().press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'the web limits' }).waitFor();
    assert.equal(await page.locator('#kv-name').textContent(), 'limits');
    assert.equal(await page.locator('#kv-folder').textContent(), 'config/web/');
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, /[?&]key=config%2Fweb%2Flimits(&|$)/);
    assert.match(hash, /[?&]find=config%2Fweb%2Flimits(&|$)/);
    // The list beside it is the key's folder, with the key marked.
    await page.locator('#crumbs [aria-current="location"]', { hasText: 'web' }).waitFor();
    assert.equal(await activeMatch(), 'config/web/limits');
    assert.equal(await page.locator('#goto-results a.row[aria-current="true"]').getAttribute('data-key'), 'config/web/limits');
  });

  test('a glob lists full paths; ↓/↑ move among them, Enter opens one; Escape clears', TIMEOUT, async () => {
    const { page } = current;
    await openKeys();
    await search('config/*/feature*');
    assert.deepEqual(await matchNames(), ['config/app/feature-login', 'config/app/feature-search', 'config/web/feature-dark-mode']);
    assert.match(await page.locator('#goto-status').textContent(), /3 keys match the glob/);

    await gotoBox().press('ArrowDown');
    assert.equal(await activeMatch(), 'config/app/feature-login');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    assert.equal(await activeMatch(), 'config/app/feature-search');
    await page.keyboard.press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'off' }).waitFor();
    assert.equal(await page.locator('#kv-name').textContent(), 'feature-search');
    assert.equal(await activeMatch(), 'config/app/feature-search', 'focus stays on the match');

    // "**" crosses folders; several matches: Enter in the box opens none of them.
    await search('**.json');
    assert.deepEqual(await matchNames(), ['config/app/settings.json', 'config/db/pool.json', 'reports/2024/q1.json', 'reports/2024/q2.json']);
    await gotoBox().press('Enter');
    await page.locator('#goto-status', { hasText: 'choose one with ↓ and Enter' }).waitFor();
    assert.equal(await page.locator('#kv-name').textContent(), 'feature-search');

    // Up from the first match goes back to the box; Escape there clears the search.
    await gotoBox().press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'goto');
    await page.keyboard.press('Escape');
    assert.equal(await gotoBox().inputValue(), '');
    await page.locator('#goto-panel').waitFor({ state: 'hidden' });
    assert.doesNotMatch(await page.evaluate(() => location.hash), /find=/);
  });

  test('text anywhere in the key, any case: the one match opens on Enter; many are cut at 20', TIMEOUT, async () => {
    const { page } = current;
    await openKeys();
    await search('MEETING');
    assert.deepEqual(await matchNames(), ['notes/Meeting-Notes.txt']);
    assert.equal(await page.locator('#goto-results mark').textContent(), 'Meeting');
    await gotoBox().press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'agenda' }).waitFor();
    assert.equal(await page.locator('#kv-name').textContent(), 'Meeting-Notes.txt');

    // item-1, item-100 … item-199: 100 keys, of which the first 20 are listed.
    await search('item-1');
    const names = await matchNames();
    assert.equal(names.length, 20);
    assert.deepEqual(names, ITEMS.filter((k) => k.includes('item-1')).slice(0, 20));
    assert.match(await page.locator('#goto-status').textContent(), /first 20 keys .*there may be more/);
    await gotoBox().press('ArrowDown');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await activeMatch(), names[4]);
    await page.keyboard.press('Enter');
    await page.locator('#kv-preview pre', { hasText: `value of ${names[4]}` }).waitFor();

    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'web-go-to-key.png') });

    await search('no-such-thing');
    assert.match(await page.locator('#goto-status').textContent(), /No key matches/);
    assert.equal(await page.locator('#goto-results .row').count(), 0);
  });

  test('the search is in the URL: a reload and Back keep it', TIMEOUT, async () => {
    const { page } = current;
    await openKeys();
    await search('reports/**');
    assert.deepEqual(await matchNames(), ['reports/2024/q1.json', 'reports/2024/q2.json']);
    assert.match(await page.evaluate(() => location.hash), /[?&]find=reports%2F\*\*(&|$)/);

    await page.reload();
    await page.locator('#goto-results .row-name', { hasText: 'q2.json' }).waitFor();
    assert.equal(await gotoBox().inputValue(), 'reports/**');
    assert.deepEqual(await matchNames(), ['reports/2024/q1.json', 'reports/2024/q2.json']);

    // Open one, then a folder from the list: the search stays through both, and Back.
    await page.locator('#goto-results a.row', { hasText: 'q1.json' }).click();
    await page.locator('#kv-name', { hasText: 'q1.json' }).waitFor();
    await page.locator('#crumbs a.root').click();
    await page.locator('#key-list .row.folder', { hasText: 'config/' }).waitFor();
    assert.match(await page.evaluate(() => location.hash), /[?&]find=reports%2F\*\*(&|$)/);
    await page.goBack();
    await page.locator('#kv-name', { hasText: 'q1.json' }).waitFor();
    assert.equal(await gotoBox().inputValue(), 'reports/**');
    assert.equal(await page.locator('#goto-results .row').count(), 2);
  });

  test('focus stays on the list after Enter on a folder and on a key (finding 7)', TIMEOUT, async () => {
    const { page } = current;
    await openKeys();
    await page.locator('#key-list .row.folder', { hasText: 'config/' }).waitFor();
    const filter = page.getByLabel(/Filter keys/);
    await filter.focus();
    await filter.press('ArrowDown');
    const focusedRow = () => page.evaluate(() => {
      const a = document.activeElement;
      return a && a.matches('#key-list a.row') ? a.querySelector('.row-name').textContent : `not a row: ${a && a.tagName}`;
    });
    assert.equal(await focusedRow(), 'config/');
    await page.keyboard.press('Enter');
    await page.locator('#crumbs [aria-current="location"]', { hasText: 'config' }).waitFor();
    await page.waitForFunction(() => document.activeElement.matches('#key-list a.row'));
    assert.equal(await focusedRow(), 'app/');
    await page.keyboard.press('Enter');
    await page.locator('#crumbs [aria-current="location"]', { hasText: 'app' }).waitFor();
    await page.waitForFunction(() => document.activeElement.matches('#key-list a.row')
      && document.activeElement.textContent.includes('feature-login'));
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedRow(), 'feature-search');
    await page.keyboard.press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'off' }).waitFor();
    assert.equal(await focusedRow(), 'feature-search', 'opening a key keeps focus on its row');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('#kv-preview pre', { hasText: 'dark' }).waitFor();
    assert.equal(await focusedRow(), 'settings.json');
  });
});

describe('new key form', () => {
  test('refuses a folder and a name with an empty segment, saying why under the field', TIMEOUT, async () => {
    const { page } = current;
    await openKeys('#/keys?prefix=config%2Fapp%2F&mode=new');
    const key = page.getByLabel('Key', { exact: true });
    assert.equal(await key.inputValue(), 'config/app/');
    await page.getByLabel('Value as text').fill('something');
    await page.getByRole('button', { name: 'Create key' }).click();
    const message = page.locator('#ed-key-error');
    await message.waitFor();
    assert.match(await message.textContent(), /“config\/app\/” ends in “\/”, so it names a folder, not a key/);
    assert.equal(await key.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'ed-key');

    await key.fill('/leading//double');
    await page.getByRole('button', { name: 'Create key' }).click();
    await message.filter({ hasText: 'cannot start with “/”' }).waitFor();
    assert.match(await message.textContent(), /cannot hold “\/\/”/);

    await key.fill('');
    await page.getByRole('button', { name: 'Create key' }).click();
    await message.filter({ hasText: 'Give the key a name' }).waitFor();
    // Fixing the name takes the message away.
    await key.fill('config/app/fine');
    await message.waitFor({ state: 'hidden' });
    assert.equal(await key.getAttribute('aria-invalid'), null);

    for (const name of ['config/app/', '/leading//double', 'leading//double', '/leading/']) {
      assert.equal((await getBytes(server.base, name)).status, 404, `${name} was not stored`);
    }
  });

  test('a file chosen while the name is empty names the key; its type comes from the file', TIMEOUT, async () => {
    const { page } = current;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-upload-'));
    try {
      const file = path.join(dir, 'flags.json');
      fs.writeFileSync(file, '{"beta":true}');
      await openKeys('#/keys?prefix=config%2Fweb%2F&mode=new');
      const key = page.getByLabel('Key', { exact: true });
      await key.fill('');
      await page.getByText('File', { exact: true }).click();
      await page.locator('#ed-file').setInputFiles(file);
      assert.equal(await key.inputValue(), 'config/web/flags.json');
      assert.equal(await page.getByLabel(/Content type/).inputValue(), 'application/json');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.locator('#kv-name', { hasText: 'flags.json' }).waitFor();
      const stored = await getBytes(server.base, 'config/web/flags.json');
      assert.equal(stored.status, 200);
      assert.equal(stored.bytes.toString(), '{"beta":true}');
      assert.match(stored.headers.get('content-type'), /^application\/json/);

      // A name already given is kept.
      await openKeys('#/keys?prefix=config%2Fweb%2F&mode=new');
      await key.fill('config/web/mine');
      await page.getByText('File', { exact: true }).click();
      await page.locator('#ed-file').setInputFiles(file);
      assert.equal(await key.inputValue(), 'config/web/mine');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('typed JSON is stored as application/json; other text is left to the server', TIMEOUT, async () => {
    const { page } = current;
    await openKeys('#/keys?mode=new');
    const key = page.getByLabel('Key', { exact: true });
    await key.fill('x.json');
    await page.getByLabel('Value as text').fill('{\n  "enabled": [1, 2, 3]\n}');
    assert.equal(await page.getByLabel(/Content type/).inputValue(), '');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#kv-name', { hasText: 'x.json' }).waitFor();
    const res = await fetch(`${server.base}/kv/x.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);

    await openKeys('#/keys?mode=new');
    await key.fill('plain-note');
    await page.getByLabel('Value as text').fill('just words, not {json');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#kv-name', { hasText: 'plain-note' }).waitFor();
    const plain = await fetch(`${server.base}/kv/plain-note`);
    assert.match(plain.headers.get('content-type'), /^text\/plain/);
  });
});
