// Routing: this worker's deployment strategy, its experiment or bandit counters, the routed models and
// what their router picks for a prompt ("explain this prompt"), and a policy dry run.
import { h, replace, definitions, errorBox, table, num, money } from "../dom.js";

function routedTable(routed) {
  return table(
    [
      { title: "Routed model", cell: (r) => h("code", {}, r.name) },
      { title: "Cost weight", cell: (r) => num(r.cost_weight, 4) },
      { title: "Router model → model group", cell: (r) => Object.entries(r.model_map).map(([m, g]) => `${m} → ${g}`).join(", ") || "same names" },
    ],
    routed,
    { empty: "No routed models (routing.routers)." },
  );
}

function routeExplainForm(api, routed) {
  const model = h("select", { name: "model", id: "route-model" }, routed.map((r) => h("option", { value: r.name }, r.name)));
  const prompt = h("textarea", { name: "prompt", id: "route-prompt", rows: "3", required: true }, "Solve the integral of x^2 dx step by step.");
  const weight = h("input", { name: "cost_weight", id: "route-cost-weight", type: "number", min: "0", step: "any", placeholder: "configured" });
  const out = h("div", { id: "route-explain-result" });
  const form = h(
    "form",
    { id: "route-explain-form", class: "stack" },
    h("div", { class: "inline-form" }, h("label", {}, "Routed model", model), h("label", {}, "Cost weight", weight)),
    h("label", {}, "Prompt", prompt),
    h("div", {}, h("button", { type: "submit", id: "route-explain-submit" }, "Explain this prompt")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { model: model.value, prompt: prompt.value };
    if (weight.value !== "") body.cost_weight = Number(weight.value);
    try {
      const answer = await api.post("/admin/routing/explain", body);
      const best = Math.max(...answer.candidates.map((c) => c.predicted_quality), 1e-9);
      replace(
        out,
        h("p", { id: "route-choice" }, "Routes to ", h("strong", {}, answer.model_group), ` (router model ${answer.model}) · ${answer.reason}`),
        table(
          [
            { title: "", cell: (c) => (c.chosen ? h("span", { class: "badge good" }, "chosen") : "") },
            { title: "Router model", cell: (c) => c.model },
            { title: "Model group", cell: (c) => c.model_group },
            { title: "Predicted quality", cell: (c) => h("span", { class: "meter" }, h("meter", { min: "0", max: String(best), value: String(Math.max(0, c.predicted_quality)) }), ` ${num(c.predicted_quality, 4)}`) },
            { title: "Estimated cost", cell: (c) => money(c.estimated_cost) },
          ],
          answer.candidates,
        ),
      );
    } catch (error) {
      replace(out, errorBox(error));
    }
  });
  return h("section", {}, h("h3", {}, "Explain this prompt (the routed model's router, as a call would route it)"), form, out);
}

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
      const routed = [h("h3", {}, "Routed models"), routedTable(state.routed)];
      if (state.routed.length && can("policy.explain")) routed.push(routeExplainForm(api, state.routed));
      replace(
        root,
        h("p", {}, "Strategy: ", h("strong", { id: "routing-strategy" }, state.strategy)),
        state.experiment ? h("section", {}, h("h3", {}, "Experiment"), definitions(state.experiment)) : null,
        state.bandit ? h("section", {}, h("h3", {}, "Bandit"), definitions(state.bandit)) : null,
        !state.experiment && !state.bandit ? h("p", { class: "muted" }, "No experiment or bandit is configured.") : null,
        ...routed,
        explain,
      );
    } catch (error) {
      replace(root, errorBox(error), explain);
    }
  },
};
