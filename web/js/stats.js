// The Engine view (the dashboard): /api/stats as cards (storage, cache, memtable, compactions,
// flushes, write amplification and stalls; the HTTP side when the server reports it), a table
// of SST levels, and all the numbers as JSON. Refreshed every few seconds while it is shown and
// the tab is visible.

import { $, h } from './dom.js';
import { formatBytes, formatCount } from './format.js';

const STATS_INTERVAL_MS = 3000;

// The first present field among several spellings ("cache_hits" or "cache.hits").
function pick(obj, ...paths) {
  for (const path of paths) {
    let v = obj;
    for (const part of path.split('.')) v = v && typeof v === 'object' ? v[part] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

// A card: a title, a big figure, a line under it, and optionally a meter (0 to 1).
function card(title, big, sub, { meter, bad = false } = {}) {
  const node = h('div', { class: `card${bad ? ' bad' : ''}` },
    h('h3', { text: title }), h('p', { class: 'big', text: big }), sub ? h('p', { class: 'sub', text: sub }) : null);
  if (meter !== undefined) {
    const fill = h('span');
    fill.style.width = `${Math.max(0, Math.min(100, meter * 100)).toFixed(1)}%`;
    const bar = h('div', { class: 'meter' }, fill);
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', `${(meter * 100).toFixed(1)}%`);
    node.append(bar);
  }
  return node;
}

function engineCards(engine, levels) {
  const levelFiles = levels.reduce((a, l) => a + Number(pick(l, 'files', 'num_files') || 0), 0);
  const levelBytes = levels.reduce((a, l) => a + Number(pick(l, 'bytes', 'size') || 0), 0);
  const hits = Number(pick(engine, 'cache_hits', 'cache.hits', 'block_cache.hits') || 0);
  const misses = Number(pick(engine, 'cache_misses', 'cache.misses', 'block_cache.misses') || 0);
  const lookups = hits + misses;
  const capacity = pick(engine, 'cache_capacity', 'cache.capacity', 'block_cache.capacity');
  const usage = pick(engine, 'cache_usage', 'cache.usage', 'block_cache.usage');
  const wa = Number(pick(engine, 'write_amplification', 'write_amp') || 0);
  const bgError = pick(engine, 'background_error') || '';
  const stalls = Number(pick(engine, 'slowdowns') || 0) + Number(pick(engine, 'stops') || 0);
  const stallMicros = Number(pick(engine, 'stall_micros') || 0);
  const frozen = Number(pick(engine, 'frozen_memtables') || 0);

  const cards = [
    card('Data on disk', formatBytes(pick(engine, 'live_sst_bytes') ?? levelBytes),
      `${formatCount(levelFiles)} SST ${levelFiles === 1 ? 'file' : 'files'} in ${levels.filter((l) => Number(pick(l, 'files', 'num_files') || 0) > 0).length} levels`),
    card('Cache hit rate', lookups ? `${((hits / lookups) * 100).toFixed(1)}%` : '—',
      `${formatCount(hits)} hits · ${formatCount(misses)} misses${capacity !== undefined ? ` · ${formatBytes(usage ?? 0)} of ${formatBytes(capacity)}` : ''}`,
      { meter: lookups ? hits / lookups : 0 }),
    card('Memtable', formatBytes(pick(engine, 'memtable_bytes', 'memtable.bytes') ?? 0),
      `${frozen} waiting to flush · WAL ${formatBytes(pick(engine, 'wal_bytes') ?? 0)}`),
    card('Compactions', formatCount(pick(engine, 'compactions', 'compaction.count') ?? 0),
      `read ${formatBytes(pick(engine, 'compaction_bytes_read') ?? 0)} · wrote ${formatBytes(pick(engine, 'compaction_bytes_written') ?? 0)}`),
    card('Flushes', formatCount(pick(engine, 'flushes') ?? 0),
      `wrote ${formatBytes(pick(engine, 'flush_bytes_written') ?? 0)}`),
    card('Write amplification', wa ? `${wa.toFixed(2)}×` : '—',
      `${formatBytes(pick(engine, 'user_bytes_written') ?? 0)} written by clients`),
    card('Write stalls', formatCount(stalls),
      `${formatCount(pick(engine, 'slowdowns') ?? 0)} slowed · ${formatCount(pick(engine, 'stops') ?? 0)} stopped · ${(stallMicros / 1e6).toFixed(1)} s`),
    card('Last sequence', formatCount(pick(engine, 'last_sequence') ?? 0), 'writes applied so far'),
  ];
  if (bgError) cards.unshift(card('Engine error', 'Writes are failing', String(bgError), { bad: true }));
  return cards;
}

// The HTTP side ({"engine": ..., "server": ...}).
function serverCards(server) {
  const byStatus = server.requests_by_status && typeof server.requests_by_status === 'object'
    ? server.requests_by_status : {};
  let clientErrors = 0;
  let serverErrors = 0;
  for (const [status, n] of Object.entries(byStatus)) {
    if (status.startsWith('4')) clientErrors += Number(n) || 0;
    if (status.startsWith('5')) serverErrors += Number(n) || 0;
  }
  const depth = Number(server.queue_depth || 0);
  const capacity = Number(server.queue_capacity || 0);
  const syncs = Number(server.wal_syncs || 0);
  const jobs = Number(server.storage_jobs || 0);
  const batches = Number(server.storage_batches || 0);
  return [
    card('Requests', formatCount(server.requests ?? 0),
      `${formatCount(clientErrors)} client errors · ${formatCount(serverErrors)} server errors`),
    card('Connections', formatCount(server.connections_open ?? 0),
      `open now · ${formatCount(server.connections_accepted ?? 0)} accepted in all`),
    card('Request queue', `${formatCount(depth)} / ${formatCount(capacity)}`,
      `${formatCount(server.queue_rejected ?? 0)} turned away (503)`,
      { meter: capacity ? depth / capacity : 0 }),
    card('Group commits', formatCount(syncs),
      `${batches ? (jobs / batches).toFixed(1) : '—'} requests per batch · ${formatCount(server.wal_sync_failures ?? 0)} failed syncs`,
      { bad: Number(server.wal_sync_failures || 0) > 0 }),
  ];
}

function levelRows(levels) {
  const maxBytes = Math.max(1, ...levels.map((l) => Number(pick(l, 'bytes', 'size') || 0)));
  const rows = levels.map((l, i) => {
    const bytes = Number(pick(l, 'bytes', 'size') || 0);
    const fill = h('span');
    fill.style.width = `${((bytes / maxBytes) * 100).toFixed(1)}%`;
    return h('tr', {},
      h('td', { text: `L${pick(l, 'level') ?? i}` }),
      h('td', { class: 'num', text: formatCount(pick(l, 'files', 'num_files') ?? 0) }),
      h('td', { class: 'num', text: formatBytes(bytes) }),
      h('td', { class: 'bar-cell' }, h('div', { class: 'bar' }, fill)));
  });
  if (rows.length === 0) {
    rows.push(h('tr', {}, h('td', { colSpan: 4, class: 'muted', text: 'No SST files yet: everything is still in the memtable.' })));
  }
  return rows;
}

// One row per engine figure, walking the server's own table of them ("engine_fields"), so every
// field the engine reports is shown without this page listing them.
function fieldRows(engine, fields) {
  const show = (value, unit) => {
    if (value === null || value === undefined) return unit === 'flag' ? 'none' : '—';
    if (unit === 'bytes') return formatBytes(Number(value));
    if (unit === 'micros') return `${(Number(value) / 1e6).toFixed(1)} s`;
    if (unit === 'ratio') return Number(value).toFixed(2);
    if (unit === 'flag') return String(value);
    return formatCount(Number(value));
  };
  return fields.map((f) => h('tr', {},
    h('td', { text: f.name }),
    h('td', { class: 'num', text: show(engine[f.name], f.unit) }),
    h('td', { text: f.help })));
}

function render(s) {
  const engine = s.engine && typeof s.engine === 'object' ? { ...s, ...s.engine } : s;
  const levels = Array.isArray(engine.levels) ? engine.levels : [];
  $('stats-cards').replaceChildren(...engineCards(engine, levels));
  const server = s.server && typeof s.server === 'object' ? s.server : null;
  $('server-section').hidden = server === null;
  if (server) $('server-cards').replaceChildren(...serverCards(server));
  $('stats-levels').tBodies[0].replaceChildren(...levelRows(levels));
  const fields = Array.isArray(s.engine_fields) ? s.engine_fields : [];
  $('stats-fields').tBodies[0].replaceChildren(...fieldRows(s.engine || {}, fields));
  $('stats-raw').textContent = JSON.stringify(s, null, 2);
}

export function createStatsView({ api }) {
  let shown = false;
  let timer = null;
  let generation = 0;  // bumps per request so a late answer to an old request is dropped

  async function load() {
    const mine = ++generation;
    try {
      const res = await api.request('GET', '/api/stats');
      const stats = await res.json();
      if (mine !== generation) return;
      $('stats-error').hidden = true;
      render(stats);
      $('stats-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (mine !== generation) return;
      $('stats-error-text').textContent = api.describeError(err);
      $('stats-error').hidden = false;
    }
  }

  function stop() {
    clearTimeout(timer);
    timer = null;
  }

  function schedule() {
    stop();
    if (!shown || !$('stats-auto').checked) return;
    timer = setTimeout(async () => {
      if (!document.hidden) await load();
      schedule();
    }, STATS_INTERVAL_MS);
  }

  // Wiring.
  $('stats-refresh').addEventListener('click', load);
  $('stats-auto').addEventListener('change', schedule);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && shown) load();
  });

  return {
    show(r, entering) {
      shown = true;
      document.title = 'Engine · keyva';
      if (entering) {
        $('stats-title').focus({ preventScroll: true });
        load();
      }
      schedule();
    },
    hide() {
      shown = false;
      stop();
    },
  };
}
