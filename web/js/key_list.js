// The key browser (the left pane of Keys): breadcrumbs, the filter, and the listing of one folder,
// with keys after a "/" gathered into folder rows.
//
// Owns the listing's state (folder, filter, entries loaded so far, the cursor of the next page)
// and the pane's events. The page size and its maximum come from the server (api.limits()).
// The listing stays live: each first page starts a follower of the watch feed (watch.js) on the
// listing's prefix after the listing's revision, and its changes are applied to the entries
// loaded (a put inserts or updates a row, a delete or expiry removes it; keys past the last
// loaded page wait for Load more), rows changed that way flash briefly; when the feed no longer
// holds our revision the listing is read again. New key is shown only where the token (access.js)
// may write some key.
// Keyboard: "/" focuses the filter, Down moves from it into the rows, Up/Down between rows,
// Escape clears it; Enter on a filter holding a "/" opens that folder (or that key, when there is
// one by that name).

import { showIfAllowed } from './access.js';
import { $, h, icon, isTypingTarget } from './dom.js';
import { dateFormat, folderOf, formatBytes, formatCount, parseTime, quoted, shortAge } from './format.js';
import { go, keysHref, setRouteParam } from './routing.js';
import { kindOfType } from './value_kind.js';
import { follow, revisionOf } from './watch.js';

const FILTER_DELAY_MS = 200;
const LIVE_RENDER_DELAY_MS = 50;  // changes arriving together are drawn once
const FLASH_MS = 2000;

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

