// Deployments: breaker state, in-flight calls, latency and error EWMAs, prices.
import { h, replace, table, num, errorBox } from "../dom.js";

export default {
  id: "deployments",
  title: "Deployments",
  async render(root, { api }) {
    try {
      const rows = await api.get("/admin/deployments");
      const stat = (d, name, digits = 1) => num(d.stats?.[name], digits);
      replace(
        root,
        table(
          [
            { title: "Deployment", cell: (d) => h("code", {}, d.id) },
            { title: "Model group", cell: (d) => d.model_group },
            { title: "Upstream", cell: (d) => `${d.adapter}: ${d.upstream_model}` },
            { title: "Breaker", cell: (d) => h("span", { class: d.breaker === "closed" ? "badge good" : "badge bad" }, d.breaker) },
            { title: "Failures", cell: (d) => num(d.consecutive_failures) },
            { title: "In flight", cell: (d) => stat(d, "in_flight", 0) },
            { title: "Latency EWMA ms", cell: (d) => (d.stats?.latency_ewma_s == null ? "—" : num(d.stats.latency_ewma_s * 1000, 1)) },
            { title: "Error rate", cell: (d) => stat(d, "error_rate", 3) },
            { title: "Req/min", cell: (d) => stat(d, "requests_last_minute", 0) },
            { title: "Total", cell: (d) => `${num(d.stats?.total_requests)} (${num(d.stats?.total_failures)} failed)` },
            { title: "$ / Mtok in·out", cell: (d) => `${num(d.input_price_per_mtok, 4)} · ${num(d.output_price_per_mtok, 4)} (${d.price_source})` },
            { title: "Context", cell: (d) => num(d.max_context_tokens) },
          ],
          rows,
          { empty: "No deployments configured." },
        ),
      );
    } catch (error) {
      replace(root, errorBox(error));
    }
  },
};
