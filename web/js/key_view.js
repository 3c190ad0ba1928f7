// The open key (the right pane of Keys): its name, metadata, a preview of the value, and the
// Edit, Download and Delete actions.
//
// Owns what was loaded for the open key: its bytes, type, metadata, and the ETag seen when it was
// loaded, which a delete sends in If-Match (and the editor bases an edit on), so a concurrent
// change is reported instead of silently overwritten. Values are fetched as bytes and decoded
// here; downloads and images use blob: URLs, revoked when another key is opened.

import { ApiError, kvUrl } from './api.js';
import { $, h } from './dom.js';
import { confirmDialog, showAlert, toast } from './dialogs.js';
import { dateFormat, downloadName, folderOf, formatBytes, formatCount, parseTime, quoted, relativeTime } from './format.js';
import { renderPreview } from './preview.js';
import { go, keysHref } from './routing.js';
import { baseType } from './value_kind.js';

// onListChanged() after the key turned out to be gone or was deleted (the list is stale).
export function createKeyView({ api, onListChanged }) {
  const opened = {
    key: null,          // the key shown, or null
    prefix: '',         // the folder of the route it is shown in
    value: null,        // once loaded: {key, etag, type, bytes, meta, lastModified, expiresHeader}
    error: '',          // why it could not be loaded
    generation: 0,      // bumps per load so a late answer to an old load is dropped
    urls: [],           // blob URLs to revoke when another key is opened
    showRaw: false,
    needsReload: false,
  };
  const alert = (message, actions, kind) =>
    showAlert($('kv-alert'), $('kv-alert-text'), $('kv-alert-actions'), message, actions, kind);

  function revokeUrls() {
    for (const url of opened.urls) URL.revokeObjectURL(url);
    opened.urls = [];
  }

  function setActionsEnabled(enabled) {
    for (const id of ['kv-edit', 'kv-download']) {
      if (enabled) $(id).removeAttribute('aria-disabled');
      else $(id).setAttribute('aria-disabled', 'true');
    }
    $('kv-delete').disabled = !enabled;
  }

  // Loads and shows key. Resolves to the loaded value, or null (with opened.error set).
  async function load(key, { focus = true } = {}) {
    const generation = ++opened.generation;
    revokeUrls();
    Object.assign(opened, { key, value: null, error: '', showRaw: false, needsReload: false });
    $('kv-alert').hidden = true;
    $('kv-folder').textContent = folderOf(key);
    $('kv-name').textContent = key.slice(folderOf(key).length) || key;
    $('kv-meta').replaceChildren();
    $('kv-kind').textContent = 'Loading…';
    $('kv-raw').hidden = true;
    $('kv-preview').replaceChildren();
    setActionsEnabled(false);
    if (focus) $('kv-name').focus({ preventScroll: true });
    try {
      const [res, entry] = await Promise.all([
        api.request('GET', kvUrl(key)),
        api.listEntry(key).catch(() => null),
      ]);
      const buffer = await res.arrayBuffer();
      if (generation !== opened.generation) return null;
      opened.value = {
        key,
        bytes: new Uint8Array(buffer),
        etag: res.headers.get('ETag'),
        type: res.headers.get('Content-Type') || (entry && entry.content_type) || '',
        meta: entry,
        lastModified: res.headers.get('Last-Modified'),
        expiresHeader: res.headers.get('X-Keyva-Expires') || res.headers.get('Expires'),
      };
      render();
      setActionsEnabled(true);
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
    try {
      await api.request('DELETE', kvUrl(key), { headers: etag ? { 'If-Match': etag } : {} });
      toast(`Deleted ${quoted(key)}`);
    } catch (err) {
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
    opened.key = null;
    go(keysHref({ prefix: opened.prefix }));
    onListChanged();
  }

  // Wiring.
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
    },
    // Hides the pane; keeps what was loaded (the editor may be working from it).
    hide() {
      $('key-view').hidden = true;
    },
    // Hides the pane and forgets the key, so showing it again loads it afresh.
    close() {
      $('key-view').hidden = true;
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
