// The Counters view: atomic counters at /seq/{name}, as the server lists them (GET /seq/, in name
// order, a page at a time with Load more), each on a card with its value, Increment (by a step)
// and Reset (after a confirmation). Increment and Reset are shown only when the token
// (access.js) may write or delete that counter. The list is read again each time the view is
// entered and after a new token.
//
// The form opens a counter by name. One the server has is shown (its card comes first when the
// pages loaded do not reach it); one it does not have gets a card saying so, kept only while the
// view stays open and never stored in the browser, so a mistyped name does not come back as if
// it were a counter. Its first increment creates it (a counter never used reads 0), and from then
// on the server lists it. A reset removes the counter on the server: its card shows 0 until the
// list is read again.

import { showIfAllowed } from './access.js';
import { ApiError, seqUrl } from './api.js';
import { $, h } from './dom.js';
import { confirmDialog, toast } from './dialogs.js';
import { formatCount, quoted } from './format.js';

// A counter's JSON (one counter, or a listing of them) with every "value" as its exact decimal
// digits: counters are 64-bit, and JSON.parse alone would round those above 2^53.
function parseCounters(text) {
  return JSON.parse(text, (key, value, context) => (key === 'value' && typeof value === 'number'
    ? (context && typeof context.source === 'string' ? context.source : String(value))
    : value));
}

async function counterValue(res) {
  return String(parseCounters(await res.text()).value ?? 0);
}

// The counters of one listing page: [{name, value (decimal digits)}].
function countersOfPage(data) {
  if (!Array.isArray(data.counters)) return [];
  return data.counters.filter((c) => c && typeof c.name === 'string')
    .map((c) => ({ name: c.name, value: String(c.value ?? 0) }));
}

// Groups the digits of a decimal string when that loses nothing; a minus sign as "−".
function formatBigCount(digits) {
  const negative = digits.startsWith('-');
  const abs = negative ? digits.slice(1) : digits;
  const grouped = abs.length <= 15 ? formatCount(Number(abs)) : abs;
  return negative ? `−${grouped}` : grouped;
}

const countersText = (n) => `${formatCount(n)} ${n === 1 ? 'counter' : 'counters'}`;

