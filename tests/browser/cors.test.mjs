// CORS in Chromium: a page of another origin calls keyvad with fetch(). The page is served by a
// tiny node HTTP server on 127.0.0.1:P; opened as http://localhost:P it is the origin keyvad's
// --cors-origins names, opened as http://127.0.0.1:P it is another origin (same server, other
// host name). keyvad itself is http://127.0.0.1:K, a third origin.
//
// Run: KEYVAD=build/cmd/keyvad/keyvad node --test tests/browser/cors.test.mjs  (CTest: "browser").

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { kvUrl, openPage, startBrowser, startKeyvad } from './harness.mjs';

const TIMEOUT = { timeout: 60000 };
const TOKEN = 'cors-secret';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let pageServer;
let pagePort;
let browser;

// The browser logs each request CORS blocks, and each 401/403 it fetched; those are the point.
const EXPECTED_CONSOLE = /CORS policy|Failed to load resource|net::ERR_FAILED|status of 40[13]/;

before(async () => {
  pageServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another origin</title><p>A page of another origin.</p>');
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pagePort = pageServer.address().port;
  browser = await startBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (pageServer) await new Promise((resolve) => pageServer.close(resolve));
});

// Opens the page at origin and returns it with its problem log.
async function pageAt(origin) {
  const opened = await openPage(browser.context);
  opened.allow(EXPECTED_CONSOLE);
  await opened.page.goto(`${origin}/`);
  return opened;
}

function assertNoProblems({ problems }) {
  assert.deepEqual(problems.exceptions, [], 'uncaught exceptions in the page');
  assert.deepEqual(problems.console, [], 'unexpected console errors in the page');
}

async function valueOf(base, key) {
  const res = await fetch(kvUrl(base, key));
  return { status: res.status, text: await res.text() };
}

describe('CORS from a page of another origin', () => {
  test('a listed origin reads, writes with If-Match and a token, and reads the headers and errors', TIMEOUT, async () => {
    const allowed = `http://localhost:${pagePort}`;
    const server = await startKeyvad({ args: ['--cors-origins', allowed, '--auth-token', TOKEN] });
    try {
      const seeded = await fetch(kvUrl(server.base, 'cors/a'), { method: 'PUT', body: 'one', headers: AUTH });
      assert.equal(seeded.status, 201);
      const opened = await pageAt(allowed);
      const result = await opened.page.evaluate(async ({ base, token }) => {
        const url = `${base}/kv/${encodeURIComponent('cors/a')}`;
        // A simple GET (no preflight), with credentials: the origin is listed, so allowed.
        const get = await fetch(url, { credentials: 'include' });
        const out = {
          get: { status: get.status, text: await get.text(), etag: get.headers.get('ETag'),
            revision: get.headers.get('X-Keyva-Revision') },
        };
        // A preflighted PUT: Authorization, If-Match and a JSON type are not simple.
        const put = await fetch(url, {
          method: 'PUT',
          body: 'two',
          headers: { Authorization: `Bearer ${token}`, 'If-Match': out.get.etag, 'Content-Type': 'text/plain; charset=utf-8' },
        });
        out.put = { status: put.status, etag: put.headers.get('ETag'), revision: put.headers.get('X-Keyva-Revision'),
          json: await put.json() };
        // A stale If-Match: the 412 and its JSON are readable.
        const stale = await fetch(url, { method: 'PUT', body: 'three', headers: { Authorization: `Bearer ${token}`, 'If-Match': out.get.etag } });
        out.stale = { status: stale.status, json: await stale.json() };
        // No token: the 401, its JSON and WWW-Authenticate are readable.
        const noToken = await fetch(url, { method: 'DELETE' });
        out.noToken = { status: noToken.status, json: await noToken.json(), auth: noToken.headers.get('WWW-Authenticate') };
        return out;
      }, { base: server.base, token: TOKEN });

      assert.equal(result.get.status, 200);
      assert.equal(result.get.text, 'one');
      assert.match(result.get.etag, /^"[0-9a-f]+"$/);
      assert.match(result.get.revision, /^\d+$/);
      assert.equal(result.put.status, 200);
      assert.match(result.put.etag, /^"[0-9a-f]+"$/);
      assert.notEqual(result.put.etag, result.get.etag);
      assert.equal(result.put.json.revision, Number(result.put.revision));
      assert.ok(Number(result.put.revision) > Number(result.get.revision));
      assert.equal(result.stale.status, 412);
      assert.equal(result.stale.json.status, 412);
      assert.equal(result.noToken.status, 401);
      assert.equal(result.noToken.json.status, 401);
      assert.match(result.noToken.auth, /Bearer/);
      assert.deepEqual(await valueOf(server.base, 'cors/a'), { status: 200, text: 'two' });
      assertNoProblems(opened);
      await opened.page.close();
    } finally {
      await server.stop();
    }
  });

  test('another origin cannot read or write: fetch fails and the store is unchanged', TIMEOUT, async () => {
    const server = await startKeyvad({ args: ['--cors-origins', `http://localhost:${pagePort}`, '--auth-token', TOKEN] });
    try {
      await fetch(kvUrl(server.base, 'cors/b'), { method: 'PUT', body: 'kept', headers: AUTH });
      const opened = await pageAt(`http://127.0.0.1:${pagePort}`);
      const result = await opened.page.evaluate(async ({ base, token }) => {
        const url = `${base}/kv/${encodeURIComponent('cors/b')}`;
        const attempt = async (init) => {
          try {
            const res = await fetch(url, init);
            return `answered ${res.status}`;
          } catch (err) {
            return err.name;
          }
        };
        return {
          get: await attempt({}),
          put: await attempt({ method: 'PUT', body: 'changed', headers: { Authorization: `Bearer ${token}`, 'If-Match': '*' } }),
          del: await attempt({ method: 'DELETE', headers: { Authorization: `Bearer ${token}` } }),
        };
      }, { base: server.base, token: TOKEN });
      assert.deepEqual(result, { get: 'TypeError', put: 'TypeError', del: 'TypeError' });
      assert.deepEqual(await valueOf(server.base, 'cors/b'), { status: 200, text: 'kept' });
      assertNoProblems(opened);
      await opened.page.close();
    } finally {
      await server.stop();
    }
  });

  test("'*' lets any origin in, but never with credentials", TIMEOUT, async () => {
    const server = await startKeyvad({ args: ['--cors-origins', '*', '--auth-token', TOKEN] });
    try {
      await fetch(kvUrl(server.base, 'cors/c'), { method: 'PUT', body: 'c', headers: AUTH });
      const opened = await pageAt(`http://127.0.0.1:${pagePort}`);
      const result = await opened.page.evaluate(async ({ base, token }) => {
        const url = `${base}/kv/${encodeURIComponent('cors/c')}`;
        const plain = await fetch(url);
        const put = await fetch(url, { method: 'PUT', body: 'c2', headers: { Authorization: `Bearer ${token}` } });
        let withCredentials;
        try {
          withCredentials = `answered ${(await fetch(url, { credentials: 'include' })).status}`;
        } catch (err) {
          withCredentials = err.name;
        }
        return { plain: plain.status, revision: plain.headers.get('X-Keyva-Revision') !== null, put: put.status, withCredentials };
      }, { base: server.base, token: TOKEN });
      assert.deepEqual(result, { plain: 200, revision: true, put: 200, withCredentials: 'TypeError' });
      assert.deepEqual(await valueOf(server.base, 'cors/c'), { status: 200, text: 'c2' });
      assertNoProblems(opened);
      await opened.page.close();
    } finally {
      await server.stop();
    }
  });
});
