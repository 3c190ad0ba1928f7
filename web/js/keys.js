// The Keys view: the key list on the left; on the right the open key, the editor, or a note
// saying nothing is open. Routes each #/keys URL to the three panes and connects them (a delete
// or a save refreshes the list; a change made elsewhere to the key being edited reaches the
// editor); each pane owns its own state. access (access.js) decides which actions each pane
// offers; after a new token the panes load again. Above the list, "Go to key" (go_to_key.js)
// searches the whole store.
// Focus: a route reached by Enter (or a click) on a row of the list or of the matches leaves
// focus on that row, so ↑/↓ and Enter go on from there; the key view would otherwise take it
// for the key's name. On a phone, where the list is hidden while a key is open, the name keeps
// it. (A folder opened from its row: the key list puts focus on the new folder's rows itself.)

import { $ } from './dom.js';
import { createEditor } from './editor.js';
import { folderOf } from './format.js';
import { createGoToKey } from './go_to_key.js';
import { createKeyList } from './key_list.js';
import { createKeyView } from './key_view.js';
import { go } from './routing.js';

// The row of the key list or of the matches that has focus, or null.
function focusedRow() {
  const node = document.activeElement;
  return node instanceof HTMLElement && node.matches('#browser a.row') ? node : null;
}

// Puts focus back on row after a pane took it, if row is still there to be seen.
function keepFocus(row) {
  if (!row || !row.isConnected || row === document.activeElement) return;
  if (row.checkVisibility ? !row.checkVisibility() : row.offsetParent === null) return;
  row.focus({ preventScroll: true });
}

export function createKeysView({ api, access }) {
  const goTo = createGoToKey({ api });
  const keyList = createKeyList({ api, access });
  const keyView = createKeyView({
    api,
    access,
    onListChanged: () => keyList.reload(),
    onChangedElsewhere: (event) => editor.changedElsewhere(event),
  });
  const editor = createEditor({
    api,
    access,
    keyView,
    onSaved: (key) => {
      if (folderOf(key) === keyList.prefix()) keyList.reload();
    },
  });

  return {
    show(r) {
      const row = focusedRow();
      goTo.show(r);
      goTo.select(r.key);
      keyList.show(r);
      keyList.select(r.key);
      $('view-keys').classList.toggle('has-detail', r.mode !== null);
      if (r.mode === 'new' || r.mode === 'edit') {
        $('detail-empty').hidden = true;
        keyView.hide();
        editor.open(r);
        return;
      }
      editor.close();
      if (r.mode === 'view') {
        $('detail-empty').hidden = true;
        keyView.show(r);
        keepFocus(row);
        document.title = `${r.key} · keyva`;
      } else {
        keyView.close();
        $('detail-empty').hidden = false;
        document.title = r.prefix ? `${r.prefix} · keyva` : 'keyva';
      }
    },
    // Leaving for another view keeps everything, a draft included, for coming back.
    hide() {},
    // A new token: list and open key load again with it (a draft is kept).
    tokenChanged() {
      keyList.reload();
      keyView.invalidate();
      if (!$('view-keys').hidden) go(location.hash);
    },
  };
}
