// The Keys view: the key list on the left; on the right the open key, the editor, or a note
// saying nothing is open. Routes each #/keys URL to the three panes and connects them (a delete
// or a save refreshes the list; a change made elsewhere to the key being edited reaches the
// editor); each pane owns its own state. access (access.js) decides which actions each pane
// offers; after a new token the panes load again.

import { $ } from './dom.js';
import { createEditor } from './editor.js';
import { folderOf } from './format.js';
import { createKeyList } from './key_list.js';
import { createKeyView } from './key_view.js';
import { go } from './routing.js';

export function createKeysView({ api, access }) {
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
