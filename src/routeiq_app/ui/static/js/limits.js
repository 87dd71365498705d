// The limit and budget fields of the key and team edit forms, and the PATCH body they make.
// The admin API takes every limit at once as `limits` (`{}` clears them), so emptying the last field
// removes the last limit; limits the form does not show are sent back unchanged.
import { h } from "./dom.js";

const SHOWN = [
  ["requests_per_minute", "RPM"],
  ["total_tokens_per_minute", "TPM"],
];

export function limitInputs(record, prefix) {
  return [
    ...SHOWN.map(([name, label]) => h("label", {}, label, h("input", { name, id: `${prefix}-${name}`, type: "number", min: "1", value: record.limits[name] ?? "" }))),
    h("label", {}, "Budget $", h("input", { name: "budget", id: `${prefix}-budget`, type: "number", min: "0", step: "any", value: record.budget?.max_spend ?? "" })),
    h(
      "label",
      {},
      "Budget window",
      h("select", { name: "budget_window", id: `${prefix}-budget-window` }, ["month", "day", "hour", "minute"].map((w) => h("option", { value: w, selected: (record.budget?.window ?? "month") === w }, w))),
    ),
  ];
}

export function limitChanges(record, values) {
  const limits = { ...record.limits };
  for (const [name] of SHOWN) {
    if (values[name]) limits[name] = Number(values[name]);
    else delete limits[name];
  }
  return {
    limits,
    budget: values.budget ? { max_spend: Number(values.budget), window: values.budget_window ?? "month" } : null,
  };
}

export function limitText(record) {
  return Object.entries(record.limits).map(([n, v]) => `${n} ${v}`).join(", ") || "—";
}
