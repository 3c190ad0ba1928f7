// keyva's web page: browse, open, create, edit and delete keys; counters; engine stats.
//
// The entry module (index.html loads it; it imports the rest): makes the one API client, what
// its token may do (access.js), the three views, and starts routing. A 401 opens the token
// dialog at once (saying so when the token sent was refused); once a token is entered, the
// views load again with it. Module map: api.js (the HTTP API), access.js, routing.js (the URL),
// dom.js, format.js, value_kind.js, dialogs.js (shared helpers), watch.js (the change feed, which
// keeps the key list and the open key live); keys.js composes go_to_key.js (search the whole
// store), key_list.js, key_view.js (with preview.js) and editor.js; counters.js; stats.js.

import { createAccess } from './access.js';
import { createApi } from './api.js';
import { createCountersView } from './counters.js';
import { askForToken, toast } from './dialogs.js';
import { $ } from './dom.js';
import { createKeysView } from './keys.js';
import { startRouting } from './routing.js';
import { createStatsView } from './stats.js';

// The "Connected" / "Server unreachable" badge in the top bar.
function showConnection(ok) {
  const conn = $('conn');
  const state = ok ? 'ok' : 'down';
  if (conn.dataset.state === state) return;
  conn.dataset.state = state;
  $('conn-text').textContent = ok ? 'Connected' : 'Server unreachable';
  conn.title = ok ? 'Connected to the keyva server' : 'The keyva server does not answer';
}

// The heartbeat behind the badge: a ping every second while the tab is visible, so the badge
// turns to "unreachable" within a couple of seconds of the server going away and back to
// "Connected" as soon as it returns, without a click or another request to notice it.
const HEARTBEAT_MS = 1000;
function startHeartbeat(api) {
  let running = false;
  setInterval(async () => {
    if (running || document.hidden) return;
    running = true;
    await api.ping(HEARTBEAT_MS * 1.5);
    running = false;
  }, HEARTBEAT_MS);
}

const views = {};

function enterToken(error = '') {
  askForToken({
    current: api.token(),
    error,
    onSave: async (token) => {
      api.setToken(token);
      await access.refresh();
      toast(access.tokenName() ? `Using the token “${access.tokenName()}” in this tab.` : 'Token saved for this tab.');
      for (const view of Object.values(views)) view.tokenChanged?.();
    },
  });
}

// The top bar's Token button: shown when the server uses tokens; names the one in use.
function showToken() {
  const button = $('token-button');
  button.hidden = !access.tokensInUse();
  const name = access.tokenName();
  button.textContent = name ? `Token: ${name}` : 'Enter token';
  button.title = name ? 'Use another access token' : 'Enter an access token';
}

const api = createApi({
  onConnection: showConnection,
  onUnauthorized: (err) => enterToken(err.hadToken
    ? `The server did not accept that token (${err.detail.replace(/\.$/, '') || 'refused'}).`
    : ''),
});
const access = createAccess(api);
access.onChange(showToken);
$('token-button').addEventListener('click', () => enterToken());

Object.assign(views, {
  keys: createKeysView({ api, access }),
  counters: createCountersView({ api, access }),
  stats: createStatsView({ api }),
});
access.refresh();
startRouting(views);
startHeartbeat(api);
