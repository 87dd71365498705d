// Teams: a server-side paginated list; admins (teams.write) create, edit and delete teams.
import { h, replace, table, pager, time, errorBox, formValues } from "../dom.js";
import { limitInputs, limitChanges, limitText } from "../limits.js";

const models = (text) => (text ?? "").split(",").map((m) => m.trim()).filter(Boolean);

function createForm(api, status, created) {
  const form = h(
    "form",
    { id: "team-create", class: "inline-form" },
    h("label", {}, "Team id", h("input", { name: "team_id", id: "team-id", required: true })),
    h("label", {}, "Alias", h("input", { name: "alias", id: "team-alias" })),
    h("label", {}, "Models", h("input", { name: "models", placeholder: "all" })),
    h("label", {}, "RPM", h("input", { name: "rpm", id: "team-rpm", type: "number", min: "1" })),
    h("label", {}, "Budget $", h("input", { name: "budget", id: "team-budget", type: "number", min: "0", step: "any" })),
    h("button", { type: "submit", id: "team-create-submit" }, "Create team"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { team_id: values.team_id, alias: values.alias, models: models(values.models) };
    if (values.rpm) body.rpm = Number(values.rpm);
    if (values.budget) body.budget = { max_spend: Number(values.budget) };
    try {
      const team = await api.post("/admin/teams", body);
      replace(status, h("p", { class: "ok", role: "status" }, `Created ${team.team_id}`));
      form.reset();
      created();
    } catch (error) {
      replace(status, errorBox(error));
    }
  });
  return form;
}

// PATCH /admin/teams/{id}: alias, models, every limit at once (`limits`), budget (null removes it).
function editForm(api, team, status, saved) {
  const form = h(
    "form",
    { id: "team-edit", class: "inline-form card" },
    h("strong", {}, `Edit ${team.team_id}`),
    h("label", {}, "Alias", h("input", { name: "alias", id: "team-edit-alias", value: team.alias ?? "" })),
    h("label", {}, "Models", h("input", { name: "models", id: "team-edit-models", value: team.models.join(", "), placeholder: "all" })),
    limitInputs(team, "team-edit"),
    h("button", { type: "submit", id: "team-edit-submit" }, "Save"),
    h("button", { type: "button", class: "secondary", onclick: () => replace(status) }, "Cancel"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { alias: values.alias ?? null, models: models(values.models), ...limitChanges(team, values) };
    try {
      const answer = await api.patch(`/admin/teams/${encodeURIComponent(team.team_id)}`, body);
      replace(status, h("p", { class: "ok", role: "status" }, `Saved ${answer.team_id}`));
      saved();
    } catch (error) {
      status.append(errorBox(error));
    }
  });
  return form;
}

export default {
  id: "teams",
  title: "Teams",
  render(root, { api, can }) {
    const status = h("div", { id: "team-status" });
    const list = h("div", { id: "team-list" });
    const writable = can("teams.write");
    const actions = (t) => {
      if (t.deleted_at) return "deleted";
      if (!writable) return "";
      const path = `/admin/teams/${encodeURIComponent(t.team_id)}`;
      const remove = h("button", { type: "button", class: "danger", "data-action": "delete" }, "Delete");
      remove.addEventListener("click", async () => {
        if (!remove.dataset.armed) {
          remove.dataset.armed = "1";
          remove.textContent = "Confirm delete";
          return;
        }
        try {
          await api.del(path);
          replace(status, h("p", { class: "ok", role: "status" }, `Deleted ${t.team_id}`));
          pages.reload();
        } catch (error) {
          replace(status, errorBox(error));
        }
      });
      const edit = h("button", { type: "button", class: "secondary", "data-action": "edit", onclick: () => replace(status, editForm(api, t, status, () => pages.reload())) }, "Edit");
      return h("span", { class: "actions" }, edit, remove);
    };
    const columns = [
      { title: "Team", cell: (t) => h("code", {}, t.team_id) },
      { title: "Alias", cell: (t) => t.alias ?? "—" },
      { title: "Models", cell: (t) => (t.models.length ? t.models.join(", ") : "all") },
      { title: "Limits", cell: limitText },
      { title: "Budget", cell: (t) => (t.budget ? `$${t.budget.max_spend} / ${t.budget.window}` : "—") },
      { title: "Created", cell: (t) => time(t.created_at) },
      { title: "", cell: actions },
    ];
    replace(
      root,
      writable ? createForm(api, status, () => pages.first()) : h("p", { class: "muted", id: "team-readonly" }, "Read-only: this key's role cannot create, change or delete teams."),
      status,
      list,
    );
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
