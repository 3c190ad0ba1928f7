// Sparklines: small inline SVG line charts of a time series, for the Engine view's dashboard.
// No library: a path per series over a fixed viewBox that stretches to the card's width
// (non-scaling strokes keep the lines thin), optional dashed limit lines, and a dot at the newest
// point so a series of one sample still shows. Values come from the server's numbers only, and
// reach the DOM as attributes set from code.

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 48;
const PAD = 3;              // room for the dot and the stroke at the edges
export const MAX_POINTS = WIDTH;  // more samples than pixels are folded into buckets

function svgNode(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

// Folds points ([t, value|null], oldest first) into at most MAX_POINTS buckets, each keeping
// its newest time and the largest value (or the smallest, with reduce 'min'), so a short spike
// stays visible however long the window is. A bucket of nulls stays null (a gap).
export function downsample(points, reduce = 'max') {
  if (points.length <= MAX_POINTS) return points;
  const size = Math.ceil(points.length / MAX_POINTS);
  const pick = reduce === 'min' ? Math.min : Math.max;
  const out = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    const values = bucket.map((p) => p[1]).filter((v) => v !== null);
    out.push([bucket[bucket.length - 1][0], values.length ? pick(...values) : null]);
  }
  return out;
}

// The <svg>: role="img" with label as its accessible name (say the current value in it).
// series: [{cls, points: [[t, value|null], ...]}], drawn in order; limits: [{cls, value}] as
// dashed horizontal lines; from/to: the time axis (ms); min/max: the value axis (max grows to
// fit the data and the limits); gapMs: a step longer than this between two points is drawn as a
// gap (the server was down, or the page could not reach it).
export function sparkline({ series, limits = [], from, to, min = 0, max = 0, gapMs = Infinity, label }) {
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null);
  const top = Math.max(max, ...values, ...limits.map((l) => l.value)) || 1;
  const span = Math.max(1, to - from);
  const x = (t) => PAD + ((t - from) / span) * (WIDTH - 2 * PAD);
  const y = (v) => HEIGHT - PAD - ((Math.min(v, top) - min) / (top - min)) * (HEIGHT - 2 * PAD);

  const svg = svgNode('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'sparkline',
    role: 'img', 'aria-label': label, 'data-points': Math.max(0, ...series.map((s) => s.points.length)),
  });
  svg.append(svgNode('line', { x1: 0, x2: WIDTH, y1: HEIGHT - PAD, y2: HEIGHT - PAD, class: 'spark-base' }));
  for (const limit of limits) {
    svg.append(svgNode('line', {
      x1: 0, x2: WIDTH, y1: y(limit.value), y2: y(limit.value), class: `spark-limit ${limit.cls || ''}`,
      'vector-effect': 'non-scaling-stroke',
    }));
  }
  for (const s of series) {
    let d = '';
    let prev = null;  // the previous drawn point's time, or null after a gap
    let last = null;
    for (const [t, v] of s.points) {
      if (v === null) {
        prev = null;
        continue;
      }
      const move = prev === null || t - prev > gapMs;
      d += `${move ? 'M' : 'L'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      prev = t;
      last = [t, v];
    }
    if (d) svg.append(svgNode('path', { d, class: `spark-line ${s.cls || ''}`, 'vector-effect': 'non-scaling-stroke' }));
    if (last) {
      // A dot at the newest value: a zero-length line with a round cap and a non-scaling stroke,
      // so it stays round in the stretched box (a <circle> would become an ellipse).
      svg.append(svgNode('path', {
        d: `M${x(last[0]).toFixed(1)} ${y(last[1]).toFixed(1)}h0`, class: `spark-dot ${s.cls || ''}`,
        'vector-effect': 'non-scaling-stroke',
      }));
    }
  }
  return svg;
}
