// Spend: totals by key, team and model group over a time window (/admin/spend).
import { h, replace, table, num, money, card, errorBox, formValues } from "../dom.js";

function totals(title, byName) {
  const rows = Object.entries(byName).map(([name, t]) => ({ name, ...t })).sort((a, b) => b.cost - a.cost);
  return h(
    "section",
    {},
    h("h3", {}, title),
    table(
      [
        { title: "Name", cell: (r) => r.name },
        { title: "Requests", cell: (r) => num(r.requests) },
        { title: "Cost", cell: (r) => money(r.cost) },
        { title: "Prompt tokens", cell: (r) => num(r.prompt_tokens) },
        { title: "Completion tokens", cell: (r) => num(r.completion_tokens) },
      ],
      rows,
      { empty: "No spend recorded." },
    ),
  );
}

export default {
  id: "spend",
  title: "Spend",
  render(root, { api }) {
    const form = h(
      "form",
      { id: "spend-filters", class: "inline-form" },
      h("label", {}, "Window", h("select", { name: "window" }, [["86400", "last day"], ["604800", "last 7 days"], ["2592000", "last 30 days"], ["", "all time"]].map(([v, t]) => h("option", { value: v }, t)))),
      h("label", {}, "Key id", h("input", { name: "key_id" })),
      h("label", {}, "Team", h("input", { name: "team" })),
      h("label", {}, "Model group", h("input", { name: "model_group" })),
      h("button", { type: "submit" }, "Apply"),
    );
    const out = h("div", { id: "spend-report" });
    const load = async () => {
      const { window: span, ...filters } = formValues(form);
      if (span) filters.since = Date.now() / 1000 - Number(span);
      try {
        const report = await api.get("/admin/spend", filters);
        replace(
          out,
          h("div", { class: "cards" }, card("Spend", money(report.total.cost)), card("Requests", num(report.total.requests)), card("Tokens", num(report.total.prompt_tokens + report.total.completion_tokens))),
          totals("By key", report.by_key),
          totals("By team", report.by_team),
          totals("By model group", report.by_model_group),
        );
      } catch (error) {
        replace(out, errorBox(error));
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    replace(root, form, out);
    load();
  },
};
