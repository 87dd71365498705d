// System: version, config hash, readiness components, plugins (/admin/system), the MCP gateway's
// upstream servers (/admin/mcp/servers, when this build serves it: /admin/system lists it in
// `sections`), and the signed-in key. A2A agents follow when the A2A gateway lands.
import { h, replace, table, definitions, errorBox } from "../dom.js";

const GOOD = new Set(["ok", "active", "connected", "ready", "closed"]);
const statusBadge = (status) => h("span", { class: GOOD.has(status) ? "badge good" : "badge bad" }, String(status));

function readinessTable(report) {
  return h(
    "section",
    {},
    h("h3", {}, "Readiness"),
    h("p", {}, "Status ", statusBadge(report.status), ` · phase ${report.phase}`),
    table(
      [
        { title: "Component", cell: (c) => c.name },
        { title: "Status", cell: (c) => statusBadge(c.status) },
        { title: "Detail", cell: (c) => c.reason ?? "" },
      ],
      report.components,
      { empty: "No components reported." },
    ),
  );
}

function pluginsTable(plugins) {
  return h(
    "section",
    { id: "system-plugins" },
    h("h3", {}, "Plugins (run order)"),
    table(
      [
        { title: "Plugin", cell: (p) => h("code", {}, p.name) },
        { title: "Version", cell: (p) => p.version },
        { title: "State", cell: (p) => statusBadge(p.state) },
        { title: "On failure", cell: (p) => p.failure_mode },
        { title: "Capabilities", cell: (p) => p.capabilities.join(", ") || "—" },
      ],
      plugins,
      { empty: "No plugin is enabled (plugins.enabled)." },
    ),
  );
}

// The MCP gateway's upstream servers: whatever rows the endpoint answers, one column per field.
async function mcpSection(api) {
  const box = h("section", { id: "system-mcp" }, h("h3", {}, "MCP servers"));
  try {
    const answer = await api.get("/admin/mcp/servers");
    const rows = Array.isArray(answer) ? answer : answer.servers ?? answer.data ?? [];
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 8);
    const cell = (v) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
    box.append(
      table(
        names.map((n) => ({ title: n, cell: (r) => (["status", "state", "breaker"].includes(n) ? statusBadge(r[n]) : cell(r[n])) })),
        rows,
        { empty: "No MCP upstream server is configured." },
      ),
    );
  } catch (error) {
    box.append(errorBox(error));
  }
  return box;
}

async function systemInfo(api, can) {
  if (!can("config.read")) {
    const response = await fetch("/health/ready", { credentials: "omit", cache: "no-store" });
    const report = await response.json();
    return [h("p", {}, "Version ", h("strong", { id: "system-version" }, report.version)), readinessTable(report)];
  }
  const info = await api.get("/admin/system");
  const parts = [
    h(
      "div",
      { class: "card stack" },
      h("p", {}, "Version ", h("strong", { id: "system-version" }, info.version)),
      h("p", {}, "Config hash ", h("code", { id: "system-config-hash", title: "SHA-256 of the effective settings, secrets redacted: the same on every worker that loaded the same config" }, info.config_hash)),
      h("p", { class: "muted small" }, `${info.model_groups} model group(s) · ${info.routed_models} routed model(s) · ${info.policy_rules} policy rule(s)`),
    ),
    readinessTable(info.readiness),
    pluginsTable(info.plugins),
  ];
  if (info.sections.includes("mcp_servers")) {
    if (can("mcp.servers.read")) parts.push(await mcpSection(api));
    else parts.push(h("p", { class: "muted small", id: "system-mcp" }, "MCP servers: this key's role lacks mcp.servers.read."));
  }
  if (!info.sections.includes("a2a_agents")) parts.push(h("p", { class: "muted small", id: "system-a2a" }, "A2A agents: this build has no A2A gateway yet."));
  return parts;
}

export default {
  id: "system",
  title: "System",
  async render(root, { api, can, session }) {
    const signedIn = [h("h3", {}, "Signed in as"), definitions(session)];
    try {
      replace(root, ...(await systemInfo(api, can)), ...signedIn);
    } catch (error) {
      replace(root, errorBox(error), ...signedIn);
    }
  },
};
