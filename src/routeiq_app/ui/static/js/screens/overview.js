// Overview, node-wide: every worker's counters and histograms summed (the numbers of the Prometheus
// /metrics), now and over the last hour as the answering worker sampled them (/admin/metrics/node),
// refreshed while the screen is open; and the latest calls of the request log, per minute.
import { h, replace, card, num, money, errorBox } from "../dom.js";
import { barChart, lineChart, histogramDelta, histogramQuantile } from "../charts.js";

const REFRESH_MS = 10000;
const MINUTES = 30;
const ms = (seconds) => (seconds === null || seconds === undefined ? null : seconds * 1000);

function totals(s) {
  const rate = s.requests ? `${num((100 * s.errors) / s.requests, 2)} %` : "—";
  const p = (hst, q) => num(ms(histogramQuantile(hst, q)), 1);
  return h(
    "div",
    { class: "cards", id: "overview-cards" },
    card("Calls", num(s.requests), `${num(s.in_flight)} in flight · ${num(s.shed)} shed`),
    card("Error rate", rate, `${num(s.errors)} answered ≥ 400`),
    card("Latency p50 / p95", `${p(s.latency_s, 0.5)} / ${p(s.latency_s, 0.95)} ms`, "upstream call duration"),
    card("TTFT p50 / p95", `${p(s.ttft_s, 0.5)} / ${p(s.ttft_s, 0.95)} ms`, "time to first chunk (streams)"),
    card("Tokens", num(s.prompt_tokens + s.completion_tokens), `${num(s.prompt_tokens)} prompt · ${num(s.completion_tokens)} completion`),
    card("Spend", money(s.spend), `${num(s.retries)} retries · ${num(s.fallbacks)} fallbacks`),
  );
}

// One point per interval between consecutive samples: rates and the quantiles of that interval.
function overTime(node) {
  const points = [...node.samples];
  if (!points.length || node.now.at - points.at(-1).at >= 1) points.push(node.now);
  const rows = [];
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const dt = Math.max(0.001, b.at - a.at);
    const calls = Math.max(0, b.requests - a.requests);
    const latency = histogramDelta(b.latency_s, a.latency_s);
    rows.push({
      rps: calls / dt,
      errors: calls ? (100 * Math.max(0, b.errors - a.errors)) / calls : null,
      p50: ms(histogramQuantile(latency, 0.5)),
      p95: ms(histogramQuantile(latency, 0.95)),
      ttft: ms(histogramQuantile(histogramDelta(b.ttft_s, a.ttft_s), 0.5)),
      tps: Math.max(0, b.prompt_tokens + b.completion_tokens - a.prompt_tokens - a.completion_tokens) / dt,
      spend: Math.max(0, b.spend - a.spend) / dt,
    });
  }
  const col = (name) => rows.map((r) => r[name]);
  const slots = Math.max(Math.round(600 / node.interval_s), rows.length); // at least 10 minutes wide
  const minutes = Math.round(((points.at(-1).at - points[0].at) / 60) * 10) / 10;
  return h(
    "section",
    { id: "overview-time" },
    h("h3", {}, `Over time: the last ${minutes} minute(s) of the node, every ${num(node.interval_s)} s (this worker's samples; one hour kept)`),
    h(
      "div",
      { class: "charts" },
      lineChart("Requests / s", [{ name: "req/s", values: col("rps") }], { id: "chart-rps", digits: 2, slots }),
      lineChart("Error rate", [{ name: "errors", values: col("errors"), class: "bad" }], { digits: 1, unit: " %", slots }),
      lineChart("Latency", [{ name: "p50", values: col("p50") }, { name: "p95", values: col("p95"), class: "alt" }], { digits: 1, unit: " ms", slots }),
      lineChart("TTFT p50", [{ name: "ttft", values: col("ttft") }], { digits: 1, unit: " ms", slots }),
      lineChart("Tokens / s", [{ name: "tok/s", values: col("tps") }], { digits: 1, slots }),
      lineChart("Spend / s", [{ name: "spend/s", values: col("spend") }], { id: "chart-spend-rate", digits: 6, slots }),
    ),
  );
}

function nodeView(node) {
  return [h("p", { class: "muted" }, "The whole node since start: every worker's counters summed."), totals(node.now), overTime(node)];
}

function perMinute(records, pick) {
  const now = Date.now() / 1000;
  const buckets = Array.from({ length: MINUTES }, () => []);
  for (const r of records) {
    const age = Math.floor((now - r.at) / 60);
    if (age >= 0 && age < MINUTES) buckets[MINUTES - 1 - age].push(r);
  }
  return buckets.map(pick);
}

function p95(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))];
}

function history(records) {
  const ago = (i) => `${MINUTES - i} min ago`;
  const sum = (pick) => (rs) => rs.reduce((t, r) => t + (pick(r) ?? 0), 0);
  return h(
    "section",
    { id: "overview-history" },
    h("h3", {}, `Last ${MINUTES} minutes, per minute (request log, ${records.length} latest calls)`),
    h(
      "div",
      { class: "charts" },
      barChart("Calls", perMinute(records, (rs) => rs.length), ago, { id: "chart-calls", digits: 0 }),
      barChart("Errors (status ≥ 400)", perMinute(records, (rs) => rs.filter((r) => r.status >= 400).length), ago, { digits: 0 }),
      barChart("Latency p95 ms", perMinute(records, (rs) => p95(rs.map((r) => r.latency_ms))), ago, { digits: 1 }),
      barChart("Tokens", perMinute(records, sum((r) => (r.prompt_tokens ?? 0) + (r.completion_tokens ?? 0))), ago, { digits: 0 }),
      barChart("Spend", perMinute(records, sum((r) => r.cost)), ago, { id: "chart-spend", digits: 6 }),
    ),
  );
}

export default {
  id: "overview",
  title: "Overview",
  async render(root, { api, can }) {
    replace(root, h("p", { class: "muted" }, "Loading…"));
    const nodeBox = h("div", { id: "overview-node" });
    const parts = [];
    const [node, log] = await Promise.allSettled([
      can("metrics.read") ? api.get("/admin/metrics/node") : Promise.resolve(null),
      can("requests.read") ? api.get("/admin/requests", { limit: 500 }) : Promise.resolve(null),
    ]);
    if (node.status === "fulfilled" && node.value) parts.push(replace(nodeBox, ...nodeView(node.value)));
    else if (node.status === "rejected") parts.push(errorBox(node.reason));
    if (log.status === "fulfilled" && log.value) parts.push(history(log.value.records));
    else if (log.status === "rejected") parts.push(errorBox(log.reason));
    if (!parts.length) parts.push(h("p", { class: "muted" }, "This key's role reads neither metrics nor the request log."));
    replace(root, ...parts);
    if (!(node.status === "fulfilled" && node.value)) return;
    const timer = setInterval(async () => {
      if (!root.isConnected) return clearInterval(timer);
      try {
        const fresh = await api.get("/admin/metrics/node");
        if (root.isConnected) replace(nodeBox, ...nodeView(fresh));
      } catch (error) {
        clearInterval(timer);
        replace(nodeBox, errorBox(error));
      }
    }, REFRESH_MS);
  },
};
