// Request log: filters, server-side cursor pages, a detail view of one call.
import { h, replace, table, pager, time, num, money, definitions, formValues, errorBox } from "../dom.js";

const PAGE = 25;
const FILTERS = [
  ["key_id", "Key id"],
  ["team", "Team"],
  ["model", "Model"],
  ["status", "Status (429, 5xx)"],
  ["since", "Since (ISO or unix)"],
  ["until", "Until"],
  ["request_id", "Request id"],
];

function detail(api, record, into) {
  replace(
    into,
    h(
      "div",
      { class: "card", id: "request-detail" },
      h("div", { class: "row" }, h("h3", {}, `Call ${record.request_id ?? ""}`), h("button", { type: "button", class: "secondary", onclick: () => replace(into) }, "Close")),
      h("p", { class: "muted" }, `Route: ${record.route_reason ?? "—"} · deployment ${record.deployment_id ?? "—"} · ${record.attempts} attempt(s) · trace ${record.trace_id ?? "—"}`),
      definitions(record),
    ),
  );
}

export default {
  id: "requests",
  title: "Request log",
  render(root, { api }) {
    const form = h(
      "form",
      { id: "request-filters", class: "inline-form" },
      FILTERS.map(([name, label]) => h("label", {}, label, h("input", { name, id: `filter-${name}` }))),
      h("button", { type: "submit" }, "Apply"),
    );
    const list = h("div", { id: "request-list" });
    const shown = h("div", { id: "request-shown" });
    let filters = {};
    const columns = [
      { title: "Time (UTC)", cell: (r) => time(r.at) },
      { title: "Status", cell: (r) => h("span", { class: r.status >= 400 ? "badge bad" : "badge good" }, r.status) },
      { title: "Model", cell: (r) => r.model },
      { title: "Deployment", cell: (r) => r.deployment_id ?? "—" },
      { title: "Key", cell: (r) => r.key_id ?? (r.status === 401 ? "—" : "master") },
      { title: "Latency ms", cell: (r) => num(r.latency_ms, 1) },
      { title: "TTFT ms", cell: (r) => num(r.ttft_ms, 1) },
      { title: "Tokens", cell: (r) => `${num(r.prompt_tokens)} / ${num(r.completion_tokens)}` },
      { title: "Cost", cell: (r) => money(r.cost) },
      { title: "Request id", cell: (r) => h("code", {}, r.request_id ?? "—") },
    ];
    const open = async (row) => {
      try {
        detail(api, row.request_id ? await api.get(`/admin/requests/${encodeURIComponent(row.request_id)}`) : row, shown);
      } catch (error) {
        replace(shown, errorBox(error));
      }
    };
    replace(root, form, shown, list);
    const pages = pager(
      list,
      (rows) => table(columns, rows, { onRow: open, empty: "No calls match." }),
      async (cursor) => {
        const page = await api.get("/admin/requests", { ...filters, limit: PAGE, cursor });
        return { rows: page.records, next: page.next_cursor };
      },
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      filters = formValues(form);
      pages.first();
    });
  },
};
