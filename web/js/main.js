// keyva's web page: browse, open, create, edit and delete keys; counters; engine stats.
//
// The entry module (index.html loads it; it imports the rest): makes the one API client, the
// three views, and starts routing. Module map: api.js (the HTTP API), routing.js (the URL),
// dom.js, format.js, value_kind.js, dialogs.js (shared helpers), watch.js (the change feed, which
// keeps the key list and the open key live); keys.js composes key_list.js, key_view.js (with
// preview.js) and editor.js; counters.js; stats.js.

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

const api = createApi({
  onConnection: showConnection,
  onUnauthorized: () => askForToken({
    current: api.token(),
    onSave: (token) => {
      api.setToken(token);
      toast('Token saved for this tab. Try again.');
    },
  }),
});

startRouting({
  keys: createKeysView({ api }),
  counters: createCountersView({ api }),
  stats: createStatsView({ api }),
});
