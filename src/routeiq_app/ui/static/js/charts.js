// SVG charts built from data (no library): bars per bucket, lines with an optional limit line,
// and quantiles of the node's histograms (per-bucket counts, the last above every bound).
import { h, num } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 120;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function figure(title, caption, plot, id) {
  return h(
    "figure",
    { class: "card chart", id },
    h("figcaption", { class: "muted" }, caption ? `${title} (${caption})` : title),
    svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title, preserveAspectRatio: "none" }, ...plot),
  );
}

// Bars of `values` (one per bucket); `label(i)` names a bar for its tooltip.
export function barChart(title, values, label, { id, digits = 4 } = {}) {
  const top = Math.max(1e-12, ...values.map((v) => v ?? 0));
  const step = WIDTH / Math.max(1, values.length);
  const bars = values.map((raw, i) => {
    const v = raw ?? 0;
    const height = (v / top) * HEIGHT;
    const bar = svg("rect", { x: i * step + 1, y: HEIGHT - height, width: Math.max(1, step - 2), height, class: "bar" });
    bar.append(svg("title", {}, `${label(i)}: ${num(raw, digits)}`));
    return bar;
  });
  return figure(title, `max ${num(Math.max(0, ...values.map((v) => v ?? 0)), digits)}`, bars, id);
}

// Lines: series = [{ name, values (null = no point), class }]; `limit` draws a dashed horizontal line;
// `slots` fixes the x axis to that many points, the values right-aligned (newest at the right edge).
export function lineChart(title, series, { id, limit, digits = 4, unit = "", slots } = {}) {
  const all = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const top = Math.max(1e-12, limit ?? 0, ...all) * 1.05;
  const count = Math.max(2, slots ?? 0, ...series.map((s) => s.values.length));
  const x = (i) => (i / (count - 1)) * WIDTH;
  const y = (v) => HEIGHT - (v / top) * HEIGHT;
  const plot = [];
  if (limit !== undefined && limit !== null) {
    const line = svg("line", { x1: 0, x2: WIDTH, y1: y(limit), y2: y(limit), class: "limit" });
    line.append(svg("title", {}, `limit ${num(limit, digits)}${unit}`));
    plot.push(line);
  }
  for (const s of series) {
    const offset = count - s.values.length;
    const points = s.values.flatMap((v, i) => (v === null || v === undefined ? [] : [[x(offset + i), y(v)]]));
    if (points.length === 1) points.unshift([Math.max(0, points[0][0] - WIDTH / (count - 1)), points[0][1]]);
    if (!points.length) continue;
    const line = svg("polyline", { points: points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" "), class: `line ${s.class ?? ""}` });
    line.append(svg("title", {}, s.name));
    plot.push(line);
  }
  const latest = series.map((s) => `${s.name} ${num(s.values.at(-1), digits)}${unit}`).join(" · ");
  const chart = figure(title, latest, plot, id);
  if (series.length > 1 || limit !== undefined) {
    chart.append(h("div", { class: "legend small muted" }, series.map((s) => h("span", { class: `key ${s.class ?? ""}` }, s.name)), limit !== undefined ? h("span", { class: "key limit" }, "limit") : null));
  }
  return chart;
}

// The histogram after minus before (counts since `before`), for rates between two samples.
export function histogramDelta(after, before) {
  if (!after) return null;
  if (!before || before.bounds.length !== after.bounds.length) return after;
  return {
    bounds: after.bounds,
    counts: after.counts.map((c, i) => Math.max(0, c - before.counts[i])),
    count: Math.max(0, after.count - before.count),
    total: Math.max(0, after.total - before.total),
  };
}

// The q-quantile of a histogram, interpolated linearly inside its bucket (as Prometheus does).
export function histogramQuantile(hist, q) {
  if (!hist || hist.count <= 0) return null;
  const rank = q * hist.count;
  let seen = 0;
  for (let i = 0; i < hist.counts.length; i++) {
    const inBucket = hist.counts[i];
    if (seen + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : hist.bounds[i - 1];
      const upper = i < hist.bounds.length ? hist.bounds[i] : hist.bounds.at(-1);
      return lower + (upper - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return hist.bounds.at(-1);
}
