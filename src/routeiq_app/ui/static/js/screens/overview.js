// Overview: this worker's counters (/admin/metrics) and the latest calls of the request log.
import { h, replace, card, num, money, errorBox, table } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function quantile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Bars of `values` (one per bucket); `label` names a bar for its tooltip.
export function barChart(title, values, label) {
  const width = 600;
  const height = 120;
  const top = Math.max(1, ...values);
  const step = width / Math.max(1, values.length);
  const bars = values.map((v, i) => {
    const bar = svg("rect", { x: i * step + 1, y: height - (v / top) * height, width: Math.max(1, step - 2), height: (v / top) * height, class: "bar" });
    bar.append(svg("title", {}, `${label(i)}: ${v}`));
    return bar;
  });
  return h("figure", { class: "card chart" }, h("figcaption", { class: "muted" }, `${title} (max ${num(top, 4)})`), svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, preserveAspectRatio: "none" }, ...bars));
}

function perMinute(records, pick, minutes = 30) {
  const now = Date.now() / 1000;
  const buckets = new Array(minutes).fill(0);
  for (const r of records) {
    const age = Math.floor((now - r.at) / 60);
    if (age >= 0 && age < minutes) buckets[minutes - 1 - age] += pick(r);
  }
  return buckets;
}

function sum(points, name) {
  return points.filter((p) => p.name === name).reduce((total, p) => total + p.value, 0);
}

export default {
  id: "overview",
  title: "Overview",
  async render(root, { api, can }) {
    replace(root, h("p", { class: "muted" }, "Loading…"));
    const parts = [];
    const [metrics, log] = await Promise.allSettled([
      can("metrics.read") ? api.get("/admin/metrics") : Promise.resolve(null),
      can("requests.read") ? api.get("/admin/requests", { limit: 500 }) : Promise.resolve(null),
    ]);
    if (log.status === "fulfilled" && log.value) {
      const records = log.value.records;
      const errors = records.filter((r) => r.status >= 400).length;
      const ttft = records.map((r) => r.ttft_ms).filter((v) => v !== null && v !== undefined);
      const latency = records.map((r) => r.latency_ms);
      const cost = records.reduce((t, r) => t + (r.cost ?? 0), 0);
      const tokens = records.reduce((t, r) => t + (r.prompt_tokens ?? 0) + (r.completion_tokens ?? 0), 0);
      parts.push(
        h("p", { class: "muted" }, `The latest ${records.length} calls of the request log:`),
        h(
          "div",
          { class: "cards", id: "overview-cards" },
          card("Calls", num(records.length)),
          card("Error rate", records.length ? `${num((100 * errors) / records.length, 1)} %` : "—"),
          card("Latency p50 / p95", `${num(quantile(latency, 0.5), 1)} / ${num(quantile(latency, 0.95), 1)} ms`),
          card("TTFT p50", `${num(quantile(ttft, 0.5), 1)} ms`),
          card("Tokens", num(tokens)),
          card("Spend", money(cost)),
        ),
        h(
          "div",
          { class: "charts" },
          barChart("Calls per minute, last 30 min", perMinute(records, () => 1), (i) => `${30 - i} min ago`),
          barChart("Spend per minute, last 30 min", perMinute(records, (r) => r.cost ?? 0), (i) => `${30 - i} min ago`),
        ),
      );
    } else if (log.status === "rejected") parts.push(errorBox(log.reason));
    if (metrics.status === "fulfilled" && metrics.value) {
      const points = metrics.value;
      parts.push(
        h("h3", {}, "This worker's counters"),
        h(
          "div",
          { class: "cards" },
          card("Admitted", num(sum(points, "routeiq_requests_admitted"))),
          card("Shed", num(sum(points, "routeiq_requests_shed"))),
          card("In flight", num(sum(points, "routeiq_requests_in_flight"))),
          card("Retries", num(sum(points, "routeiq_retries"))),
          card("Fallbacks", num(sum(points, "routeiq_fallbacks"))),
        ),
        table(
          [
            { title: "Metric", cell: (p) => p.name },
            { title: "Value", cell: (p) => num(p.value, 6) },
            { title: "Labels", cell: (p) => Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(" ") },
          ],
          points,
        ),
      );
    } else if (metrics.status === "rejected") parts.push(errorBox(metrics.reason));
    replace(root, ...parts);
  },
};
