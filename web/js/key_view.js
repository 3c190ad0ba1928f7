// The open key (the right pane of Keys): its name, metadata, a preview of the value, and the
// Edit, Download and Delete actions.
//
// Owns what was loaded for the open key: its bytes, type, metadata, and the ETag seen when it was
// loaded, which a delete sends in If-Match (and the editor bases an edit on), so a concurrent
// change is reported instead of silently overwritten. Values are fetched as bytes and decoded
// here; downloads and images use blob: URLs, revoked when another key is opened.
//
// The open key stays current: from the revision it was read at, a follower of the watch feed
// (watch.js, key=K) reports changes made elsewhere. A new version is fetched and shown in place
// (with a note naming the revision); a delete or an expiry is said in an alert. Each change is
// also passed to onChangedElsewhere, so the editor can warn while the key is being edited (the
// edit stays based on the ETag it started from). When the feed no longer holds our revision the
// key is read again. Edit and Delete are shown only when the token (access.js) may write or
// delete the key.

import { showIfAllowed } from './access.js';
import { ApiError, kvUrl, storedEtag } from './api.js';
import { $, h } from './dom.js';
import { confirmDialog, showAlert, toast } from './dialogs.js';
import { dateFormat, downloadName, folderOf, formatBytes, formatCount, parseTime, quoted, relativeTime } from './format.js';
import { renderPreview } from './preview.js';
import { go, keysHref } from './routing.js';
import { baseType } from './value_kind.js';
import { follow, revisionOf } from './watch.js';

