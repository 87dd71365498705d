// Teams: a server-side paginated list; admins create teams.
import { h, replace, table, pager, time, errorBox, formValues } from "../dom.js";

export default {
  id: "teams",
  title: "Teams",
  render(root, { api, can }) {
    const status = h("div", { id: "team-status" });
    const list = h("div", { id: "team-list" });
    const form = h(
      "form",
      { id: "team-create", class: "inline-form" },
      h("label", {}, "Team id", h("input", { name: "team_id", required: true })),
      h("label", {}, "Alias", h("input", { name: "alias" })),
      h("label", {}, "Models", h("input", { name: "models", placeholder: "all" })),
      h("button", { type: "submit" }, "Create team"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = formValues(form);
      const body = { team_id: values.team_id, alias: values.alias };
      if (values.models) body.models = values.models.split(",").map((m) => m.trim()).filter(Boolean);
      try {
        const team = await api.post("/admin/teams", body);
        replace(status, h("p", { class: "ok" }, `Created ${team.team_id}`));
        form.reset();
        pages.first();
      } catch (error) {
        replace(status, errorBox(error));
      }
    });
    replace(root, can("teams.write") ? form : null, status, list);
    const columns = [
      { title: "Team", cell: (t) => h("code", {}, t.team_id) },
      { title: "Alias", cell: (t) => t.alias ?? "—" },
      { title: "Models", cell: (t) => (t.models.length ? t.models.join(", ") : "all") },
      { title: "Limits", cell: (t) => Object.entries(t.limits).map(([n, v]) => `${n} ${v}`).join(", ") || "—" },
      { title: "Budget", cell: (t) => (t.budget ? `$${t.budget.max_spend} / ${t.budget.window}` : "—") },
      { title: "Created", cell: (t) => time(t.created_at) },
    ];
    const pages = pager(
      list,
      (rows) => table(columns, rows, { empty: "No teams yet." }),
      async (after) => {
        const page = await api.get("/admin/teams", { limit: 20, after });
        return { rows: page.data, next: page.next_after };
      },
    );
  },
};
