// The key browser (the left pane of Keys): breadcrumbs, the filter, and the listing of one folder:
// its keys, and a row per subfolder with the number of keys in it and their size.
//
// The server does the grouping (GET /kv/?prefix=P&delimiter=/): a page holds the keys directly
// under the prefix and one entry per subfolder, with its exact key count and total size, in key
// order and counted together against the page size. So every subfolder shows on the first screen
// however many keys the ones before it hold, and a folder's numbers are the server's, not a count
// of what happens to be loaded.
// Owns the listing's state (folder, filter, rows loaded so far, the cursor of the next page)
// and the pane's events. The page size and its maximum come from the server (api.limits()).
// The listing stays live: each first page starts a follower of the watch feed (watch.js) on the
// listing's prefix after the listing's revision, and its changes are applied to the rows loaded:
// a put or delete of a key in the folder inserts, updates or removes its row (keys past the last
// loaded page wait for Load more); in a subfolder, a new folder gets its row and a folder whose
// last key goes loses it, and any other change there has the listing read again shortly after
// (once for changes arriving together), since only the server knows the folder's new numbers.
// Rows changed that way flash briefly; when the feed no longer holds our revision the listing is
// read again. New key is shown only where the token (access.js) may write some key.
// Keyboard: "/" focuses the filter, Down moves from it into the rows, Up/Down between rows,
// Escape clears it; Enter on a filter holding a "/" opens that folder (or that key, when there is
// one by that name). Drawing the rows again never drops focus to the page: a row that had it
// gives it to the same row drawn anew (or the one now in its place), and a folder opened from its
// row gives it to the new folder's first row (or to the filter when the folder is empty).

import { showIfAllowed } from './access.js';
import { $, h, icon, isTypingTarget } from './dom.js';
import { dateFormat, folderOf, formatBytes, formatCount, parseTime, quoted, shortAge } from './format.js';
import { go, keysHref, setRouteParam } from './routing.js';
import { kindOfType } from './value_kind.js';
import { follow, revisionOf } from './watch.js';

const FILTER_DELAY_MS = 200;
const LIVE_RENDER_DELAY_MS = 50;  // changes arriving together are drawn once
const FOLDER_REFRESH_DELAY_MS = 300;  // changes inside subfolders arriving together: one listing
const FLASH_MS = 2000;
const DELIMITER = '/';

// Orders keys as the server does: by UTF-8 bytes, which is the order of their code points.
export function compareKeys(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0) - y[i].codePointAt(0);
  }
  return x.length - y.length;
}

const ENTRY_FIELDS = ['key', 'size', 'content_type', 'modified', 'etag', 'expires'];

// A row of the listing, placed in key order by `key`: a key ({type: 'key', key, entry}) or a
// subfolder ({type: 'folder', key: its prefix, ending in "/", keys, size}).
const keyItem = (entry) => ({ type: 'key', key: String(entry.key ?? ''), entry });
const folderItem = (prefix, keys, size) => ({ type: 'folder', key: prefix, keys, size });

// The rows of one page of a delimiter listing: its keys and folders, merged in key order (the
// server sends them as two lists).
function itemsOfPage(data) {
  const keys = Array.isArray(data.keys) ? data.keys.map(keyItem) : [];
  const folders = Array.isArray(data.folders)
    ? data.folders.map((f) => folderItem(String(f.prefix ?? ''), Number(f.keys) || 0, Number(f.size) || 0))
    : [];
  return keys.concat(folders).sort((a, b) => compareKeys(a.key, b.key));
}

// "12 keys"; "1 key".
const keysText = (n) => `${formatCount(n)} ${n === 1 ? 'key' : 'keys'}`;

