// The client of keyva's HTTP API (/kv/, /seq/, /api/stats, /api/limits), and plain words for
// its failures.
//
// createApi() returns one client for the whole page; views get it passed in. It keeps the
// access token in sessionStorage (so it lasts as long as the tab), reports reachability to
// onConnection, calls onUnauthorized on a 401 (with the ApiError: hadToken says whether a token
// was sent, so a wrong one can be told from none), and learns the server's limits (key and value
// size, listing page sizes) from GET /api/limits once, instead of the page copying them.

import { quoted } from './format.js';

export class ApiError extends Error {
  constructor(status, detail, response, { body = null, hadToken = false } = {}) {
    super(detail || `HTTP ${status}`);
    this.status = status;   // 0 when the server could not be reached
    this.detail = detail || '';
    this.response = response;
    this.body = body;          // the error's JSON object (403: {token, right, key}), or null
    this.hadToken = hadToken;  // the request carried an access token
  }
}

// The URL of a key: the whole key percent-encoded (slashes too), so that dot segments like
// "a/../b" reach the server as they are instead of being normalised away by the browser.
export const kvUrl = (key) => `/kv/${encodeURIComponent(key)}`;
export const seqUrl = (name) => `/seq/${encodeURIComponent(name)}`;

// The stored value's ETag from a response's ETag header: a gzip/br coded response carries the
// stored tag with "-gzip" / "-br" inside the quotes (docs/server.md, "Compression"); the page
// compares tags with those of listings and the watch feed, which are the stored ones.
export const storedEtag = (etag) => (etag ? etag.replace(/-[a-z0-9]+"$/, '"') : etag);

const TOKEN_STORAGE = 'keyva.token';
const LIMIT_FIELDS = ['max_key_size', 'max_value_size', 'max_content_type_size', 'list_limit_max', 'list_limit_default',
  'search_max_size', 'search_max_wildcards'];

// onConnection(reachable: boolean) after every request and ping; onUnauthorized(err) after a 401.
export function createApi({ onConnection = () => {}, onUnauthorized = () => {} } = {}) {
  let limitsPromise = null;  // GET /api/limits, once it has succeeded (or while it runs)
  let limitsKnown = null;    // its answer, for the error messages

  // fetch() with the access token (if any) and errors turned into ApiError. A response with
  // status 2xx or 304 is returned; anything else throws, with the server's {"error"} text when
  // it has one. quiet401: a 401 is only thrown, onUnauthorized is not called.
  async function request(method, url, { body, headers, quiet401 = false } = {}) {
    const hdrs = new Headers(headers || {});
    const token = sessionStorage.getItem(TOKEN_STORAGE);
    if (token) hdrs.set('Authorization', `Bearer ${token}`);
    let res;
    try {
      res = await fetch(url, { method, headers: hdrs, body, cache: 'no-store', credentials: 'same-origin' });
    } catch {
      onConnection(false);
      throw new ApiError(0, '');
    }
    onConnection(true);
    if (res.ok || res.status === 304) return res;
    let detail = '';
    let parsedBody = null;
    try {
      const text = await res.text();
      try {
        const parsed = JSON.parse(text);
        detail = typeof parsed.error === 'string' ? parsed.error : '';
        if (parsed && typeof parsed === 'object') parsedBody = parsed;
      } catch {
        detail = text.length < 200 ? text.trim() : '';
      }
    } catch {
      /* no body */
    }
    const err = new ApiError(res.status, detail, res, { body: parsedBody, hadToken: Boolean(token) });
    if (res.status === 401 && !quiet401) onUnauthorized(err);
    throw err;
  }

  // Asks GET /healthz (open without a token) whether the server answers, within timeoutMs;
  // onConnection hears the outcome like after any request. Never throws.
  async function ping(timeoutMs) {
    try {
      await fetch('/healthz', { cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
      onConnection(true);  // any answer, even 503 (writes refused), is a server that answers
    } catch {
      onConnection(false);
    }
  }

  // The server's limits: {max_key_size, max_value_size, max_content_type_size, list_limit_max,
  // list_limit_default, search_max_size, search_max_wildcards}, all positive integers (bytes,
  // entries of a listing page, or wildcards of a search glob). Asked once; a failed request is asked again next time.
  function limits() {
    if (limitsPromise === null) {
      limitsPromise = request('GET', '/api/limits').then((res) => res.json()).then((data) => {
        for (const field of LIMIT_FIELDS) {
          if (!Number.isSafeInteger(data[field]) || data[field] <= 0) {
            throw new Error(`the server's /api/limits has no valid "${field}"`);
          }
        }
        limitsKnown = Object.freeze(Object.fromEntries(LIMIT_FIELDS.map((f) => [f, data[f]])));
        return limitsKnown;
      });
      limitsPromise.catch(() => {
        limitsPromise = null;
      });
    }
    return limitsPromise;
  }

  // The listing's entry for exactly this key ({key, size, content_type, modified, etag,
  // expires?}): what GET of the value does not say. null when there is no such key.
  async function listEntry(key) {
    const res = await request('GET', `/kv/?${new URLSearchParams({ prefix: key, limit: '1' })}`);
    const data = await res.json();
    const entry = Array.isArray(data.keys) ? data.keys[0] : null;
    return entry && String(entry.key) === key ? entry : null;
  }

  // Plain words for a failure. context: {key} or {counter}, naming what the request was about.
  function describeError(err, context = {}) {
    if (!(err instanceof ApiError)) return `Something went wrong in the page: ${err.message || err}`;
    const what = context.key !== undefined ? `the key ${quoted(context.key)}`
      : context.counter !== undefined ? `the counter ${quoted(context.counter)}` : 'that';
    const detail = err.detail ? ` (${err.detail.replace(/\.$/, '')})` : '';
    switch (err.status) {
      case 0: return 'Cannot reach the keyva server. Check that it is running, then try again.';
      case 400: return `The server did not accept the request${detail}.`;
      case 401: return err.hadToken
        ? `The server did not accept the access token${detail}. Enter another one with “Token” at the top.`
        : 'This server needs an access token. Enter it with “Token” at the top, then try again.';
      case 403: {
        const body = err.body || {};
        if (typeof body.right === 'string' && typeof body.token === 'string') {
          return `The token ${quoted(body.token)} may not do that: it needs the right ${body.right}.`;
        }
        return `The server refused that${detail}.`;
      }
      case 404: return context.key !== undefined
        ? `There is no key named ${quoted(context.key)}. It may have been deleted or expired.`
        : `The server has no ${what}.`;
      case 405: return 'The server does not allow that here.';
      case 411: return 'The server needs to know the size of the value before it is sent.';
      case 412: return `${what[0].toUpperCase()}${what.slice(1)} changed since you opened it.`;
      case 413: return limitsKnown
        ? `That value is larger than this server accepts (at most ${limitsKnown.max_value_size} bytes).`
        : 'That value is larger than this server accepts.';
      case 414: return limitsKnown
        ? `That key is too long: keys are at most ${limitsKnown.max_key_size} bytes.`
        : 'That key is longer than this server accepts.';
      case 429:
      case 503: return 'The server is busy right now. Wait a moment and try again.';
      case 507: return 'The server’s disk is full, so nothing was written.';
      default:
        return err.status >= 500 ? `The server ran into an error${detail}. Nothing was changed.`
          : `The request failed with status ${err.status}${detail}.`;
    }
  }

  return {
    request,
    ping,
    limits,
    listEntry,
    describeError,
    token: () => sessionStorage.getItem(TOKEN_STORAGE) || '',
    setToken: (token) => sessionStorage.setItem(TOKEN_STORAGE, token),
  };
}
