// The editor (the right pane of Keys in mode new or edit): a key's name, its value as text or
// from a file, an optional content type and expiry.
//
// A create carries If-None-Match: *, an edit If-Match with the ETag seen when the key was opened
// (from the key view), so a concurrent change is reported, with the draft kept, instead of
// silently overwritten. The key and value size limits come from the server (api.limits()).
// A change to the key made elsewhere while it is being edited (the key view hears of it through
// the watch feed and calls changedElsewhere) is said at once in a warning above the form, with
// the revision, instead of only on save; the draft and the ETag it is based on stay as they are.
// Owns the draft's state: which key, the chosen file, whether the type came from that file.
// An edit of a key the token (access.js) may not write has no save button.
// A new key's name is checked before anything is sent (keyNameProblem), with the reason under
// the field: the server would store "a/" or "/a" or "a//b", but in the page they are a folder, or
// a key in a folder with no name, that no listing can lead to. A file chosen while the name is
// empty (or only a folder) names the key after it, and a type left empty is the file name's
// (contentTypeOfName) or, for typed text that is a JSON object or array, application/json; the
// server would call those plain text.

import { showIfAllowed } from './access.js';
import { ApiError, kvUrl } from './api.js';
import { $ } from './dom.js';
import { showAlert, toast } from './dialogs.js';
import { contentTypeOfName, folderOf, formatBytes, quoted, relativeTime, utf8Bytes, utf8Length } from './format.js';
import { expiryOf } from './key_view.js';
import { go, keysHref } from './routing.js';
import { TEXT_PREVIEW_LIMIT, classify } from './value_kind.js';

// Why name cannot be a new key's name, or '' when it can. Length is the server's limit, checked
// apart.
export function keyNameProblem(name) {
  if (name === '') return 'Give the key a name.';
  if (name.endsWith('/')) {
    return `${quoted(name)} ends in “/”, so it names a folder, not a key. Add the key’s own name after the last “/”.`;
  }
  const problems = [];
  if (name.startsWith('/')) problems.push('A key cannot start with “/”: folders are named from the top, like config/app.');
  if (name.includes('//')) problems.push('A key cannot hold “//”: that would be a folder without a name.');
  return problems.join(' ');
}

// The content type a value gets when the field is left empty: the chosen file's name says it, or
// typed text that parses as a JSON object or array is JSON. '' lets the server sniff the bytes.
function defaultType({ file, text }) {
  if (file) return file.type || contentTypeOfName(file.name);
  return looksLikeJsonDocument(text) ? 'application/json' : '';
}

