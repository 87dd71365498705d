// Routing: this worker's deployment strategy, its experiment or bandit counters, and a policy dry run.
import { h, replace, definitions, errorBox, table } from "../dom.js";

function explainForm(api) {
  const model = h("input", { name: "model", id: "explain-model", required: true, value: "demo" });
  const prompt = h("textarea", { name: "prompt", id: "explain-prompt", rows: "3" }, "Hello");
  const maxTokens = h("input", { name: "max_tokens", id: "explain-max-tokens", type: "number", min: "1" });
  const out = h("div", { id: "explain-result" });
  const form = h(
    "form",
    { id: "explain-form", class: "stack" },
    h("div", { class: "inline-form" }, h("label", {}, "Model", model), h("label", {}, "max_tokens", maxTokens)),
    h("label", {}, "Message", prompt),
    h("div", {}, h("button", { type: "submit", id: "explain-submit" }, "Explain")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { model: model.value, messages: [{ role: "user", content: prompt.value }] };
    if (maxTokens.value) body.max_tokens = Number(maxTokens.value);
    try {
      const answer = await api.post("/admin/policy/explain", { body });
      const d = answer.decision;
      replace(
        out,
        h("p", { id: "explain-decision" }, h("strong", { class: d.allowed ? "ok" : "error" }, d.allowed ? "allowed" : "denied"), ` · model ${d.model ?? "—"} · ${d.reason ?? ""}${d.rule ? ` (rule ${d.rule})` : ` (default: ${answer.default})`}`),
        table(
          [
            { title: "#", cell: (r) => r.index },
            { title: "Rule", cell: (r) => r.name },
            { title: "Action", cell: (r) => r.action },
            { title: "Matched", cell: (r) => (r.decisive ? "decisive" : r.matched ? "yes" : "no") },
            { title: "Checks", cell: (r) => r.checks.map((c) => `${c.passed ? "✓" : "✗"} ${c.condition}: ${c.detail}`).join("; ") },
          ],
          answer.rules,
          { empty: "No policy rules: the default applies." },
        ),
      );
    } catch (error) {
      replace(out, errorBox(error));
    }
  });
  return h("section", {}, h("h3", {}, "Explain a request (policy dry run)"), form, out);
}

export default {
  id: "routing",
  title: "Routing",
  async render(root, { api, can }) {
    const explain = can("policy.explain") ? explainForm(api) : null;
    try {
      const state = await api.get("/admin/routing");
      replace(
        root,
        h("p", {}, "Strategy: ", h("strong", { id: "routing-strategy" }, state.strategy)),
        state.experiment ? h("section", {}, h("h3", {}, "Experiment"), definitions(state.experiment)) : null,
        state.bandit ? h("section", {}, h("h3", {}, "Bandit"), definitions(state.bandit)) : null,
        !state.experiment && !state.bandit ? h("p", { class: "muted" }, "No experiment or bandit is configured.") : null,
        explain,
      );
    } catch (error) {
      replace(root, errorBox(error), explain);
    }
  },
};
