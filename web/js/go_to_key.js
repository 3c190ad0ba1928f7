// "Go to key" (the box above the filter in Keys): finds keys anywhere in the store by their full
// path. Text holding "*" or "?" is a glob (GET /kv/?glob=: "*" within a segment, "**" across
// them, "?" one character, "\" escapes), anything else is text the key holds (GET /kv/?contains=,
// ASCII case aside); the server does the matching, and the matches are listed with full paths.
//
// A box of its own, not the filter: the filter narrows one folder's listing by how names start
// (its folders with their counts, kept live by the feed), and Enter there on a path opens that
// folder; a search is of the whole store and answers flat full paths from another query. One box
// meaning either, depending on what was typed, would surprise both ways.
//
// A search page looks at a bounded number of keys, so it may hold fewer matches than asked (even
// none) with next set: pages are asked on until MAX_MATCHES are found or MAX_PAGES were asked,
// and the list says when there may be more. Whether the text is itself a key is asked apart
// (api.listEntry: a listing, so a miss is a 200 and not a 404 on the console), so a full path
// opens at once even when a search would not reach it.
// Keyboard: Down from the box into the matches, Up/Down among them, Enter opens one (they are
// links); Enter in the box opens the key of exactly that name, else the only match; Escape
// clears. The search is the route's find (routing.js): reload, Back and links keep it.

import { $, h, icon } from './dom.js';
import { folderOf, formatBytes, formatCount, quoted, utf8Length } from './format.js';
import { go, keysHref, setRouteParam } from './routing.js';
import { kindOfType } from './value_kind.js';

const SEARCH_DELAY_MS = 250;
const MAX_MATCHES = 20;
const MAX_PAGES = 5;

const isGlob = (text) => /[*?]/.test(text);

// Why the server would refuse text as a search, or '': its bounds come from /api/limits
// (search_max_size, search_max_wildcards), said here rather than sent to get a 400. A glob is
// read as the server reads it (internal/server/key_pattern.cc): "\" takes the next character
// literally, "**" is one wildcard.
function patternProblem(text, limits) {
  const maxBytes = limits.search_max_size;
  if (utf8Length(text) > maxBytes) return `A search is at most ${maxBytes} bytes.`;
  if (!isGlob(text)) return '';
  let wildcards = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      if (i + 1 === text.length) return 'A glob cannot end in a lone “\\”: write “\\\\” for a backslash.';
      i++;
    } else if (text[i] === '*' || text[i] === '?') {
      wildcards++;
      if (text[i] === '*' && text[i + 1] === '*') i++;
    }
  }
  const maxWildcards = limits.search_max_wildcards;
  return wildcards > maxWildcards ? `A glob may hold at most ${maxWildcards} wildcards.` : '';
}

// The parts of key with the text found in it marked (ASCII case aside, as the server compares).
function marked(key, text) {
  if (text === '' || isGlob(text)) return [key];
  const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const at = fold(key).indexOf(fold(text));
  if (at < 0) return [key];
  return [key.slice(0, at), h('mark', { text: key.slice(at, at + text.length) }), key.slice(at + text.length)];
}

