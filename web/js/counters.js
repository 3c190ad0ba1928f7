// The Counters view: atomic counters at /seq/{name}. The server keeps no list of counters, so
// this browser remembers the names opened here (localStorage); each gets a card with its value,
// Increment (by a step), Reset (after a confirmation) and Hide. Increment and Reset are shown
// only when the token (access.js) may write or delete that counter.

import { showIfAllowed } from './access.js';
import { ApiError, seqUrl } from './api.js';
import { $, h } from './dom.js';
import { confirmDialog, toast } from './dialogs.js';
import { formatCount, quoted } from './format.js';

const COUNTERS_STORAGE = 'keyva.counters';

function loadNames() {
  try {
    const names = JSON.parse(localStorage.getItem(COUNTERS_STORAGE) || '[]');
    return Array.isArray(names) ? names.filter((n) => typeof n === 'string' && n !== '') : [];
  } catch {
    return [];
  }
}

function saveNames(names) {
  try {
    localStorage.setItem(COUNTERS_STORAGE, JSON.stringify(names));
  } catch {
    /* storage may be unavailable; the list then lasts only as long as the page */
  }
}

// The exact digits of "value" (JSON.parse would round numbers above 2^53).
async function counterValue(res) {
  const text = await res.text();
  const m = /"value"\s*:\s*(-?\d+)/.exec(text);
  if (m) return m[1];
  const parsed = JSON.parse(text);
  return String(parsed.value ?? 0);
}

// Groups the digits of a decimal string when that loses nothing; a minus sign as "−".
function formatBigCount(digits) {
  const negative = digits.startsWith('-');
  const abs = negative ? digits.slice(1) : digits;
  const grouped = abs.length <= 15 ? formatCount(Number(abs)) : abs;
  return negative ? `−${grouped}` : grouped;
}

export function createCountersView({ api, access }) {
  let names = [];           // the remembered names, newest first
  const cards = new Map();  // name -> {li, value, error, showError}

  function renderList() {
    $('counter-list').replaceChildren(...names.map((name) => {
      if (!cards.has(name)) cards.set(name, buildCard(name));
      return cards.get(name).li;
    }));
    $('counter-empty').hidden = names.length > 0;
  }

  function buildCard(name) {
    const id = `c${Math.random().toString(36).slice(2, 10)}`;
    const value = h('p', { class: 'counter-value', text: '…' });
    const step = h('input', { type: 'number', id: `${id}-step`, value: '1', step: '1', inputMode: 'numeric' });
    const inc = h('button', { type: 'submit', class: 'btn primary', text: 'Increment' });
    const reset = h('button', { type: 'button', class: 'btn danger-ghost', text: 'Reset' });
    const remove = h('button', { type: 'button', class: 'btn', text: 'Hide' });
    remove.setAttribute('aria-label', `Stop showing the counter ${name} here`);
    remove.title = 'Stop showing it in this browser (the counter stays on the server)';
    const error = h('p', { class: 'counter-error', attrs: { role: 'alert' } });
    error.hidden = true;
    const controls = h('form', { class: 'counter-controls' },
      h('label', { class: 'visually-hidden', htmlFor: step.id, text: `Increment ${name} by` }),
      step, inc, reset, remove);
    const li = h('li', { class: 'counter' },
      h('div', {}, h('p', { class: 'counter-name', text: name }), value),
      controls, error);
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
    remove.addEventListener('click', () => {
      names = names.filter((n) => n !== name);
      saveNames(names);
      cards.delete(name);
      renderList();
      $('counter-name').focus();
    });
    const showAllowed = () => {
      showIfAllowed(inc, access.can('write', 'seq', name));
      showIfAllowed(reset, access.can('delete', 'seq', name));
    };
    showAllowed();
    return { li, value, error, showError, showAllowed };
  }

  async function refresh(name) {
    const card = cards.get(name);
    if (!card) return;
    try {
      const res = await api.request('GET', seqUrl(name));
      card.value.textContent = formatBigCount(await counterValue(res));
      card.error.hidden = true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) card.value.textContent = '0';
      else card.showError(err);
    }
  }

  // Wiring: what the token may do, and the form that opens (or starts) a counter by name.
  access.onChange(() => {
    for (const card of cards.values()) card.showAllowed();
  });
  $('counter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('counter-name').value.trim();
    $('counter-error').hidden = true;
    if (name === '') {
      $('counter-error-text').textContent = 'Type the name of a counter to open.';
      $('counter-error').hidden = false;
      $('counter-name').focus();
      return;
    }
    if (!names.includes(name)) {
      names = [name, ...names];
      saveNames(names);
    }
    renderList();
    refresh(name);
    $('counter-name').value = '';
  });

  return {
    show(r, entering) {
      document.title = 'Counters · keyva';
      names = loadNames();  // another tab may have opened some
      renderList();
      if (entering) {
        for (const name of names) refresh(name);
        $('counters-title').focus({ preventScroll: true });
      }
    },
    hide() {},
    // A new token: read every counter again with it.
    tokenChanged() {
      for (const name of names) refresh(name);
    },
  };
}
