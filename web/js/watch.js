// The watch feed (GET /watch: Server-Sent Events, docs/server.md "Watch: the change feed"):
// follow() hands each change to a folder (a prefix) or to one key, after a revision, to
// onChange as it happens.
//
// A follower starts after a revision the caller read (a listing's "revision", a GET's
// X-Keyva-Revision), so "read, then follow" misses nothing and repeats nothing. EventSource
// reconnects by itself after a dropped connection, sending Last-Event-ID (the last revision
// received). When the server refuses the stream instead (EventSource then gives up without
// saying why), one long-poll request with wait=0s asks for the status: 410 means the changes
// after our revision are no longer held, and onGone() is called (as for an `event: gone`): the
// caller reads again and follows from the new revision; 404/400 means this server has no feed
// for it, and the follower stops (the page works as without one); anything else (503: too many
// watchers, the server unreachable) is tried again after 1 s, doubling up to 30 s. While the tab
// is hidden the stream is closed, so background tabs hold no connection (a browser gives a site
// only 6); when it shows again the follower resumes after the last revision it received.
//
// Events handed to onChange: {type: 'put'|'delete'|'expire'|'counter', key, revision, ...}, the
// server's JSON (put: etag, size, content_type, modified, expires?; counter: value, reset?).

const CHANGE_TYPES = ['put', 'delete', 'expire', 'counter'];
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

// The URL of the feed: key (when given) or prefix, after revision since, plus extra parameters.
function feedUrl({ prefix, key, since, extra = {} }) {
  const params = new URLSearchParams();
  if (key !== undefined && key !== null) params.set('key', key);
  else if (prefix) params.set('prefix', prefix);
  params.set('since', since);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return `/watch?${params}`;
}

// A revision as the server sends it: a string of digits (revisions are 64-bit, beyond what a
// JavaScript number holds exactly), or null.
export function revisionOf(value) {
  if (value === undefined || value === null) return null;
  const text = String(value);
  return /^\d+$/.test(text) ? text : null;
}

// Follows the changes after revision since (a string of digits) to keys starting with prefix, or
// to key alone. onChange(event) for each; onGone() when since (or the last revision received)
// is no longer held (the follower is then closed); onState('live'|'connecting'|'off') when the
// stream opens, is being reopened, or stops for good (not after close() or onGone). Returns
// {close()}.
export function follow({ prefix = '', key = null, since, onChange, onGone = () => {}, onState = () => {} }) {
  let lastId = revisionOf(since);
  let source = null;
  let closed = false;
  let retryTimer = null;
  let retryDelay = RETRY_FIRST_MS;

  function open() {
    if (closed || source || document.hidden) return;
    const es = new EventSource(feedUrl({ prefix, key, since: lastId }));
    source = es;
    onState('connecting');
    es.addEventListener('open', () => {
      retryDelay = RETRY_FIRST_MS;
      onState('live');
    });
    const onMessage = (message) => {
      if (source !== es) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;  // not an event of this feed
      }
      if (!event || typeof event !== 'object') return;
      const id = revisionOf(message.lastEventId) || revisionOf(event.revision);
      if (id) lastId = id;
      onChange({ ...event, type: event.type || message.type, revision: revisionOf(event.revision) || id });
    };
    for (const type of CHANGE_TYPES) es.addEventListener(type, onMessage);
    es.addEventListener('gone', () => {
      if (source !== es) return;
      stop();
      onGone();
    });
    es.addEventListener('error', () => {
      if (source !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // Refused (a status other than 200, or not an event stream): find out why.
        source = null;
        es.close();
        diagnose();
      } else {
        onState('connecting');  // EventSource reconnects by itself
      }
    });
  }

  async function diagnose() {
    let status = 0;
    try {
      const res = await fetch(feedUrl({ prefix, key, since: lastId, extra: { format: 'ndjson', wait: '0s', limit: '1' } }),
        { cache: 'no-store', credentials: 'same-origin' });
      status = res.status;
      await res.body?.cancel();
    } catch {
      status = 0;  // unreachable
    }
    if (closed) return;
    if (status === 410) {
      stop();
      onGone();
    } else if (status === 400 || status === 404 || status === 405) {
      stop();
      onState('off');
    } else {
      onState('connecting');
      retryTimer = setTimeout(() => {
        retryTimer = null;
        open();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    }
  }

  function pauseOrResume() {
    if (closed) return;
    if (document.hidden) {
      if (source) {
        source.close();
        source = null;
      }
    } else if (!source && retryTimer === null) {
      open();
    }
  }

  function stop() {
    closed = true;
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) source.close();
    source = null;
    document.removeEventListener('visibilitychange', pauseOrResume);
  }

  if (lastId === null) {
    onState('off');
    return { close() {} };  // a server without revisions has no feed
  }
  document.addEventListener('visibilitychange', pauseOrResume);
  open();
  return {
    // Stops following; no callback is called after it.
    close() {
      if (!closed) stop();
    },
  };
}
