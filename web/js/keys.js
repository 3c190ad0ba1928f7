// The Keys view: the key list on the left; on the right the open key, the editor, or a note
// saying nothing is open. Routes each #/keys URL to the three panes and connects them (a delete
// or a save refreshes the list; a change made elsewhere to the key being edited reaches the
// editor); each pane owns its own state.

import { $ } from './dom.js';
import { createEditor } from './editor.js';
import { folderOf } from './format.js';
import { createKeyList } from './key_list.js';
import { createKeyView } from './key_view.js';

export function createKeysView({ api }) {
  const keyList = createKeyList({ api });
  const keyView = createKeyView({
    api,
    onListChanged: () => keyList.reload(),
    onChangedElsewhere: (event) => editor.changedElsewhere(event),
  });
  const editor = createEditor({
    api,
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
  };
}