export function createCountersView({ api, access }) {
  const state = {
    counters: [],     // {name, value} as listed, in name order, the pages loaded so far
    next: null,       // cursor for the next page, or null when every counter is loaded
    generation: 0,    // bumps per request so a late answer to an old one is dropped
    opened: null,     // a name opened with the form that the loaded pages do not hold, or null
  };
  const cards = new Map();  // name -> {li, value, note, error, showError, showAllowed}

  // Loads the first page (as many counters as are shown, at least a page) or, with more, the next.
  async function load({ more = false } = {}) {
    const generation = ++state.generation;
    $('counter-more').disabled = true;
    $('counter-list').setAttribute('aria-busy', 'true');
    try {
      const limits = await api.limits();
      const params = new URLSearchParams();
      if (more && state.next !== null) params.set('after', state.next);
      const limit = more ? limits.list_limit_default
        : Math.min(Math.max(state.counters.length, limits.list_limit_default), limits.list_limit_max);
      params.set('limit', String(limit));
      const res = await api.request('GET', `/seq/?${params}`);
      const data = parseCounters(await res.text());
      if (generation !== state.generation) return;
      const page = countersOfPage(data);
      state.counters = more ? state.counters.concat(page) : page;
      state.next = data.next === undefined || data.next === null || data.next === '' ? null : String(data.next);
      for (const counter of page) {
        const card = cardFor(counter.name);
        card.value.textContent = formatBigCount(counter.value);
        card.note.hidden = true;
        card.error.hidden = true;
      }
      $('counter-list-error').hidden = true;
      renderList();
    } catch (err) {
      if (generation !== state.generation) return;
      $('counter-list-error-text').textContent = api.describeError(err);
      $('counter-list-error').hidden = false;
    } finally {
      if (generation === state.generation) {
        $('counter-more').disabled = false;
        $('counter-list').setAttribute('aria-busy', 'false');
      }
    }
  }

  function renderList() {
    const listed = state.counters.map((c) => c.name);
    if (state.opened !== null && listed.includes(state.opened)) state.opened = null;  // in its place now
    const names = state.opened !== null ? [state.opened, ...listed] : listed;
    for (const name of cards.keys()) {
      if (!names.includes(name)) cards.delete(name);
    }
    $('counter-list').replaceChildren(...names.map((name) => cardFor(name).li));
    $('counter-empty').hidden = names.length > 0;
    $('counter-more').hidden = state.next === null;
    $('counter-count').textContent = listed.length === 0 ? '' : state.next !== null
      ? `Showing the first ${countersText(listed.length)}` : countersText(listed.length);
  }

  function cardFor(name) {
    if (!cards.has(name)) cards.set(name, buildCard(name));
    return cards.get(name);
  }

  function buildCard(name) {
    const id = `c${Math.random().toString(36).slice(2, 10)}`;
    const value = h('p', { class: 'counter-value', text: '…' });
    const step = h('input', { type: 'number', id: `${id}-step`, value: '1', step: '1', inputMode: 'numeric' });
    const inc = h('button', { type: 'submit', class: 'btn primary', text: 'Increment' });
    const reset = h('button', { type: 'button', class: 'btn danger-ghost', text: 'Reset' });
    const note = h('p', { class: 'counter-note', text: 'There is no counter by this name yet: the first increment creates it.' });
    note.hidden = true;
    const error = h('p', { class: 'counter-error', attrs: { role: 'alert' } });
    error.hidden = true;
    const controls = h('form', { class: 'counter-controls' },
      h('label', { class: 'visually-hidden', htmlFor: step.id, text: `Increment ${name} by` }),
      step, inc, reset);
    const li = h('li', { class: 'counter' },
      h('div', {}, h('p', { class: 'counter-name', text: name }), value),
      controls, note, error);
    const showError = (err) => {
      error.textContent = api.describeError(err, { counter: name });
      error.hidden = false;
    };
    controls.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      const by = step.value.trim() === '' ? '1' : step.value.trim();
      if (!/^-?\d+$/.test(by)) {
        error.textContent = 'The step must be a whole number.';
        error.hidden = false;
        step.focus();
        return;
      }
      inc.disabled = true;
      try {
        const res = await api.request('POST', `${seqUrl(name)}?${new URLSearchParams({ by })}`);
        value.textContent = formatBigCount(await counterValue(res));
        note.hidden = true;  // it exists now
      } catch (err) {
        showError(err);
      } finally {
        inc.disabled = false;
      }
    });
    reset.addEventListener('click', async () => {
      const confirmed = await confirmDialog({
        title: 'Reset this counter?',
        body: ['The counter ', h('strong', { text: name }), ' will go back to 0.'],
        confirmLabel: 'Reset counter',
      });
      if (!confirmed) return;
      error.hidden = true;
      try {
        await api.request('DELETE', seqUrl(name));
        value.textContent = '0';
        toast(`Reset ${quoted(name)}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) value.textContent = '0';
        else showError(err);
      }
    });
    const showAllowed = () => {
      showIfAllowed(inc, access.can('write', 'seq', name));
      showIfAllowed(reset, access.can('delete', 'seq', name));
    };
    showAllowed();
    return { li, value, note, error, showError, showAllowed };
  }

  // The server's listing entry for exactly this name ({name, value}), or null when it has no such
  // counter (reading /seq/{name} cannot tell: a counter never used reads 0 there).
  async function listedCounter(name) {
    const res = await api.request('GET', `/seq/?${new URLSearchParams({ prefix: name, limit: '1' })}`);
    const counter = countersOfPage(parseCounters(await res.text()))[0];
    return counter && counter.name === name ? counter : null;
  }

  // Shows the counter name: its card when loaded, else a card first in the list, saying so when
  // the server has no such counter.
  async function open(name) {
    if (!state.counters.some((c) => c.name === name)) {
      let counter;
      try {
        counter = await listedCounter(name);
      } catch (err) {
        counter = err;
      }
      state.opened = name;
      const card = cardFor(name);
      card.error.hidden = true;
      if (counter instanceof Error) {
        card.value.textContent = '…';
        card.showError(counter);
      } else {
        card.value.textContent = formatBigCount(counter ? counter.value : '0');
        card.note.hidden = counter !== null;
      }
      renderList();
    }
    cardFor(name).li.scrollIntoView({ block: 'nearest' });
  }

  // Wiring: what the token may do, Load more, and the form that opens (or starts) a counter.
  access.onChange(() => {
    for (const card of cards.values()) card.showAllowed();
  });
  $('counter-more').addEventListener('click', () => load({ more: true }));
  $('counter-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('counter-name').value.trim();
    $('counter-error').hidden = true;
    if (name === '') {
      $('counter-error-text').textContent = 'Type the name of a counter to open.';
      $('counter-error').hidden = false;
      $('counter-name').focus();
      return;
    }
    $('counter-name').value = '';
    await open(name);
  });

  return {
    show(r, entering) {
      document.title = 'Counters · keyva';
      if (entering) {
        state.opened = null;  // a name opened last time and never created is not a counter
        load();
        $('counters-title').focus({ preventScroll: true });
      }
    },
    hide() {},
    // A new token: read the list again with it.
    tokenChanged() {
      load();
    },
  };
}