export function createKeyList({ api, access }) {
  const list = {
    prefix: null,    // the folder shown
    filter: '',      // typed in the filter box: the listing's prefix is prefix + filter
    items: [],       // the rows loaded so far (keyItem, folderItem), in key order
    next: null,      // cursor for the next page, or null when everything is loaded
    generation: 0,   // bumps per request so a late answer to an old request is dropped
    busy: false,     // a request for the listing is out
    selected: null,  // the key open on the right, marked in the list
    feed: null,      // the follower of the listing's changes (watch.js), or null
    racing: null,    // changes received while a page is asked under a running feed, re-applied to it
    flashing: new Set(),  // keys whose rows (or folders' rows) changed through the feed a moment ago
    focusFirst: false,    // a folder was opened from a focused row: its first row takes focus when drawn
  };
  let renderTimer = null;
  let refreshTimer = null;
  const filterInput = $('filter');
  let filterTimer = null;

  // The prefix the server is asked for; folders are cut at the first "/" after it.
  const listedPrefix = () => list.prefix + list.filter;

  // Loads the first page (or, with more, the next page) of the listing. With keepCount the first
  // load asks for as many rows as are shown now, so a refresh after a change keeps the place;
  // with keepFeed it keeps the running follower (a refresh for changes the feed brought).
  async function load({ more = false, keepCount = false, keepFeed = false } = {}) {
    const generation = ++list.generation;
    // A first page brings every folder's numbers afresh: no refresh needs to follow.
    if (!more) cancelRefresh();
    // A first page comes with its own revision to follow from; changes until then are in it.
    // Otherwise the feed runs on, and what it brings meanwhile is applied again to the answer.
    const following = more || (keepFeed && list.feed !== null);
    if (!following) stopFeed();
    list.racing = following ? [] : null;
    list.busy = true;
    $('key-list').setAttribute('aria-busy', 'true');
    $('load-more').disabled = true;
    if (!more) setMessage(list.items.length ? '' : 'Loading…');
    try {
      const limits = await api.limits();
      const params = new URLSearchParams();
      params.set('prefix', listedPrefix());
      params.set('delimiter', DELIMITER);
      if (more && list.next !== null) params.set('after', list.next);
      const limit = keepCount
        ? Math.min(Math.max(list.items.length, limits.list_limit_default), limits.list_limit_max)
        : limits.list_limit_default;
      params.set('limit', String(limit));
      const res = await api.request('GET', `/kv/?${params}`);
      const data = await res.json();
      if (generation !== list.generation) return;
      const items = itemsOfPage(data);
      list.items = more ? list.items.concat(items) : items;
      list.next = data.next === undefined || data.next === null || data.next === '' ? null : String(data.next);
      const revision = revisionOf(data.revision) || revisionOf(res.headers.get('X-Keyva-Revision'));
      if (following) {
        // The page may be older than changes already received: those are applied again.
        const later = list.racing.filter((e) => revision === null || BigInt(e.revision || 0) > BigInt(revision));
        list.racing = null;
        for (const event of later) applyChange(event, { flash: false });
      } else {
        startFeed(revision);
      }
      render();
    } catch (err) {
      if (generation !== list.generation) return;
      list.racing = null;
      // A failed first page shows nothing old; a failed Load more or refresh keeps the rows.
      if (!following) {
        list.items = [];
        list.next = null;
        render();
      }
      setMessage(api.describeError(err), 'error');
    } finally {
      if (generation === list.generation) {
        list.busy = false;
        $('key-list').setAttribute('aria-busy', 'false');
        $('load-more').disabled = false;
      }
    }
  }

  // Reads the listing again soon, keeping the feed and the rows shown: for a subfolder whose
  // numbers changed. Waits while another request is out (a Load more must not be dropped).
  function scheduleRefresh() {
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      if (list.busy) scheduleRefresh();
      else load({ keepCount: true, keepFeed: true });
    }, FOLDER_REFRESH_DELAY_MS);
  }

  function cancelRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  function stopFeed() {
    if (list.feed) list.feed.close();
    list.feed = null;
    showLive('off');
  }

  function startFeed(revision) {
    stopFeed();
    if (revision === null) return;  // a server without the feed
    list.feed = follow({
      prefix: listedPrefix(),
      since: revision,
      onChange: (event) => {
        if (list.racing) list.racing.push(event);
        if (applyChange(event)) scheduleRender();
      },
      onGone: () => {
        list.feed = null;
        load({ keepCount: true });
      },
      onState: showLive,
    });
  }

  function showLive(state) {
    const node = $('list-live');
    node.hidden = state === 'off';
    node.dataset.state = state;
    node.textContent = state === 'live' ? 'Live' : 'Reconnecting…';
    node.title = state === 'live' ? 'Changes made elsewhere appear here as they happen'
      : 'The live updates are reconnecting';
  }

  // Applies a change from the feed to the loaded rows; true when the list changed (or a row is to
  // flash).
  function applyChange(event, { flash = true } = {}) {
    if (event.type !== 'put' && event.type !== 'delete' && event.type !== 'expire') return false;
    const key = String(event.key ?? '');
    const listed = listedPrefix();
    if (!key.startsWith(listed)) return false;
    // The row the key belongs to: its own, or its subfolder's (as the server cuts them).
    const slash = key.indexOf(DELIMITER, listed.length);
    const at = slash < 0 ? key : key.slice(0, slash + 1);
    const i = list.items.findIndex((item) => item.key === at);
    if (i < 0) {
      if (event.type !== 'put') return false;
      // Past the last row loaded: Load more brings it.
      const last = list.items[list.items.length - 1];
      if (list.next !== null && (!last || compareKeys(at, last.key) > 0)) return false;
      // A folder not listed had no keys: this one is all it holds.
      const item = slash < 0 ? keyItem(entryOf(event)) : folderItem(at, 1, Number(event.size) || 0);
      const before = list.items.findIndex((other) => compareKeys(other.key, at) > 0);
      list.items.splice(before < 0 ? list.items.length : before, 0, item);
    } else if (slash < 0) {
      if (event.type === 'put') list.items[i] = keyItem(entryOf(event));
      else list.items.splice(i, 1);
    } else if (event.type !== 'put' && list.items[i].keys <= 1) {
      list.items.splice(i, 1);  // the folder's last key is gone
    } else {
      // A key added or replaced, or one of several removed: the new count and size are the
      // server's to say.
      scheduleRefresh();
    }
    if (flash && event.type === 'put') flashKey(key);
    return true;
  }

  // The listing's entry for a put event.
  function entryOf(event) {
    return Object.fromEntries(ENTRY_FIELDS.filter((f) => event[f] !== undefined).map((f) => [f, event[f]]));
  }

  // Marks key's row (or its folder's) for the highlight that fades out once (app.css).
  function flashKey(key) {
    list.flashing.add(key);
    setTimeout(() => list.flashing.delete(key), FLASH_MS);
  }

  function scheduleRender() {
    if (renderTimer !== null) return;
    renderTimer = setTimeout(() => {
      renderTimer = null;
      render();
    }, LIVE_RENDER_DELAY_MS);
  }

  function setMessage(text, kind = '') {
    const node = $('list-message');
    node.textContent = text;
    node.className = `list-message${kind ? ` ${kind}` : ''}`;
  }

  function renderCrumbs() {
    const parts = [];
    const segments = list.prefix.split('/').slice(0, -1);
    const atRoot = segments.length === 0 && list.prefix === '';
    parts.push(atRoot
      ? h('span', { class: 'here root', text: 'All keys', attrs: { 'aria-current': 'location' } })
      : h('a', { class: 'root', href: keysHref(), text: 'All keys' }));
    let acc = '';
    segments.forEach((segment, i) => {
      acc += `${segment}/`;
      parts.push(h('span', { class: 'sep', text: '/', attrs: { 'aria-hidden': 'true' } }));
      const label = segment === '' ? '(empty)' : segment;
      parts.push(i === segments.length - 1 && acc === list.prefix
        ? h('span', { class: 'here', text: label, attrs: { 'aria-current': 'location' } })
        : h('a', { href: keysHref({ prefix: acc }), text: label }));
    });
    // A prefix that does not end in "/" (only reachable by a hand-made link) is shown as is.
    if (!list.prefix.endsWith('/') && list.prefix !== '') {
      parts.push(h('span', { class: 'sep', text: '/', attrs: { 'aria-hidden': 'true' } }));
      parts.push(h('span', { class: 'here', text: list.prefix.slice(acc.length), attrs: { 'aria-current': 'location' } }));
    }
    $('crumbs').replaceChildren(...parts);
    $('new-key').href = keysHref({ prefix: list.prefix, mode: 'new' });
    showIfAllowed($('new-key'), access.canUnder('write', 'kv', list.prefix));
  }

  function folderRow(item) {
    const name = item.key.slice(list.prefix.length);
    const a = h('a', { class: 'row folder', href: keysHref({ prefix: item.key }) },
      icon('folder'),
      h('span', { class: 'row-name', text: name }),
      h('span', { class: 'row-meta', text: `${keysText(item.keys)} · ${formatBytes(item.size)}` }));
    a.setAttribute('aria-label', `Folder ${name}, ${keysText(item.keys)}, ${formatBytes(item.size)}`);
    a.dataset.row = item.key;
    a.title = `${keysText(item.keys)} holding ${formatCount(item.size)} ${item.size === 1 ? 'byte' : 'bytes'} in all`;
    if ([...list.flashing].some((k) => k.startsWith(item.key))) a.classList.add('flash');
    return h('li', {}, a);
  }

  function keyRow(item) {
    const { key, entry } = item;
    const name = key.slice(list.prefix.length);
    const modified = parseTime(entry.modified);
    const meta = [formatBytes(entry.size)];
    if (modified) meta.push(shortAge(modified));
    const a = h('a', { class: 'row key', href: keysHref({ prefix: list.prefix, key }) },
      icon(kindOfType(entry.content_type)),
      h('span', { class: 'row-name', text: name === '' ? '(this folder’s own key)' : name }),
      h('span', { class: 'row-meta', text: meta.join(' · ') }));
    a.dataset.key = key;
    a.dataset.row = key;
    if (modified) a.title = `${entry.content_type || 'unknown type'} · modified ${dateFormat.format(modified)}`;
    if (key === list.selected) a.setAttribute('aria-current', 'true');
    if (list.flashing.has(key)) a.classList.add('flash');
    return h('li', {}, a);
  }

  function render() {
    const listNode = $('key-list');
    const focused = listNode.contains(document.activeElement) ? document.activeElement : null;
    const focusedAt = focused ? [...listNode.querySelectorAll('a.row')].indexOf(focused) : -1;
    listNode.replaceChildren(...list.items.map((item) => (item.type === 'folder' ? folderRow(item) : keyRow(item))));
    // A folder opened from its row (unless focus went elsewhere meanwhile): its first row. A row
    // drawn anew: the same row, or the one now where it was.
    const takeOver = list.focusFirst && (focused !== null || document.activeElement === document.body);
    list.focusFirst = false;
    if (takeOver || focused) {
      const rows = [...listNode.querySelectorAll('a.row')];
      const same = takeOver ? null : rows.find((a) => a.dataset.row === focused.dataset.row);
      const target = same || rows[takeOver ? 0 : Math.min(focusedAt, rows.length - 1)] || filterInput;
      target.focus({ preventScroll: true });
    }
    if (list.items.length === 0) {
      const msg = list.filter ? `No keys here start with ${quoted(list.filter)}.`
        : list.prefix ? 'This folder is empty.' : 'No keys yet. Create one with “New key”.';
      setMessage(msg, 'empty');
    } else {
      setMessage('');
    }
    // The keys the rows stand for: each key row, and every key in each folder row.
    const n = list.items.reduce((sum, item) => sum + (item.type === 'folder' ? item.keys : 1), 0);
    $('list-count').textContent = list.items.length === 0 ? '' : list.next !== null
      ? `Showing the first ${keysText(n)}` : keysText(n);
    $('load-more').hidden = list.next === null;
  }

  function markSelected() {
    for (const a of $('key-list').querySelectorAll('a.row.key')) {
      if (a.dataset.key === list.selected) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    }
  }

  // Takes the filter box's text as the filter: reloads the list and writes it into the URL.
  function applyFilter() {
    clearTimeout(filterTimer);
    const value = filterInput.value;
    if (value === list.filter) return;
    list.filter = value;
    list.items = [];
    setRouteParam('q', value);
    load();
  }

  // Enter in the filter. A path with a "/" in it is where the person wants to go: the key of that
  // name when there is one, else its folder (with what follows the last "/" as the filter there).
  async function submitFilter() {
    const value = filterInput.value;
    if (!value.includes('/')) {
      applyFilter();
      return;
    }
    clearTimeout(filterTimer);
    const path = list.prefix + value;
    const folder = folderOf(path);
    const rest = path.slice(folder.length);
    if (rest !== '') {
      let entry = null;
      try {
        entry = await api.listEntry(path);
      } catch {
        entry = null;  // the folder's listing will say what is wrong
      }
      if (filterInput.value !== value) return;  // typed on meanwhile
      if (entry) {
        go(keysHref({ prefix: folder, key: path }));
        return;
      }
    }
    go(keysHref({ prefix: folder, q: rest || null }));
  }

  // Wiring: the filter, Load more, arrows between rows, "/" from anywhere on the Keys view.
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, FILTER_DELAY_MS);
  });
  $('filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submitFilter();
  });
  filterInput.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && filterInput.value !== '') {
      event.preventDefault();
      filterInput.value = '';
      applyFilter();
    } else if (event.key === 'ArrowDown') {
      const first = $('key-list').querySelector('a.row');
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  $('load-more').addEventListener('click', () => load({ more: true }));
  $('key-list').addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = [...$('key-list').querySelectorAll('a.row')];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    event.preventDefault();
    if (event.key === 'ArrowDown' && i + 1 < links.length) links[i + 1].focus();
    if (event.key === 'ArrowUp') (i > 0 ? links[i - 1] : filterInput).focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTypingTarget(event.target)) return;
    if ($('view-keys').hidden || document.querySelector('dialog[open]')) return;
    event.preventDefault();
    filterInput.focus();
  });
  access.onChange(() => {
    if (list.prefix !== null) renderCrumbs();
  });
  // The Keys tab puts focus in the filter, where the eye goes.
  for (const a of document.querySelectorAll('.tabs a[data-view="keys"]')) {
    a.addEventListener('click', () => setTimeout(() => filterInput.focus({ preventScroll: true }), 0));
  }

  return {
    // Shows a folder with a filter; q null keeps the filter when the folder is the same (see
    // routing.js). Loads the listing only when either changed.
    show({ prefix, q }) {
      const folderChanged = prefix !== list.prefix;
      const filter = q !== null ? q : folderChanged ? '' : list.filter;
      if (filter !== q) setRouteParam('q', filter);
      if (!folderChanged && filter === list.filter) return;
      if (filter !== list.filter) list.items = [];
      clearTimeout(filterTimer);
      list.prefix = prefix;
      list.filter = filter;
      if (filterInput.value !== filter) filterInput.value = filter;
      if (folderChanged) renderCrumbs();
      // Enter (or a click) on a folder's row: focus goes on to the folder's rows once drawn.
      list.focusFirst = folderChanged && $('key-list').contains(document.activeElement);
      load();
    },
    // Marks the open key's row (null for none).
    select(key) {
      list.selected = key;
      markSelected();
    },
    // The folder shown.
    prefix: () => list.prefix,
    // Loads the listing again, keeping as many rows as are shown (after a change).
    reload: () => load({ keepCount: true }),
  };
}
