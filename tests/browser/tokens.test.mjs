// The web page under scoped tokens (--tokens-file, --auth-reads) in Chromium: it asks for a token
// at once when reads need one and lists after it is entered; a wrong token says so; it offers only
// the actions the token may do (GET /api/token), per key prefix; a refusal names the missing right.
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/tokens.test.mjs  (CTest: "browser").

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { closeCheckedPage, kvUrl, openPage, startBrowser, startKeyvad, stopAll } from './harness.mjs';

const TIMEOUT = { timeout: 60000 };
const TOKENS = {
  all: { secret: 'all-secret', rights: 'read write delete admin' },
  reader: { secret: 'reader-secret', rights: 'read' },
  writerA: { secret: 'writer-a-secret', rights: 'read write:kv/a/ delete:kv/a/ write:seq/a/' },
};
let dir;
let server;
let browser;
let current;

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

async function seed(key, body) {
  const res = await fetch(kvUrl(server.base, key), {
    method: 'PUT', body, headers: { Authorization: `Bearer ${TOKENS.all.secret}` },
  });
  assert.ok(res.ok, `seeding ${key}: ${res.status}`);
}

async function valueOf(key) {
  const res = await fetch(kvUrl(server.base, key), { headers: { Authorization: `Bearer ${TOKENS.all.secret}` } });
  return res.status === 200 ? res.text() : res.status;
}

// Types token into the token dialog, which must be open, and waits for it to close (unless
// refused: the server's 401 then reopens it at once).
async function enterToken(page, token, { refused = false } = {}) {
  const dialog = page.getByRole('dialog', { name: 'Access token needed' });
  await dialog.waitFor();
  await dialog.getByLabel('Access token').fill(token);
  await dialog.getByRole('button', { name: 'Use token' }).click();
  if (!refused) await dialog.waitFor({ state: 'hidden' });
}

// Opens the page (no token in a fresh tab), enters token when asked, waits for the listing.
async function openWithToken(hash, token) {
  const { page } = current;
  await page.goto(`${server.base}/${hash}`);
  await enterToken(page, token);
  await page.getByRole('button', { name: /^Token: / }).waitFor();
  await page.locator('#key-list[aria-busy="false"]').waitFor({ state: 'attached' });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-tokens-'));
  const file = path.join(dir, 'tokens');
  fs.writeFileSync(file, Object.entries(TOKENS)
    .map(([name, { secret, rights }]) => `${name} ${sha256(secret)} ${rights}\n`).join(''));
  server = await startKeyvad({ args: ['--tokens-file', file, '--auth-reads'] });
  browser = await startBrowser();
  await seed('a/x', 'in a');
  await seed('b/y', 'in b');
});

after(async () => {
  await stopAll(browser, server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  current = await openPage(browser.context);
  // The browser logs the 401s and 403s the tests provoke.
  current.allow(/status of 40[13]/);
});

afterEach(() => closeCheckedPage(current));

describe('web page with scoped tokens', () => {
  test('with --auth-reads the page asks for a token at once, says when it is wrong, then lists', TIMEOUT, async () => {
    const { page } = current;
    await page.goto(`${server.base}/#/keys`);
    const dialog = page.getByRole('dialog', { name: 'Access token needed' });
    await dialog.waitFor();
    assert.equal(await page.locator('#key-list .row').count(), 0);

    await enterToken(page, 'not-a-token', { refused: true });
    await dialog.locator('#token-error', { hasText: 'did not accept that token' }).waitFor();

    await enterToken(page, TOKENS.reader.secret);
    await page.locator('#key-list .row.folder', { hasText: 'a/' }).waitFor();
    await page.locator('#key-list .row.folder', { hasText: 'b/' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Token: reader' }).isVisible(), true);
  });

  test('a read-only token sees no New key, Edit, Delete or save', TIMEOUT, async () => {
    const { page } = current;
    await openWithToken('#/keys?prefix=a/', TOKENS.reader.secret);
    await page.locator('#key-list .row.key', { hasText: 'x' }).click();
    await page.locator('#kv-preview pre', { hasText: 'in a' }).waitFor();
    assert.equal(await page.locator('#kv-edit').isVisible(), false);
    assert.equal(await page.locator('#kv-delete').isVisible(), false);
    assert.equal(await page.locator('#new-key').isVisible(), false);
    // The editor reached by its URL offers no save either.
    await page.goto(`${server.base}/#/keys?prefix=a/&key=a%2Fx&mode=edit`);
    await page.locator('#editor').waitFor();
    assert.equal(await page.locator('#ed-save').isVisible(), false);
  });

  test('a token with write on a/ edits a/x but is offered nothing on b/y', TIMEOUT, async () => {
    const { page } = current;
    await openWithToken('#/keys?prefix=a/&key=a%2Fx', TOKENS.writerA.secret);
    await page.locator('#kv-preview pre', { hasText: 'in a' }).waitFor();
    assert.equal(await page.locator('#new-key').isVisible(), true);
    assert.equal(await page.locator('#kv-delete').isVisible(), true);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Value as text').fill('edited in a');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#kv-preview pre', { hasText: 'edited in a' }).waitFor();
    assert.equal(await valueOf('a/x'), 'edited in a');

    await page.getByRole('link', { name: 'All keys' }).click();
    await page.locator('#key-list .row.folder', { hasText: 'b/' }).click();
    await page.locator('#key-list .row.key', { hasText: 'y' }).click();
    await page.locator('#kv-preview pre', { hasText: 'in b' }).waitFor();
    assert.equal(await page.locator('#kv-edit').isVisible(), false);
    assert.equal(await page.locator('#kv-delete').isVisible(), false);
    assert.equal(await page.locator('#new-key').isVisible(), false);
  });

  test('a refused write says which right is missing', TIMEOUT, async () => {
    const { page } = current;
    await openWithToken('#/keys?prefix=a/&mode=new', TOKENS.writerA.secret);
    await page.getByLabel('Key', { exact: true }).fill('b/new');
    await page.getByLabel('Value as text').fill('not allowed');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#ed-error-text', { hasText: 'write:kv/b/new' }).waitFor();
    assert.match(await page.locator('#ed-error-text').textContent(), /token “writerA” may not do that/);
    assert.equal(await valueOf('b/new'), 404);
  });
});