// onListChanged() after the key turned out to be gone or was deleted (the list is stale);
// onChangedElsewhere({type, key, revision, etag?}) after the feed reported a change to the open
// key that this page did not make (type 'put', 'delete' or 'expire').
export function createKeyView({ api, access, onListChanged, onChangedElsewhere = () => {} }) {
  const opened = {
    key: null,          // the key shown, or null
    prefix: '',         // the folder of the route it is shown in
    value: null,        // once loaded: {key, etag, type, bytes, meta, lastModified, expiresHeader}
    error: '',          // why it could not be loaded
    generation: 0,      // bumps per load so a late answer to an old load is dropped
    urls: [],           // blob URLs to revoke when another key is opened
    showRaw: false,
    needsReload: false,
    feed: null,         // the follower of the open key's changes (watch.js), or null
    refreshing: null,   // the generation whose refresh is in flight, or null
    refreshAgain: null,  // changes came while refreshing: refresh once more after it (its options)
    deleting: false,    // this page's own DELETE is in flight (its event is not news)
  };
  const alert = (message, actions, kind) =>
    showAlert($('kv-alert'), $('kv-alert-text'), $('kv-alert-actions'), message, actions, kind);

  function revokeUrls() {
    for (const url of opened.urls) URL.revokeObjectURL(url);
    opened.urls = [];
  }

  function showAllowedActions() {
    if (opened.key === null) return;
    showIfAllowed($('kv-edit'), access.can('write', 'kv', opened.key));
    showIfAllowed($('kv-delete'), access.can('delete', 'kv', opened.key));
  }

  function setActionsEnabled(enabled) {
    for (const id of ['kv-edit', 'kv-download']) {
      if (enabled) $(id).removeAttribute('aria-disabled');
      else $(id).setAttribute('aria-disabled', 'true');
    }
    $('kv-delete').disabled = !enabled;
  }

  // GETs key's value and its listing entry: {value, revision} (revision: what the GET reflects,
  // to follow the feed from; null from a server without the feed). Throws ApiError.
  async function fetchValue(key) {
    const [res, entry] = await Promise.all([
      api.request('GET', kvUrl(key)),
      api.listEntry(key).catch(() => null),
    ]);
    const buffer = await res.arrayBuffer();
    return {
      value: {
        key,
        bytes: new Uint8Array(buffer),
        etag: storedEtag(res.headers.get('ETag')),
        type: res.headers.get('Content-Type') || (entry && entry.content_type) || '',
        meta: entry,
        lastModified: res.headers.get('Last-Modified'),
        expiresHeader: res.headers.get('X-Keyva-Expires') || res.headers.get('Expires'),
      },
      revision: revisionOf(res.headers.get('X-Keyva-Revision')),
    };
  }

  // Loads and shows key. Resolves to the loaded value, or null (with opened.error set).
  async function load(key, { focus = true } = {}) {
    const generation = ++opened.generation;
    stopFeed();
    revokeUrls();
    Object.assign(opened, { key, value: null, error: '', showRaw: false, needsReload: false, refreshing: null, refreshAgain: null });
    $('kv-alert').hidden = true;
    $('kv-live').hidden = true;
    $('kv-folder').textContent = folderOf(key);
    $('kv-name').textContent = key.slice(folderOf(key).length) || key;
    $('kv-meta').replaceChildren();
    $('kv-kind').textContent = 'Loading…';
    $('kv-raw').hidden = true;
    $('kv-preview').replaceChildren();
    setActionsEnabled(false);
    if (focus) $('kv-name').focus({ preventScroll: true });
    try {
      const { value, revision } = await fetchValue(key);
      if (generation !== opened.generation) return null;
      opened.value = value;
      render();
      setActionsEnabled(true);
      startFeed(key, revision);
      return opened.value;
    } catch (err) {
      if (generation !== opened.generation) return null;
      $('kv-kind').textContent = '';
      const actions = [{ label: 'Try again', run: () => load(key) }];
      if (err instanceof ApiError && err.status === 404) {
        actions.splice(0, 1, { label: 'Back to the list', run: () => go(keysHref({ prefix: opened.prefix })) });
        onListChanged();
      }
      opened.error = api.describeError(err, { key });
      alert(opened.error, actions);
      return null;
    }
  }

  function stopFeed() {
    if (opened.feed) opened.feed.close();
    opened.feed = null;
  }

  function startFeed(key, revision) {
    stopFeed();
    if (revision === null) return;
    opened.feed = follow({
      key,
      since: revision,
      onChange: (event) => changed(key, event),
      onGone: () => {
        opened.feed = null;
        refresh(key, { restartFeed: true });
      },
    });
  }

  // A change to the open key reported by the feed.
  function changed(key, event) {
    if (key !== opened.key || opened.deleting) return;
    if (event.type === 'put') {
      if (opened.value && event.etag === opened.value.etag) return;  // the version shown
      refresh(key, { revision: event.revision });
    } else if (event.type === 'delete' || event.type === 'expire') {
      showGone(key, event);
    } else {
      return;
    }
    onChangedElsewhere({ ...event, key });
  }

  // The open key was deleted or expired elsewhere: say so, keep what is shown, allow no edits.
  function showGone(key, event) {
    const how = event.type === 'expire' ? 'expired' : 'was deleted elsewhere';
    const revision = event.revision ? ` (revision ${event.revision})` : '';
    alert(`${quoted(key)} ${how}${revision}. What is shown here is the last version.`,
      [{ label: 'Back to the list', run: () => go(keysHref({ prefix: opened.prefix })) }], 'warn');
    $('kv-live').hidden = true;
    setActionsEnabled(false);
    $('kv-download').removeAttribute('aria-disabled');
    opened.needsReload = true;  // showing it again reads it afresh (it may be back)
  }

  // Fetches the open key again and shows it in place, without the Loading state or moving the
  // focus. revision: the change that caused it, for the note. restartFeed: follow the feed anew
  // from what was read (after it no longer held our revision); a version that differs from the
  // one shown is then reported to onChangedElsewhere, as a change from the feed would be.
  async function refresh(key, { revision = null, restartFeed = false } = {}) {
    const generation = opened.generation;
    if (opened.refreshing === generation) {
      // One more when this one is done, with the latest reason.
      const again = opened.refreshAgain || {};
      opened.refreshAgain = { revision: revision || again.revision, restartFeed: restartFeed || again.restartFeed };
      return;
    }
    opened.refreshing = generation;
    const before = opened.value && opened.value.etag;
    try {
      const got = await fetchValue(key);
      if (generation !== opened.generation) return;
      revokeUrls();
      opened.value = got.value;
      opened.needsReload = false;
      $('kv-alert').hidden = true;
      render();
      setActionsEnabled(true);
      const shown = revision || got.revision;
      $('kv-live').textContent = `Changed elsewhere${shown ? ` (revision ${shown})` : ''}; showing the latest version.`;
      $('kv-live').hidden = got.value.etag === before;
      if (restartFeed) {
        startFeed(key, got.revision);
        if (got.value.etag !== before) onChangedElsewhere({ type: 'put', key, revision: got.revision, etag: got.value.etag });
      }
    } catch (err) {
      if (generation !== opened.generation) return;
      if (err instanceof ApiError && err.status === 404) {
        showGone(key, { type: 'delete', revision });
        if (restartFeed) onChangedElsewhere({ type: 'delete', key, revision });
      }
      // Other failures keep what is shown; the next change tries again.
    } finally {
      if (opened.refreshing === generation) opened.refreshing = null;
    }
    if (generation === opened.generation && opened.refreshAgain) {
      const again = opened.refreshAgain;
      opened.refreshAgain = null;
      refresh(key, again);
    }
  }

  function metaItem(label, value, { sub, mono = false, wide = false } = {}) {
    return h('div', { class: wide ? 'wide' : undefined },
      h('dt', { text: label }),
      h('dd', { class: mono ? 'mono' : '' }, value, sub ? h('span', { class: 'sub', text: sub }) : null));
  }

  function render() {
    const { key, bytes, type, meta, etag } = opened.value;
    const size = bytes.length;
    const modified = parseTime(meta && meta.modified) || parseTime(opened.value.lastModified);
    const expires = expiryOf(opened.value);
    $('kv-meta').replaceChildren(
      metaItem('Type', type || 'unknown', { mono: true }),
      metaItem('Size', formatBytes(size), { sub: size >= 1024 ? `${formatCount(size)} bytes` : undefined }),
      metaItem('Modified', modified ? relativeTime(modified) : '—',
        { sub: modified ? dateFormat.format(modified) : undefined }),
      metaItem('Expires', expires ? relativeTime(expires) : 'Never',
        { sub: expires ? dateFormat.format(expires) : undefined }),
      metaItem('ETag', etag || '—', { mono: true, wide: true }));

    const url = URL.createObjectURL(new Blob([bytes], { type: baseType(type) || 'application/octet-stream' }));
    opened.urls.push(url);
    const download = $('kv-download');
    download.href = url;
    download.download = downloadName(key);
    $('kv-edit').href = keysHref({ prefix: opened.prefix, key, mode: 'edit' });
    renderValue();
  }

  function renderValue() {
    const { kind } = renderPreview($('kv-preview'), { ...opened.value, url: opened.urls[0], showRaw: opened.showRaw },
      (label) => {
        $('kv-kind').textContent = label;
      });
    const raw = $('kv-raw');
    raw.hidden = kind !== 'json';
    raw.textContent = opened.showRaw ? 'Formatted' : 'Show raw';
    raw.setAttribute('aria-pressed', String(opened.showRaw));
  }

  async function deleteKey() {
    const { key } = opened;
    if (key === null) return;
    const confirmed = await confirmDialog({
      title: 'Delete this key?',
      body: ['The key ', h('strong', { text: key }), ' and its value will be deleted. This cannot be undone.'],
      confirmLabel: 'Delete key',
    });
    if (!confirmed || opened.key !== key) return;
    const etag = opened.value && opened.value.etag;
    opened.deleting = true;
    try {
      await api.request('DELETE', kvUrl(key), { headers: etag ? { 'If-Match': etag } : {} });
      toast(`Deleted ${quoted(key)}`);
    } catch (err) {
      opened.deleting = false;
      if (err instanceof ApiError && err.status === 404) {
        toast(`${quoted(key)} was already gone.`);
      } else if (err instanceof ApiError && err.status === 412) {
        alert(`${quoted(key)} was changed by someone else after you opened it, so it was not deleted. Reload to see the latest version.`,
          [{ label: 'Reload', primary: true, run: () => load(key) }], 'warn');
        return;
      } else {
        alert(api.describeError(err, { key }));
        return;
      }
    }
    opened.deleting = false;
    stopFeed();
    opened.key = null;
    go(keysHref({ prefix: opened.prefix }));
    onListChanged();
  }

  // Wiring.
  access.onChange(showAllowedActions);
  $('kv-delete').addEventListener('click', deleteKey);
  $('kv-raw').addEventListener('click', () => {
    opened.showRaw = !opened.showRaw;
    renderValue();
  });
  for (const id of ['kv-edit', 'kv-download']) {
    $(id).addEventListener('click', (event) => {
      if ($(id).getAttribute('aria-disabled') === 'true') event.preventDefault();
    });
  }

  return {
    // Shows route.key (loading it unless it is the one shown and still current).
    show({ prefix, key }) {
      opened.prefix = prefix;
      $('kv-back').href = keysHref({ prefix });
      $('kv-back').textContent = `← ${prefix || 'All keys'}`;
      $('key-view').hidden = false;
      if (key !== opened.key || opened.needsReload) load(key);
      else if (opened.value) $('kv-edit').href = keysHref({ prefix, key, mode: 'edit' });
      showAllowedActions();
    },
    // Hides the pane; keeps what was loaded (the editor may be working from it).
    hide() {
      $('key-view').hidden = true;
    },
    // Hides the pane and forgets the key, so showing it again loads it afresh.
    close() {
      $('key-view').hidden = true;
      stopFeed();
      opened.generation++;
      opened.key = null;
    },
    // Loads the key again the next time it is shown (after an edit, or to see someone's change).
    invalidate() {
      opened.needsReload = true;
    },
    // The loaded value of key ({value}), loading it (without showing or focusing) if need be, or
    // {error} saying why it could not be loaded. prefix: the folder of the route asking.
    async valueOf(key, prefix) {
      if (opened.key === key && opened.value && !opened.needsReload) return { value: opened.value };
      opened.prefix = prefix;
      const value = await load(key, { focus: false });
      return value ? { value } : { error: opened.error || `Could not load ${quoted(key)}.` };
    },
  };
}

// When a loaded value expires (from its listing entry or its headers), or null.
export const expiryOf = (value) => parseTime(value.meta && value.meta.expires) || parseTime(value.expiresHeader);
