// Spend: totals by key, team and model group over a window (/admin/spend), spend per UTC day
// (/admin/spend/daily), and the budget burn-down of keys and teams with a budget (/admin/spend/burndown).
import { h, replace, table, num, money, card, errorBox, formValues } from "../dom.js";
import { barChart, lineChart } from "../charts.js";

const WINDOWS = [
  ["86400", "last day", 7], // totals of the window; the by-day chart shows at least a week
  ["604800", "last 7 days", 7],
  ["2592000", "last 30 days", 30],
  ["", "all time", 90],
];
const MAX_BURNDOWNS = 6;

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

const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

function daily(report) {
  const days = report.days;
  return h(
    "section",
    { id: "spend-daily" },
    h("h3", {}, `By day (UTC), last ${days.length} day(s)`),
    h(
      "div",
      { class: "charts" },
      barChart("Spend per day", days.map((d) => d.cost), (i) => day(days[i].start), { id: "chart-spend-daily", digits: 6 }),
      barChart("Requests per day", days.map((d) => d.requests), (i) => day(days[i].start), { digits: 0 }),
    ),
  );
}

// Keys and teams with a budget, from the first page of each the signed-in key may read.
async function budgeted(api, can) {
  const [keys, teams] = await Promise.all([
    can("keys.read") ? api.get("/admin/keys", { limit: 100 }) : Promise.resolve({ data: [] }),
    can("teams.read") ? api.get("/admin/teams", { limit: 100 }) : Promise.resolve({ data: [] }),
  ]);
  return [
    ...teams.data.filter((t) => t.budget).map((t) => ({ team: t.team_id, label: `team ${t.team_id}` })),
    ...keys.data.filter((k) => k.budget && !k.revoked_at).map((k) => ({ key_id: k.key_id, label: `key ${k.alias ?? k.key_id}` })),
  ];
}

function burndownChart(subject, b) {
  const used = b.budget.max_spend ? (100 * b.spent) / b.budget.max_spend : 0;
  const chart = lineChart(
    `${subject.label}: $${num(b.spent, 6)} of $${num(b.budget.max_spend, 6)} per ${b.budget.window} (${num(used, 1)} %)`,
    [{ name: "spent", values: b.points.map((p) => p.cumulative_cost), class: used >= 100 ? "bad" : "" }],
    { limit: b.budget.max_spend, digits: 6 },
  );
  chart.classList.add("burndown");
  return chart;
}

async function burndowns(api, can) {
  const box = h("section", { id: "spend-burndown" }, h("h3", {}, "Budget burn-down (spend so far in each budget's sliding window)"));
  try {
    const subjects = await budgeted(api, can);
    if (!subjects.length) {
      box.append(h("p", { class: "muted" }, "No key or team has a budget."));
      return box;
    }
    const shown = subjects.slice(0, MAX_BURNDOWNS);
    const answers = await Promise.all(
      shown.map((s) => api.get("/admin/spend/burndown", s.team ? { team: s.team } : { key_id: s.key_id }).catch((error) => ({ error }))),
    );
    box.append(h("div", { class: "charts" }, shown.map((s, i) => (answers[i].error ? errorBox(answers[i].error) : burndownChart(s, answers[i])))));
    if (subjects.length > shown.length) box.append(h("p", { class: "muted small" }, `${subjects.length - shown.length} more with a budget: filter by key or team to see one.`));
  } catch (error) {
    box.append(errorBox(error));
  }
  return box;
}

export default {
  id: "spend",
  title: "Spend",
  render(root, { api, can }) {
    const form = h(
      "form",
      { id: "spend-filters", class: "inline-form" },
      h("label", {}, "Window", h("select", { name: "window" }, WINDOWS.map(([v, t]) => h("option", { value: v }, t)))),
      h("label", {}, "Key id", h("input", { name: "key_id" })),
      h("label", {}, "Team", h("input", { name: "team" })),
      h("label", {}, "Model group", h("input", { name: "model_group" })),
      h("button", { type: "submit" }, "Apply"),
    );
    const out = h("div", { id: "spend-report" });
    const byDay = h("div");
    const burn = h("div");
    const load = async () => {
      const { window: span, ...filters } = formValues(form);
      const days = WINDOWS.find(([v]) => v === (span ?? ""))[2];
      const query = { ...filters };
      if (span) query.since = Date.now() / 1000 - Number(span);
      const [report, perDay] = await Promise.allSettled([api.get("/admin/spend", query), api.get("/admin/spend/daily", { ...filters, days })]);
      if (report.status === "fulfilled") {
        const r = report.value;
        replace(
          out,
          h("div", { class: "cards" }, card("Spend", money(r.total.cost)), card("Requests", num(r.total.requests)), card("Tokens", num(r.total.prompt_tokens + r.total.completion_tokens))),
          totals("By key", r.by_key),
          totals("By team", r.by_team),
          totals("By model group", r.by_model_group),
        );
      } else replace(out, errorBox(report.reason));
      replace(byDay, perDay.status === "fulfilled" ? daily(perDay.value) : errorBox(perDay.reason));
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    replace(root, form, out, byDay, burn);
    load();
    burndowns(api, can).then((box) => replace(burn, box));
  },
};
