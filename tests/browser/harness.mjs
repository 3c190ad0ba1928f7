// Test harness for the web page: starts a real keyvad on 127.0.0.1 (port 0, temp data dir) and
// Debian's headless Chromium through playwright-core, and watches every page for console errors,
// uncaught exceptions and JavaScript dialogs.
//
// Environment: KEYVAD (required) is the keyvad binary (CTest passes $<TARGET_FILE:keyvad>);
// CHROMIUM overrides /usr/bin/chromium. No browser is ever downloaded.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
// Screenshots go to KEYVA_SCREENSHOT_DIR (CTest: the build tree), never into the checkout unless
// asked: `KEYVA_SCREENSHOT_DIR=docs/images ctest -L browser` refreshes the README's pictures.
export const SCREENSHOT_DIR = path.resolve(
  REPO_ROOT, process.env.KEYVA_SCREENSHOT_DIR || path.join(os.tmpdir(), 'keyva-screenshots'));

// A running keyvad (with extra flags args). stop() ends it with SIGTERM (SIGKILL after 10 s) and
// removes its data dir. To start one again where another was (a restart), pass the first one's
// port and dataDir: a dataDir passed in belongs to the caller and is kept by stop().
export async function startKeyvad({ args = [], port: wantedPort = 0, dataDir: givenDataDir = null } = {}) {
  const binary = process.env.KEYVAD;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error('Set KEYVAD to the keyvad binary (CTest does this), e.g. KEYVAD=build/cmd/keyvad/keyvad');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-browser-'));
  const portFile = path.join(dir, 'port');
  const dataDir = givenDataDir || path.join(dir, 'data');
  const child = spawn(binary, ['--addr', `127.0.0.1:${wantedPort}`, '--port-file', portFile, '--data-dir', dataDir,
    '--sync', 'none', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));

  const deadline = Date.now() + 20000;
  let port = 0;
  while (Date.now() < deadline && exited === null) {
    try {
      const text = fs.readFileSync(portFile, 'utf8').trim();
      if (/^\d+$/.test(text) && Number(text) > 0) {
        port = Number(text);
        break;
      }
    } catch {
      /* not written yet */
    }
    await sleep(50);
  }
  if (!port) {
    child.kill('SIGKILL');
    throw new Error(`keyvad did not start (exit ${JSON.stringify(exited)}):\n${output}`);
  }
  const base = `http://127.0.0.1:${port}`;
  // Wait until it answers HTTP.
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  return {
    base,
    port,
    dataDir,
    output: () => output,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Headless Chromium with a fresh profile. close() ends it and removes the profile.
export async function startBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) {
    throw new Error(`No Chromium at ${executablePath}: run scripts/install-deps.sh --browser`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'keyva-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Opens a page that records problems: console errors, uncaught exceptions, dialogs (alert and
// friends) and failed requests. allow(regex) accepts console errors matching it (for a status
// the test itself provokes, such as 412).
export async function openPage(context) {
  const page = await context.newPage();
  const problems = { console: [], exceptions: [], dialogs: [] };
  const allowed = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (!allowed.some((re) => re.test(text))) problems.console.push(text);
  });
  page.on('pageerror', (err) => problems.exceptions.push(String(err)));
  page.on('dialog', async (dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  return {
    page,
    problems,
    allow(re) {
      allowed.push(re);
    },
  };
}

// Closes a page openPage opened and fails the test on what the page did wrong: uncaught
// exceptions, JavaScript dialogs and console errors (other than those allowed).
export async function closeCheckedPage({ page, problems }) {
  await page.close();
  assert.deepEqual(problems.exceptions, [], 'uncaught exceptions in the page');
  assert.deepEqual(problems.dialogs, [], 'JavaScript dialogs opened by the page');
  assert.deepEqual(problems.console, [], 'console errors in the page');
}

// Ends what a test file started: its browser, then its keyvad (either may be missing).
export async function stopAll(browser, server) {
  if (browser) await browser.close();
  if (server) await server.stop();
}

// API helpers (Node's fetch) for seeding and checking what the page did.
export const kvUrl = (base, key) => `${base}/kv/${encodeURIComponent(key)}`;

export async function put(base, key, body, contentType) {
  const headers = contentType ? { 'Content-Type': contentType } : {};
  const res = await fetch(kvUrl(base, key), { method: 'PUT', body, headers });
  if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
  return res;
}

export async function getBytes(base, key) {
  const res = await fetch(kvUrl(base, key));
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

// A valid RGBA PNG of width x height with a gradient, made here so no image file is needed.
export function makePng(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 6;  // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    raw[row] = 0;  // no filter
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 4;
      raw[i] = Math.round((x / Math.max(1, width - 1)) * 255);
      raw[i + 1] = Math.round((y / Math.max(1, height - 1)) * 180) + 40;
      raw[i + 2] = 219;
      raw[i + 3] = 255;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Width the document overflows the viewport by (0 when nothing sticks out horizontally).
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    return Math.max(doc.scrollWidth, document.body.scrollWidth) - doc.clientWidth;
  });
}

export function ensureScreenshotDir() {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return SCREENSHOT_DIR;
}