export function createKeyList({ api, access }) {
  const list = {
    prefix: null,    // the folder shown
    filter: '',      // typed in the filter box: the listing's prefix is prefix + filter
    entries: [],     // the listing's entries loaded so far, in key order
    next: null,      // cursor for the next page, or null when everything is loaded
    generation: 0,   // bumps per request so a late answer to an old request is dropped
    selected: null,  // the key open on the right, marked in the list
    feed: null,      // the follower of the listing's changes (watch.js), or null
    moreEvents: null,  // changes received while a Load more is asked, re-applied to its page
    flashing: new Set(),  // keys whose rows changed through the feed a moment ago
  };
  let renderTimer = null;
  const filterInput = $('filter');
  let filterTimer = null;

  // Loads the first page (or, with more, the next page) of the listing. With keepCount the first
  // load asks for as many entries as are shown now, so a refresh after a change keeps the place.
  async function load({ more = false, keepCount = false } = {}) {
    const generation = ++list.generation;
    // A first page comes with its own revision to follow from; changes until then are in it.
    if (!more) stopFeed();
    list.moreEvents = more ? [] : null;
    $('key-list').setAttribute('aria-busy', 'true');
    $('load-more').disabled = true;
    if (!more) setMessage(list.entries.length ? '' : 'Loading…');
    try {
      const limits = await api.limits();
      const params = new URLSearchParams();
      params.set('prefix', list.prefix + list.filter);
      if (more && list.next !== null) params.set('after', list.next);
      const limit = keepCount
        ? Math.min(Math.max(list.entries.length, limits.list_limit_default), limits.list_limit_max)
        : limits.list_limit_default;
      params.set('limit', String(limit));
      const res = await api.request('GET', `/kv/?${params}`);
      const data = await res.json();
      if (generation !== list.generation) return;
      const entries = Array.isArray(data.keys) ? data.keys : [];
      list.entries = more ? list.entries.concat(entries) : entries;
      list.next = data.next === undefined || data.next === null || data.next === '' ? null : String(data.next);
      const revision = revisionOf(data.revision) || revisionOf(res.headers.get('X-Keyva-Revision'));
      if (more) {
        // The page may be older than changes already received: those are applied again.
        const later = list.moreEvents.filter((e) => revision === null || BigInt(e.revision || 0) > BigInt(revision));
        list.moreEvents = null;
        for (const event of later) applyChange(event, { flash: false });
      } else {
        startFeed(revision);
      }
      render();
    } catch (err) {
      if (generation !== list.generation) return;
      list.moreEvents = null;
      if (!more) {
        list.entries = [];
        list.next = null;
        render();
      }
      setMessage(api.describeError(err), 'error');
    } finally {
      if (generation === list.generation) {
        $('key-list').setAttribute('aria-busy', 'false');
        $('load-more').disabled = false;
      }
    }
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
      prefix: list.prefix + list.filter,
      since: revision,
      onChange: (event) => {
        if (list.moreEvents) list.moreEvents.push(event);
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

  // Applies a change from the feed to the loaded entries; true when the list changed.
  function applyChange(event, { flash = true } = {}) {
    if (event.type !== 'put' && event.type !== 'delete' && event.type !== 'expire') return false;
    const key = String(event.key ?? '');
    if (!key.startsWith(list.prefix + list.filter)) return false;
    const i = list.entries.findIndex((e) => String(e.key) === key);
    if (event.type === 'put') {
      const entry = Object.fromEntries(ENTRY_FIELDS.filter((f) => event[f] !== undefined).map((f) => [f, event[f]]));
      entry.key = key;
      if (i >= 0) {
        list.entries[i] = entry;
      } else {
        // Past the cursor of the next page (the last key the server sent): Load more brings it.
        if (list.next !== null && compareKeys(key, list.next) > 0) return false;
        const at = list.entries.findIndex((e) => compareKeys(String(e.key), key) > 0);
        list.entries.splice(at < 0 ? list.entries.length : at, 0, entry);
      }
      if (flash) flashKey(key);
    } else {
      if (i < 0) return false;
      list.entries.splice(i, 1);
    }
    return true;
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

  // The rows of the loaded entries: keys directly in the folder, and one row per subfolder.
  function rows() {
    const out = [];
    const folders = new Map();
    const { prefix } = list;
    for (const entry of list.entries) {
      const key = String(entry.key ?? '');
      if (!key.startsWith(prefix)) continue;
      const rel = key.slice(prefix.length);
      const slash = rel.indexOf('/');
      if (slash >= 0 && slash < rel.length - 1) {
        const name = rel.slice(0, slash + 1);
        let folder = folders.get(name);
        if (!folder) {
          folder = { type: 'folder', name, count: 0, lastKey: key };
          folders.set(name, folder);
          out.push(folder);
        }
        folder.count++;
        folder.lastKey = key;
      } else {
        out.push({ type: 'key', name: rel, entry });
      }
    }
    return out;
  }

  function folderRow(row, lastLoaded) {
    const more = list.next !== null && row.lastKey === lastLoaded;
    const count = `${formatCount(row.count)}${more ? '+' : ''} ${row.count === 1 && !more ? 'key' : 'keys'}`;
    const a = h('a', { class: 'row folder', href: keysHref({ prefix: list.prefix + row.name }) },
      icon('folder'),
      h('span', { class: 'row-name', text: row.name }),
      h('span', { class: 'row-meta', text: count }));
    a.setAttribute('aria-label', `Folder ${row.name}, ${count}`);
    const inFolder = list.prefix + row.name;
    if ([...list.flashing].some((k) => k.startsWith(inFolder))) a.classList.add('flash');
    return h('li', {}, a);
  }

  function keyRow(row) {
    const { entry } = row;
    const key = String(entry.key);
    const modified = parseTime(entry.modified);
    const meta = [formatBytes(entry.size)];
    if (modified) meta.push(shortAge(modified));
    const a = h('a', { class: 'row key', href: keysHref({ prefix: list.prefix, key }) },
      icon(kindOfType(entry.content_type)),
      h('span', { class: 'row-name', text: row.name === '' ? '(this folder’s own key)' : row.name }),
      h('span', { class: 'row-meta', text: meta.join(' · ') }));
    a.dataset.key = key;
    if (modified) a.title = `${entry.content_type || 'unknown type'} · modified ${dateFormat.format(modified)}`;
    if (key === list.selected) a.setAttribute('aria-current', 'true');
    if (list.flashing.has(key)) a.classList.add('flash');
    return h('li', {}, a);
  }

  function render() {
    const lastLoaded = list.entries.length ? String(list.entries[list.entries.length - 1].key) : null;
    $('key-list').replaceChildren(...rows().map((row) => (row.type === 'folder' ? folderRow(row, lastLoaded) : keyRow(row))));
    const n = list.entries.length;
    if (n === 0) {
      const msg = list.filter ? `No keys here start with ${quoted(list.filter)}.`
        : list.prefix ? 'This folder is empty.' : 'No keys yet. Create one with “New key”.';
      setMessage(msg, 'empty');
    } else {
      setMessage('');
    }
    const keysWord = n === 1 ? 'key' : 'keys';
    $('list-count').textContent = n === 0 ? '' : list.next !== null
      ? `Showing the first ${formatCount(n)} ${keysWord}` : `${formatCount(n)} ${keysWord}`;
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
    list.entries = [];
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
      if (filter !== list.filter) list.entries = [];
      clearTimeout(filterTimer);
      list.prefix = prefix;
      list.filter = filter;
      if (filterInput.value !== filter) filterInput.value = filter;
      if (folderChanged) renderCrumbs();
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