export function createGoToKey({ api }) {
  const state = {
    query: '',        // the text searched for ('' for none)
    matches: [],      // listing entries of the keys found, in key order (the exact one first)
    exact: null,      // the entry of the key named exactly query, or null
    more: false,      // there are more matches than shown, or keys not searched yet
    generation: 0,    // bumps per search so a late answer to an old one is dropped
    searching: null,  // the promise of the search running, or null
    selected: null,   // the key open on the right, marked in the matches
  };
  const input = $('goto');
  let timer = null;

  function setStatus(text, kind = '') {
    const node = $('goto-status');
    node.textContent = text;
    node.className = `goto-status${kind ? ` ${kind}` : ''}`;
  }

  // Searches for text (the matches of a glob or of a substring, and the key of that very name).
  function search(text) {
    const generation = ++state.generation;
    Object.assign(state, { query: text, matches: [], exact: null, more: false });
    $('goto-panel').hidden = text === '';
    renderMatches();
    if (text === '') {
      state.searching = null;
      return Promise.resolve();
    }
    setStatus('Searching…');
    state.searching = runSearch(text, generation).catch((err) => {
      if (generation === state.generation) setStatus(api.describeError(err), 'error');
    });
    return state.searching;
  }

  async function runSearch(text, generation) {
    const problem = patternProblem(text, await api.limits());
    if (generation !== state.generation) return;
    if (problem) {
      setStatus(problem, 'error');
      return;
    }
    const exactPromise = api.listEntry(text).catch(() => null);  // a name the server refuses is no key
    const found = [];
    let next = null;
    let pages = 0;
    do {
      const params = new URLSearchParams();
      params.set(isGlob(text) ? 'glob' : 'contains', text);
      // One more than is shown, to know whether there are more.
      params.set('limit', String(MAX_MATCHES + 1 - found.length));
      if (next !== null) params.set('after', next);
      const res = await api.request('GET', `/kv/?${params}`);
      const data = await res.json();
      if (generation !== state.generation) return;
      if (Array.isArray(data.keys)) found.push(...data.keys);
      next = data.next === undefined || data.next === null || data.next === '' ? null : String(data.next);
      pages++;
    } while (next !== null && found.length <= MAX_MATCHES && pages < MAX_PAGES);
    const exact = await exactPromise;
    if (generation !== state.generation) return;
    const matches = found.slice(0, MAX_MATCHES);
    if (exact && !matches.some((e) => String(e.key) === text)) matches.unshift(exact);
    Object.assign(state, { matches, exact, more: found.length > MAX_MATCHES || next !== null });
    renderMatches();
    renderStatus();
  }

  function renderMatches() {
    const rows = state.matches.map((entry) => {
      const key = String(entry.key ?? '');
      const a = h('a', { class: 'row key match', href: hrefOf(key) },
        icon(kindOfType(entry.content_type)),
        h('span', { class: 'row-name' }, marked(key, state.query)),
        h('span', { class: 'row-meta', text: key === state.query ? 'this key' : formatBytes(entry.size) }));
      a.dataset.key = key;
      if (key === state.selected) a.setAttribute('aria-current', 'true');
      return h('li', {}, a);
    });
    $('goto-results').replaceChildren(...rows);
  }

  // What the search found, said above the matches.
  function renderStatus() {
    const n = state.matches.length;
    const what = isGlob(state.query) ? `the glob ${quoted(state.query)}` : quoted(state.query);
    if (n === 0) {
      setStatus(state.more ? `No key matches ${what} among the keys searched so far; type more to narrow it down.`
        : `No key matches ${what}.`);
    } else if (state.more) {
      setStatus(`The first ${formatCount(n)} keys matching ${what}; there may be more: type more to narrow it down.`);
    } else {
      setStatus(`${formatCount(n)} ${n === 1 ? 'key matches' : 'keys match'} ${what}.`);
    }
  }

  // A match's link: its folder with it open, the search kept.
  const hrefOf = (key) => keysHref({ prefix: folderOf(key), key, find: state.query });

  // Opens key with focus on its match, so focus stays on the list (keys.js keeps it there).
  function open(key) {
    const row = [...$('goto-results').querySelectorAll('a.row')].find((a) => a.dataset.key === key);
    if (row) row.focus({ preventScroll: true });
    go(hrefOf(key));
  }

  // Takes the box's text as the search, into the URL too.
  function apply() {
    clearTimeout(timer);
    if (input.value === state.query) return state.searching || Promise.resolve();
    setRouteParam('find', input.value);
    return search(input.value);
  }

  // Enter in the box: the key of that very name, else the one match.
  async function submit() {
    const text = input.value;
    if (text === '') return;
    await apply();
    if (input.value !== text || state.query !== text) return;  // typed on meanwhile
    const target = state.exact ? String(state.exact.key) : state.matches.length === 1 ? String(state.matches[0].key) : null;
    if (target !== null) open(target);
    else if (state.matches.length > 1) setStatus(`${formatCount(state.matches.length)}${state.more ? ' or more' : ''} keys match: choose one with ↓ and Enter.`);
  }

  function clear() {
    input.value = '';
    apply();
    input.focus();
  }

  // Wiring.
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(apply, SEARCH_DELAY_MS);
  });
  $('goto-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value !== '') {
      event.preventDefault();
      clear();
    } else if (event.key === 'ArrowDown') {
      const first = $('goto-results').querySelector('a.row');
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  $('goto-results').addEventListener('keydown', (event) => {
    const links = [...$('goto-results').querySelectorAll('a.row')];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      clear();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (event.key === 'ArrowDown' && i + 1 < links.length) links[i + 1].focus();
      if (event.key === 'ArrowUp') (i > 0 ? links[i - 1] : input).focus();
    }
  });

  return {
    // Follows the route's find; a route without it keeps the search shown (and puts it back into
    // the URL), as a link from a row or the crumbs says nothing about it.
    show({ find }) {
      if (find === null) {
        if (state.query !== '') setRouteParam('find', state.query);
        return;
      }
      if (find === state.query) return;
      clearTimeout(timer);
      input.value = find;
      search(find);
    },
    // Marks the open key's match (null for none).
    select(key) {
      state.selected = key;
      for (const a of $('goto-results').querySelectorAll('a.row')) {
        if (a.dataset.key === key) a.setAttribute('aria-current', 'true');
        else a.removeAttribute('aria-current');
      }
    },
  };
}
