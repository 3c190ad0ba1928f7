// The Engine view (the operator's dashboard): the server's version and uptime; sparklines of the
// last 15 minutes from /api/stats/history (the server keeps them, so they are full from the first
// paint; later polls append the samples taken since); /api/stats as cards (storage, cache,
// memtable, compactions, flushes, write amplification and stalls; the HTTP side when the server
// reports it), with cards whose counters are all zero folded away; a table of the SST levels in
// use; and all the numbers as JSON. Refreshed every few seconds while it is shown and the tab is
// visible. While the server cannot be reached the figures stay, greyed and marked with when they
// were last updated, and come back live when it answers again.

import { $, h } from './dom.js';
import { formatBytes, formatCount } from './format.js';
import { MAX_POINTS, downsample, sparkline } from './sparkline.js';

const STATS_INTERVAL_MS = 3000;
const WINDOW_MS = 15 * 60 * 1000;  // the history the server keeps, and so the sparklines span

// The first present field among several spellings ("cache_hits" or "cache.hits").
function pick(obj, ...paths) {
  for (const path of paths) {
    let v = obj;
    for (const part of path.split('.')) v = v && typeof v === 'object' ? v[part] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

// A card: a title, a big figure, a line under it, and optionally a meter (0 to 1). zero: its
// counters are all still zero, so showCards() folds it away.
function card(title, big, sub, { meter, bad = false, zero = false } = {}) {
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
  node.zero = zero;
  return node;
}

// Puts the cards that say something into #id, and those whose counters are all zero (a fresh
// database has many) into the folded #id-zero, named in its summary, rather than rows of zeros.
function showCards(id, cards) {
  const zero = cards.filter((c) => c.zero);
  $(id).replaceChildren(...cards.filter((c) => !c.zero));
  $(`${id}-zero`).hidden = zero.length === 0;
  $(`${id}-zero-summary`).textContent =
    `All zero so far: ${zero.map((c) => c.querySelector('h3').textContent).join(', ')}`;
  $(`${id}-zero-cards`).replaceChildren(...zero);
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

  const compactions = Number(pick(engine, 'compactions', 'compaction.count') || 0);
  const flushes = Number(pick(engine, 'flushes') || 0);
  const lastSequence = Number(pick(engine, 'last_sequence') || 0);
  // On disk is every file the engine keeps: the WALs (the memtables' contents) and the SSTs.
  const walBytes = Number(pick(engine, 'wal_bytes') || 0);
  const sstBytes = Number(pick(engine, 'live_sst_bytes') ?? levelBytes);
  const diskBytes = pick(engine, 'disk_bytes') ?? walBytes + sstBytes;

  const cards = [
    card('Data on disk', formatBytes(diskBytes),
      `WAL ${formatBytes(walBytes)} · ${formatCount(levelFiles)} SST ${levelFiles === 1 ? 'file' : 'files'} ${formatBytes(sstBytes)}`),
    card('Cache hit rate', lookups ? `${((hits / lookups) * 100).toFixed(1)}%` : '—',
      `${formatCount(hits)} hits · ${formatCount(misses)} misses${capacity !== undefined ? ` · ${formatBytes(usage ?? 0)} of ${formatBytes(capacity)}` : ''}`,
      { meter: lookups ? hits / lookups : 0 }),
    card('Memtable', formatBytes(pick(engine, 'memtable_bytes', 'memtable.bytes') ?? 0),
      `${frozen} waiting to flush · WAL ${formatBytes(walBytes)}`),
    card('Compactions', formatCount(compactions),
      `read ${formatBytes(pick(engine, 'compaction_bytes_read') ?? 0)} · wrote ${formatBytes(pick(engine, 'compaction_bytes_written') ?? 0)}`,
      { zero: compactions === 0 && Number(pick(engine, 'compaction_bytes_written') || 0) === 0 }),
    card('Flushes', formatCount(flushes),
      `wrote ${formatBytes(pick(engine, 'flush_bytes_written') ?? 0)}`, { zero: flushes === 0 }),
    card('Write amplification', wa ? `${wa.toFixed(2)}×` : '—',
      `${formatBytes(pick(engine, 'user_bytes_written') ?? 0)} written by clients`, { zero: !wa }),
    card('Write stalls', formatCount(stalls),
      `${formatCount(pick(engine, 'slowdowns') ?? 0)} slowed · ${formatCount(pick(engine, 'stops') ?? 0)} stopped · ${(stallMicros / 1e6).toFixed(1)} s`,
      { zero: stalls === 0 && stallMicros === 0 }),
    card('Last sequence', formatCount(lastSequence), 'writes applied so far', { zero: lastSequence === 0 }),
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
      { bad: Number(server.wal_sync_failures || 0) > 0, zero: syncs === 0 && Number(server.wal_sync_failures || 0) === 0 }),
  ];
}

// Only the levels that hold files get a row (a young database has most of L0–L6 empty); the
// summary names the range and how many are in use.
function levelRows(levels) {
  const levelNo = (l, i) => Number(pick(l, 'level') ?? i);
  const used = levels.map((l, i) => ({ l, n: levelNo(l, i) }))
    .filter(({ l }) => Number(pick(l, 'files', 'num_files') || 0) > 0 || Number(pick(l, 'bytes', 'size') || 0) > 0);
  const range = levels.length ? `L${levelNo(levels[0], 0)}–L${levelNo(levels[levels.length - 1], levels.length - 1)}` : 'Levels';
  const summary = used.length === 0 ? `${range}: all empty`
    : `${range}: ${used.length} ${used.length === 1 ? 'level' : 'levels'} in use`;
  const maxBytes = Math.max(1, ...used.map(({ l }) => Number(pick(l, 'bytes', 'size') || 0)));
  const rows = used.map(({ l, n }) => {
    const bytes = Number(pick(l, 'bytes', 'size') || 0);
    const fill = h('span');
    fill.style.width = `${((bytes / maxBytes) * 100).toFixed(1)}%`;
    return h('tr', {},
      h('td', { text: `L${n}` }),
      h('td', { class: 'num', text: formatCount(pick(l, 'files', 'num_files') ?? 0) }),
      h('td', { class: 'num', text: formatBytes(bytes) }),
      h('td', { class: 'bar-cell' }, h('div', { class: 'bar' }, fill)));
  });
  if (rows.length === 0) {
    rows.push(h('tr', {}, h('td', { colSpan: 4, class: 'muted', text: 'No SST files yet: everything is still in the memtable and its WAL.' })));
  }
  return { rows, summary };
}

// "45 s", "12 min 3 s", "3 h 12 min", "4 d 3 h": how long, in the largest unit and the next
// one (left out when zero); below a second, in ms.
export function formatDuration(seconds) {
  const total = Math.max(0, Number(seconds) || 0);
  if (total > 0 && total < 1) return `${Math.round(total * 1000)} ms`;
  const units = [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']];
  const s = Math.floor(total);
  const found = units.findIndex(([size]) => s >= size);
  const i = found < 0 ? units.length - 1 : found;
  const [size, unit] = units[i];
  const parts = [`${Math.floor(s / size)} ${unit}`];
  const next = units[i + 1];
  if (next && Math.floor((s % size) / next[0]) > 0) parts.push(`${Math.floor((s % size) / next[0])} ${next[1]}`);
  return parts.join(' ');
}

// The line under the title: version, uptime, start time (server.version/uptime_seconds/started).
function renderAbout(server) {
  const known = server && (server.version !== undefined || server.uptime_seconds !== undefined);
  $('stats-about').hidden = !known;
  if (!known) return;
  $('stats-version').textContent = server.version !== undefined ? String(server.version) : '—';
  $('stats-uptime').textContent = server.uptime_seconds !== undefined ? formatDuration(server.uptime_seconds) : '—';
  const started = server.started ? new Date(server.started) : null;
  $('stats-started').textContent = started && !Number.isNaN(started.getTime()) ? started.toLocaleString() : '—';
  if (started) $('stats-started').dateTime = started.toISOString();
}

// Number formats of the sparklines' current values.
const num = (v, unit) => (v === null ? '—' : `${v < 10 ? v.toFixed(1) : formatCount(Math.round(v))}${unit}`);
const ms = (v) => (v === null ? '—' : `${v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : formatCount(Math.round(v))} ms`);
const pct = (v) => (v === null ? '—' : `${(v * 100).toFixed(v >= 0.999 || v === 0 ? 0 : 1)}%`);
const bytesPerSecond = (v) => (v === null ? '—' : `${formatBytes(Math.round(v))}/s`);
const bytes = (v) => (v === null ? '—' : formatBytes(v));
const files = (v) => (v === null ? '—' : `${formatCount(v)} ${v === 1 ? 'file' : 'files'}`);

const value = (field) => (s) => (typeof s[field] === 'number' ? s[field] : null);
const rate = (cls) => (s) => (s.requests_per_second && typeof s.requests_per_second[cls] === 'number'
  ? s.requests_per_second[cls] : null);
const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', '1xx'];

// The sparklines: title, series (cls is the colour, from app.css), how the current value reads,
// and optionally fixed axes, limit lines and a line under the chart. The first series gives the
// big figure (requests: their sum). Series that stay zero the whole window are left out of
// multi-series charts (a 1xx line along the floor says nothing).
const SPARKS = [
  {
    id: 'requests', title: 'Requests', what: 'requests per second', format: (v) => num(v, ' req/s'),
    total: true, hideZero: true,
    series: STATUS_CLASSES.map((cls) => ({ name: cls, cls: `s-${cls}`, get: rate(cls) })),
  },
  {
    id: 'write-throughput', title: 'Writes', what: 'write throughput', format: bytesPerSecond,
    series: [{ name: 'written', cls: 's-main', get: value('write_bytes_per_second') }],
  },
  {
    id: 'read-p99', title: 'Read p99', what: 'read latency, 99th percentile', format: ms,
    series: [{ name: 'read p99', cls: 's-main', get: value('read_p99_ms') }],
  },
  {
    id: 'write-p99', title: 'Write p99', what: 'write latency, 99th percentile', format: ms,
    series: [{ name: 'write p99', cls: 's-main', get: value('write_p99_ms') }],
  },
  {
    id: 'cache', title: 'Cache hits', what: 'cache hit rate', format: pct, max: 1, reduce: 'min',
    series: [{ name: 'hits', cls: 's-main', get: value('cache_hit_ratio') }],
  },
  {
    id: 'memory', title: 'Memtable & WAL', what: 'memtable and WAL bytes', format: bytes,
    series: [{ name: 'memtable', cls: 's-main', get: value('memtable_bytes') },
      { name: 'WAL', cls: 's-alt', get: value('wal_bytes') }],
  },
  {
    id: 'l0', title: 'L0 files', what: 'L0 files', format: files,
    series: [{ name: 'L0', cls: 's-main', get: value('l0_files') }],
    limits: (s) => [{ name: 'slowdown', cls: 'l-warn', value: value('l0_slowdown_files')(s) },
      { name: 'stop', cls: 'l-bad', value: value('l0_stop_files')(s) }],
  },
  {
    id: 'debt', title: 'Compaction debt', what: 'compaction debt', format: bytes,
    series: [{ name: 'debt', cls: 's-main', get: value('compaction_debt_bytes') }],
  },
  {
    id: 'stalls', title: 'Write stalls', what: 'share of time writes were stalled', format: pct, max: 1,
    series: [{ name: 'stalled', cls: 's-main', get: value('stalled_fraction') }],
  },
  {
    id: 'queue', title: 'Request queue', what: 'requests waiting for the storage thread', format: (v) => (v === null ? '—' : formatCount(v)),
    series: [{ name: 'waiting', cls: 's-main', get: value('queue_depth') }],
  },
];

// One sparkline card over samples (oldest first, at least one).
function sparkCard(spec, samples, intervalMs) {
  const latest = samples[samples.length - 1];
  const from = Math.max(samples[0].t - intervalMs, latest.t - WINDOW_MS);
  let series = spec.series.map((s) => ({ ...s, points: samples.map((x) => [x.t, s.get(x)]) }));
  if (spec.hideZero) series = series.filter((s, i) => i === 0 || s.points.some((p) => p[1]));
  const now = series.map((s) => s.get(latest));
  const big = spec.total ? now.reduce((a, v) => a + (v ?? 0), 0) : now[0];
  const limits = spec.limits ? spec.limits(latest).filter((l) => l.value !== null) : [];
  const peak = Math.max(...series[0].points.map((p) => p[1] ?? -Infinity));

  // The words: the current value of each series (and the limits), then the peak of the window;
  // each coloured like its line.
  const parts = series.length > 1 ? series.map((s, i) => ({ cls: s.cls, text: `${s.name} ${spec.format(now[i])}` })) : [];
  for (const l of limits) parts.push({ cls: l.cls, text: `${l.name} at ${spec.format(l.value)}` });
  if (series.length === 1 && Number.isFinite(peak)) parts.push({ cls: '', text: `peak ${spec.format(peak)}` });
  if (!Number.isFinite(peak) && series.length === 1) parts.push({ cls: '', text: 'nothing measured in this window' });
  const words = parts.map((p) => p.text).join(', ');
  const label = `${spec.title}, ${spec.what}: ${spec.format(big)} now${words ? `; ${words}` : ''}`;

  const chart = sparkline({
    series: series.map((s) => ({ cls: s.cls, points: downsample(s.points, spec.reduce) })),
    // A gap is a step of more than three intervals — of three buckets' worth once folded.
    limits, from, to: latest.t, max: spec.max ?? 0, label,
    gapMs: intervalMs * 3 * Math.max(1, Math.ceil(samples.length / MAX_POINTS)),
  });
  chart.dataset.points = String(samples.length);  // what the page has, before folding to pixels
  const legend = h('p', { class: 'sub spark-legend' }, parts.map((p) => h('span', { class: `legend ${p.cls}`, text: p.text })));
  const node = h('div', { class: 'card spark', attrs: { 'data-spark': spec.id } },
    h('h3', { text: spec.title }), h('p', { class: 'big', text: spec.format(big) }), chart, legend);
  return node;
}

// available: the server keeps a history (an older one, or a token without the right, has none).
function renderHistory(history, available) {
  const samples = history.samples;
  $('history-section').hidden = !available && samples.length === 0;
  const intervalMs = history.intervalMs;
  if (samples.length === 0) {
    // Just started: say when the lines begin rather than leaving the section out.
    $('history-span').textContent = '15 minutes';
    $('history-cards').replaceChildren(h('p', {
      class: 'muted history-empty',
      text: `No samples yet: the server takes one every ${formatDuration(intervalMs / 1000)}.`,
    }));
    return;
  }
  const spanSeconds = (samples[samples.length - 1].t - samples[0].t + intervalMs) / 1000;
  $('history-span').textContent = spanSeconds >= WINDOW_MS / 1000 - 1 ? '15 minutes' : formatDuration(spanSeconds);
  $('history-cards').replaceChildren(...SPARKS.map((spec) => sparkCard(spec, samples, intervalMs)));
}

// Appends the samples of a fresh /api/stats/history answer that are newer than the ones kept, and
// drops those older than the window. Keeping them (rather than taking the answer as it is) lets
// the lines run on across a restart of the server, whose history starts empty.
function mergeHistory(kept, answer) {
  const fresh = Array.isArray(answer.samples)
    ? answer.samples.filter((x) => x && typeof x.t === 'number') : [];
  const last = kept.samples.length ? kept.samples[kept.samples.length - 1].t : -Infinity;
  const samples = kept.samples.concat(fresh.filter((x) => x.t > last));
  const cutoff = samples.length ? samples[samples.length - 1].t - WINDOW_MS : 0;
  const first = samples.findIndex((x) => x.t > cutoff);
  const interval = Number(answer.interval_seconds);
  return {
    intervalMs: interval > 0 ? interval * 1000 : kept.intervalMs,
    samples: first > 0 ? samples.slice(first) : samples,
  };
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
  showCards('stats-cards', engineCards(engine, levels));
  const server = s.server && typeof s.server === 'object' ? s.server : null;
  renderAbout(server);
  $('server-section').hidden = server === null;
  if (server) showCards('server-cards', serverCards(server));
  const { rows, summary } = levelRows(levels);
  $('stats-levels').tBodies[0].replaceChildren(...rows);
  $('stats-levels-summary').textContent = summary;
  const fields = Array.isArray(s.engine_fields) ? s.engine_fields : [];
  $('stats-fields').tBodies[0].replaceChildren(...fieldRows(s.engine || {}, fields));
  $('stats-raw').textContent = JSON.stringify(s, null, 2);
}

// Greys the figures while they are out of date (the server does not answer), rather than
// removing them: an operator wants the last known state, marked as such.
function showStale(stale) {
  const body = $('stats-body');
  body.classList.toggle('stale', stale);
  $('stats-about').classList.toggle('stale', stale);
  if (stale) body.setAttribute('aria-disabled', 'true');
  else body.removeAttribute('aria-disabled');
}

export function createStatsView({ api }) {
  let shown = false;
  let timer = null;
  let generation = 0;  // bumps per request so a late answer to an old request is dropped
  let history = { intervalMs: 10000, samples: [] };
  let updated = null;  // when the figures shown were read, or null before the first

  // The history is asked together with the stats; a server without it (404) or a token without
  // the right just leaves the sparklines out. After the first answer only the samples newer than
  // the last one kept are asked for (?since=).
  async function loadHistory() {
    const kept = history.samples;
    const since = kept.length ? `?since=${Math.trunc(kept[kept.length - 1].t)}` : '';
    try {
      const res = await api.request('GET', `/api/stats/history${since}`);
      return await res.json();
    } catch (err) {
      if (err.status === 0) throw err;
      return null;
    }
  }

  async function load() {
    const mine = ++generation;
    try {
      const [stats, answer] = await Promise.all([
        api.request('GET', '/api/stats').then((res) => res.json()), loadHistory()]);
      if (mine !== generation) return;
      $('stats-error').hidden = true;
      showStale(false);
      render(stats);
      if (answer) history = mergeHistory(history, answer);
      renderHistory(history, answer !== null);
      updated = new Date();
      $('stats-updated').textContent = `Updated ${updated.toLocaleTimeString()}`;
    } catch (err) {
      if (mine !== generation) return;
      const when = updated ? ` The figures below are from ${updated.toLocaleTimeString()}; they come back by themselves when it answers.` : '';
      $('stats-error-text').textContent = `${api.describeError(err)}${when}`;
      $('stats-error').hidden = false;
      if (updated) {
        showStale(true);
        $('stats-updated').textContent = `Last updated ${updated.toLocaleTimeString()}`;
      }
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
