// Keys: a server-side paginated list, create (the secret shown once), rotate, revoke.
import { h, replace, table, pager, time, errorBox, formValues } from "../dom.js";
import { limitInputs, limitChanges, limitText } from "../limits.js";

const PAGE = 20;
const ROLES = ["member", "viewer", "team_admin", "auditor", "admin"];

function secretBox(title, issued, done) {
  return h(
    "div",
    { class: "card secret", id: "key-secret", role: "status" },
    h("strong", {}, title),
    h("p", {}, "Copy the secret now: it is shown once and cannot be read again."),
    h("code", { id: "key-secret-value", class: "secret-value" }, issued.key),
    h("p", { class: "muted small" }, `Key id ${issued.key_id}`),
    h("button", { type: "button", class: "secondary", onclick: done }, "Done"),
  );
}

function createForm(api, onIssued, status) {
  const form = h(
    "form",
    { id: "key-create", class: "inline-form" },
    h("label", {}, "Alias", h("input", { name: "alias", id: "key-alias" })),
    h("label", {}, "Role", h("select", { name: "role", id: "key-role" }, ROLES.map((r) => h("option", { value: r }, r)))),
    h("label", {}, "Team", h("input", { name: "team", id: "key-team" })),
    h("label", {}, "Models", h("input", { name: "models", id: "key-models", placeholder: "all; or demo, gpt-*" })),
    h("label", {}, "RPM", h("input", { name: "rpm", id: "key-rpm", type: "number", min: "1" })),
    h("label", {}, "Budget $", h("input", { name: "budget", id: "key-budget", type: "number", min: "0", step: "any" })),
    h("button", { type: "submit", id: "key-create-submit" }, "Create key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { role: values.role };
    if (values.alias) body.alias = values.alias;
    if (values.team) body.team = values.team;
    if (values.models) body.models = values.models.split(",").map((m) => m.trim()).filter(Boolean);
    if (values.rpm) body.rpm = Number(values.rpm);
    if (values.budget) body.budget = { max_spend: Number(values.budget) };
    try {
      onIssued(await api.post("/admin/keys", body));
      form.reset();
    } catch (error) {
      replace(status, errorBox(error));
    }
  });
  return form;
}

// Edits alias, models, RPM, TPM and budget through PATCH /admin/keys/{id}: every limit is sent as
// `limits` (the ones the form does not show unchanged), so emptying RPM and TPM clears the last limit.
function editForm(api, key, done, status) {
  const form = h(
    "form",
    { id: "key-edit", class: "inline-form card" },
    h("strong", {}, `Edit ${key.key_id}`),
    h("label", {}, "Alias", h("input", { name: "alias", value: key.alias ?? "" })),
    h("label", {}, "Models", h("input", { name: "models", id: "key-edit-models", value: key.models.join(", "), placeholder: "all" })),
    limitInputs(key, "key-edit"),
    h("button", { type: "submit", id: "key-edit-submit" }, "Save"),
    h("button", { type: "button", class: "secondary", onclick: () => replace(status) }, "Cancel"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {
      alias: values.alias ?? null,
      models: (values.models ?? "").split(",").map((m) => m.trim()).filter(Boolean),
      ...limitChanges(key, values),
    };
    try {
      const saved = await api.patch(`/admin/keys/${encodeURIComponent(key.key_id)}`, body);
      replace(status, h("p", { class: "ok", role: "status" }, `Saved ${saved.key_id}`));
      done();
    } catch (error) {
      status.append(errorBox(error));
    }
  });
  return form;
}

export default {
  id: "keys",
  title: "Keys",
  render(root, { api, can }) {
    const status = h("div", { id: "key-status" });
    const list = h("div", { id: "key-list" });
    const writable = can("keys.write");
    const showSecret = (title, issued) => {
      replace(status, secretBox(title, issued, () => replace(status)));
      pages.first();
    };
    const actions = (k) => {
      if (!writable || k.revoked_at) return k.revoked_at ? "revoked" : "";
      const act = async (label, call) => {
        try {
          const answer = await call();
          if (answer.key) showSecret(`${label}: new secret for ${k.key_id}`, answer);
          else {
            replace(status, h("p", { class: "ok", role: "status" }, `${label}: ${k.key_id}`));
            pages.reload();
          }
        } catch (error) {
          replace(status, errorBox(error));
        }
      };
      const revoke = h("button", { type: "button", class: "danger", "data-action": "revoke" }, "Revoke");
      revoke.addEventListener("click", () => {
        if (revoke.dataset.armed) return act("Revoked", () => api.del(`/admin/keys/${encodeURIComponent(k.key_id)}`));
        revoke.dataset.armed = "1";
        revoke.textContent = "Confirm revoke";
      });
      const rotate = h(
        "button",
        { type: "button", class: "secondary", "data-action": "rotate", onclick: () => act("Rotated", () => api.post(`/admin/keys/${encodeURIComponent(k.key_id)}/rotate`)) },
        "Rotate",
      );
      const edit = h(
        "button",
        { type: "button", class: "secondary", "data-action": "edit", onclick: () => replace(status, editForm(api, k, () => pages.reload(), status)) },
        "Edit",
      );
      return h("span", { class: "actions" }, edit, rotate, revoke);
    };
    const columns = [
      { title: "Key id", cell: (k) => h("code", {}, k.key_id) },
      { title: "Alias", cell: (k) => k.alias ?? "—" },
      { title: "Role", cell: (k) => k.role },
      { title: "Team", cell: (k) => k.team ?? "—" },
      { title: "Models", cell: (k) => (k.models.length ? k.models.join(", ") : "all") },
      { title: "Limits", cell: limitText },
      { title: "Budget", cell: (k) => (k.budget ? `$${k.budget.max_spend} / ${k.budget.window}` : "—") },
      { title: "Hint", cell: (k) => k.hint },
      { title: "Created", cell: (k) => time(k.created_at) },
      { title: "", cell: actions },
    ];
    replace(
      root,
      writable ? createForm(api, (issued) => showSecret("Key created", issued), status) : h("p", { class: "muted", id: "key-readonly" }, "Read-only: this key's role cannot create or change keys."),
      status,
      list,
    );
    const pages = pager(
      list,
      (rows) => table(columns, rows, { empty: "No keys yet." }),
      async (after) => {
        const page = await api.get("/admin/keys", { limit: PAGE, after });
        return { rows: page.data, next: page.next_after };
      },
    );
  },
};