function looksLikeJsonDocument(text) {
  if (!/^\s*[[{]/.test(text)) return false;  // only objects and arrays: "1" or "true" are text
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// keyView: the key view (the value an edit starts from); onSaved(key) after a write.
export function createEditor({ api, access, keyView, onSaved }) {
  const editor = {
    active: false,        // a draft is open (kept when the same route comes back)
    mode: 'new',          // 'new' or 'edit'
    key: null,            // the key edited
    prefix: '',           // the folder the editor was opened in (a new key goes there by default)
    etag: null,           // the ETag the edit is based on
    file: null,           // the chosen File, for a value from a file
    generation: 0,        // bumps per open so a late load for an old draft is dropped
    typeFromFile: false,  // the content type field was filled in from the chosen file
    saving: false,        // this page's own PUT is in flight
    heldChange: null,     // a change reported while saving: news only if the save fails
  };
  const form = $('editor');
  const fail = (message, focusId, actions = []) => {
    showAlert($('ed-error'), $('ed-error-text'), $('ed-error-actions'), message, actions);
    if (focusId) $(focusId).focus();
  };

  // The message under the key field (and the field marked invalid); '' hides it.
  function showKeyProblem(message) {
    const node = $('ed-key-error');
    node.textContent = message;
    node.hidden = message === '';
    if (message) $('ed-key').setAttribute('aria-invalid', 'true');
    else $('ed-key').removeAttribute('aria-invalid');
  }

  function setSource(source) {
    $('ed-src-text').checked = source === 'text';
    $('ed-src-file').checked = source === 'file';
    $('ed-text-wrap').hidden = source !== 'text';
    $('ed-file-wrap').hidden = source !== 'file';
  }

  function setFile(file) {
    editor.file = file;
    $('ed-file-name').textContent = file ? `${file.name} · ${formatBytes(file.size)}` : 'or drop one here';
    $('ed-drop').querySelector('.drop-title').textContent = file ? 'Chosen file' : 'Choose a file';
    const typeInput = $('ed-type');
    const type = file ? defaultType({ file }) : '';
    if (type && (typeInput.value === '' || editor.typeFromFile)) {
      typeInput.value = type;
      editor.typeFromFile = true;
    }
    // A new key without a name of its own yet (empty, or only the folder it was opened in) is
    // named after the file, in that folder.
    const keyInput = $('ed-key');
    if (file && editor.mode === 'new' && (keyInput.value === '' || keyInput.value.endsWith('/'))) {
      keyInput.value = (keyInput.value || editor.prefix) + file.name;
      showKeyProblem('');
    }
  }

  async function open(r) {
    const generation = ++editor.generation;
    const sameEdit = editor.active && editor.mode === r.mode && editor.key === r.key;
    if (sameEdit && !form.hidden) return;  // already editing this: keep the draft
    Object.assign(editor, { active: true, mode: r.mode, key: r.key, prefix: r.prefix, etag: null, file: null, typeFromFile: false });
    form.reset();
    setFile(null);
    setSource('text');
    $('ed-error').hidden = true;
    $('ed-remote').hidden = true;
    showKeyProblem('');
    editor.heldChange = null;
    const keyInput = $('ed-key');
    const isEdit = r.mode === 'edit';
    const backHref = isEdit ? keysHref({ prefix: r.prefix, key: r.key }) : keysHref({ prefix: r.prefix });
    $('ed-back').href = backHref;
    $('ed-cancel').href = backHref;
    $('ed-title').textContent = isEdit ? 'Edit key' : 'New key';
    $('ed-save').textContent = isEdit ? 'Save changes' : 'Create key';
    showIfAllowed($('ed-save'), !isEdit || access.can('write', 'kv', r.key));
    keyInput.readOnly = isEdit;
    $('ed-key-hint').hidden = isEdit;
    $('ed-ttl-hint').textContent = 'Leave empty to keep the key until it is deleted.';
    form.hidden = false;
    document.title = `${isEdit ? 'Edit' : 'New key'} · keyva`;

    if (!isEdit) {
      keyInput.value = r.prefix;
      keyInput.focus();
      keyInput.setSelectionRange(keyInput.value.length, keyInput.value.length);
      return;
    }

    keyInput.value = r.key;
    // Use what was seen when the key was opened: that ETag is the one the edit is based on.
    $('ed-save').disabled = true;
    const { value, error } = await keyView.valueOf(r.key, r.prefix);
    $('ed-save').disabled = false;
    if (generation !== editor.generation) return;
    if (!value) {
      fail(`Could not load ${quoted(r.key)} for editing. ${error}`);
      return;
    }
    editor.etag = value.etag;
    const { kind, text } = classify(value.type, value.bytes);
    $('ed-type').value = value.type;
    if (kind === 'binary' || kind === 'image' || value.bytes.length > TEXT_PREVIEW_LIMIT) {
      setSource('file');
      $('ed-file-name').textContent = `The current value is ${kind === 'image' ? 'an image' : 'binary'} (${formatBytes(value.bytes.length)}). Choose a file to replace it.`;
    } else {
      $('ed-text').value = text || '';
    }
    const expires = expiryOf(value);
    if (expires) {
      const remaining = Math.max(1, Math.ceil((expires.getTime() - Date.now()) / 1000));
      $('ed-ttl').value = String(remaining);
      $('ed-ttl-unit').value = '1';
      $('ed-ttl-hint').textContent = `It expires ${relativeTime(expires)} now. Clear this to keep it forever.`;
    }
    $('ed-title').focus({ preventScroll: true });
    if (!$('ed-text-wrap').hidden) $('ed-text').focus();
  }

  // Leaves the draft: the editor opens afresh next time.
  function leave() {
    editor.active = false;
  }

  // The key was changed, deleted or expired elsewhere ({type, key, revision, etag?}): warns when
  // it is the one being edited and the change is not the version the edit started from.
  function changedElsewhere(event) {
    if (!editor.active || editor.mode !== 'edit' || editor.key !== event.key || form.hidden) return;
    if (event.type === 'put' && event.etag && event.etag === editor.etag) return;
    if (editor.saving) {
      editor.heldChange = event;  // most likely our own save; shown if the save fails
      return;
    }
    const { key } = editor;
    const revision = event.revision ? ` (revision ${event.revision})` : '';
    const what = event.type === 'put' ? `was changed elsewhere${revision}`
      : event.type === 'expire' ? `expired${revision}` : `was deleted elsewhere${revision}`;
    const openLatest = () => {
      keyView.invalidate();
      leave();
      go(keysHref({ prefix: folderOf(key), key }));
    };
    showAlert($('ed-remote'), $('ed-remote-text'), $('ed-remote-actions'),
      `${quoted(key)} ${what} while you were editing it. Your draft is kept; saving it will ask before replacing the other version.`,
      [{ label: event.type === 'put' ? 'Discard mine and load theirs' : 'Discard my draft', run: openLatest }], 'warn');
  }

  async function submit({ force = false } = {}) {
    $('ed-error').hidden = true;
    const key = $('ed-key').value;
    const isEdit = editor.mode === 'edit';
    const limits = await api.limits().catch(() => null);  // unknown: the server will say
    // An edit keeps the key's name whatever it is (the API may have made "a//b").
    const problem = isEdit ? '' : keyNameProblem(key);
    showKeyProblem(problem);
    if (problem) {
      $('ed-key').focus();
      return;
    }
    if (limits && utf8Length(key) > limits.max_key_size) {
      return fail(`That key is too long: keys are at most ${limits.max_key_size} bytes.`, 'ed-key');
    }

    let body;
    if ($('ed-src-file').checked) {
      if (!editor.file) return fail('Choose a file to upload, or switch to Text.', 'ed-file');
      if (limits && editor.file.size > limits.max_value_size) {
        return fail(`That file is ${formatBytes(editor.file.size)}; this server accepts values of at most ${formatBytes(limits.max_value_size)}.`, 'ed-file');
      }
      body = new Uint8Array(await editor.file.arrayBuffer());
    } else {
      // Bytes, not a string: fetch would otherwise label a string body text/plain itself, and
      // an empty content type is meant to let the server sniff.
      body = utf8Bytes($('ed-text').value);
      if (limits && body.length > limits.max_value_size) {
        return fail(`That text is ${formatBytes(body.length)}; this server accepts values of at most ${formatBytes(limits.max_value_size)}.`, 'ed-text');
      }
    }

    const params = new URLSearchParams();
    const ttlText = $('ed-ttl').value.trim();
    if (ttlText !== '') {
      const ttl = Number(ttlText);
      if (!Number.isInteger(ttl) || ttl <= 0) return fail('The expiry must be a whole number greater than zero.', 'ed-ttl');
      params.set('ttl', String(ttl * Number($('ed-ttl-unit').value)));
    }
    const headers = {};
    const fromFile = $('ed-src-file').checked;
    const type = $('ed-type').value.trim() ||
      defaultType(fromFile ? { file: editor.file } : { text: $('ed-text').value });
    if (limits && utf8Length(type) > limits.max_content_type_size) {
      return fail(`That content type is too long: this server takes at most ${limits.max_content_type_size} bytes.`, 'ed-type');
    }
    if (type) headers['Content-Type'] = type;
    if (!force) {
      if (isEdit && editor.etag) headers['If-Match'] = editor.etag;
      if (!isEdit) headers['If-None-Match'] = '*';
    }

    const save = $('ed-save');
    save.disabled = true;
    save.setAttribute('aria-busy', 'true');
    editor.saving = true;
    editor.heldChange = null;
    try {
      const q = params.toString();
      await api.request('PUT', `${kvUrl(key)}${q ? `?${q}` : ''}`, { body, headers });
    } catch (err) {
      editor.saving = false;
      if (editor.heldChange && !(err instanceof ApiError && err.status === 412)) changedElsewhere(editor.heldChange);
      editor.heldChange = null;
      const openLatest = () => {
        keyView.invalidate();
        leave();
        go(keysHref({ prefix: folderOf(key), key }));
      };
      if (err instanceof ApiError && err.status === 412) {
        if (isEdit) {
          fail(`${quoted(key)} was changed or deleted by someone else after you opened it, so your edit was not saved. Your version is still here.`,
            null, [
              { label: 'Load the latest version', primary: true, run: openLatest },
              { label: 'Save mine anyway', run: () => submit({ force: true }) },
            ]);
        } else {
          fail(`A key named ${quoted(key)} already exists, so nothing was saved.`, null, [
            { label: 'Open it', run: openLatest },
            { label: 'Replace it', run: () => submit({ force: true }) },
          ]);
        }
      } else {
        fail(api.describeError(err, { key }));
      }
      return;
    } finally {
      editor.saving = false;
      save.disabled = false;
      save.removeAttribute('aria-busy');
    }
    toast(isEdit ? `Saved ${quoted(key)}` : `Created ${quoted(key)}`);
    leave();
    keyView.invalidate();
    onSaved(key);
    go(keysHref({ prefix: folderOf(key), key }));
  }

  // Wiring.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  $('ed-text').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  $('ed-src-text').addEventListener('change', () => setSource('text'));
  $('ed-src-file').addEventListener('change', () => setSource('file'));
  $('ed-file').addEventListener('change', () => setFile($('ed-file').files[0] || null));
  $('ed-type').addEventListener('input', () => {
    editor.typeFromFile = false;
  });
  // Once a problem with the name is shown, it goes away as soon as the name is fixed.
  $('ed-key').addEventListener('input', () => {
    if (!$('ed-key-error').hidden && editor.mode === 'new') showKeyProblem(keyNameProblem($('ed-key').value));
  });
  const drop = $('ed-drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) setFile(file);
  });
  $('ed-cancel').addEventListener('click', leave);

  return {
    // Opens the editor for route r (mode 'new' or 'edit'); the same route again keeps the draft.
    open,
    // Hides the editor and drops the draft.
    close() {
      form.hidden = true;
      leave();
    },
    changedElsewhere,
  };
}
