// Routing: the URL's hash is the state a person can bookmark, so Back, reload and links all work.
//
//   #/keys?prefix=P                  a folder
//   #/keys?prefix=P&q=F              a folder, its list narrowed to names starting with F
//   #/keys?prefix=P&key=K            a key open (mode=view is implied)
//   #/keys?prefix=P&key=K&mode=edit  the editor on a key; #/keys?prefix=P&mode=new a new key
//   #/keys?...&find=S                with "Go to key" searching for S (go_to_key.js)
//   #/counters, #/stats
//
// q sticks to its folder: a link without q (a row, Back, Cancel) keeps the filter while the folder
// stays the same, and the key list writes the filter back into the URL (replaceState, so typing
// makes no history entries). A link into another folder starts unfiltered unless it says q.
// find sticks everywhere in Keys: a search is of the whole store, so it stays (and is written
// back into the URL) until it is cleared, whatever folder or key is opened meanwhile.
//
// startRouting() shows one view per route; each view has show(route, entering) and hide().

import { folderOf } from './format.js';

// The hash of a keys route. Undefined or null parts are left out.
export function keysHref({ prefix = '', key, mode, q, find } = {}) {
  const params = new URLSearchParams();
  if (prefix) params.set('prefix', prefix);
  if (key !== undefined && key !== null) params.set('key', key);
  if (mode) params.set('mode', mode);
  if (q !== undefined && q !== null) params.set('q', q);
  if (find) params.set('find', find);
  const query = params.toString();
  return `#/keys${query ? `?${query}` : ''}`;
}

// The route of a hash: {view: 'keys'|'counters'|'stats', prefix, key (or null), mode
// ('view'|'new'|'edit' or null), q (the filter, or null when the URL does not say), find (the
// "Go to key" search, or null when the URL does not say)}.
export function parseRoute(hash = location.hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split(/\?(.*)/s);
  const params = new URLSearchParams(query);
  const view = { '/counters': 'counters', '/stats': 'stats' }[path] || 'keys';
  const key = params.has('key') ? params.get('key') : null;
  const prefix = params.has('prefix') ? params.get('prefix') : key !== null ? folderOf(key) : '';
  const mode = params.get('mode') || (key !== null ? 'view' : null);
  const q = params.has('q') ? params.get('q') : null;
  const find = params.has('find') ? params.get('find') : null;
  return { view, prefix, key, mode: mode === 'new' || mode === 'edit' || mode === 'view' ? mode : null, q, find };
}

// Navigates to a hash; going to the hash shown now routes it again (reloads what it shows).
export function go(href) {
  if (location.hash === href) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = href;
}

// Sets (or, with '' or null, removes) one parameter of the current keys route in the URL without
// navigating: no history entry, no routing.
export function setRouteParam(name, value) {
  const [path, query = ''] = location.hash.replace(/^#/, '').split(/\?(.*)/s);
  const params = new URLSearchParams(query);
  if (value === null || value === '') params.delete(name);
  else params.set(name, value);
  const rest = params.toString();
  const hash = `#${path || '/keys'}${rest ? `?${rest}` : ''}`;
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
}

// Shows the view of each route. views: {keys, counters, stats}, each {show(route, entering),
// hide()}; entering is true when the route comes from another view (or is the first).
export function startRouting(views) {
  let current = null;
  const route = () => {
    const r = parseRoute();
    const entering = r.view !== current;
    current = r.view;
    for (const [name, view] of Object.entries(views)) {
      $view(name).hidden = name !== r.view;
      if (name !== r.view) view.hide();
    }
    for (const a of document.querySelectorAll('.tabs a')) {
      if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    views[r.view].show(r, entering);
  };
  window.addEventListener('hashchange', route);
  route();
}

const $view = (name) => document.getElementById(`view-${name}`);
