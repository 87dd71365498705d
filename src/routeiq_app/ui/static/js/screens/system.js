// System: version, readiness components, and the signed-in key.
import { h, replace, table, definitions, errorBox } from "../dom.js";

export default {
  id: "system",
  title: "System",
  async render(root, { api, session }) {
    const parts = [h("h3", {}, "Signed in as"), definitions(session)];
    try {
      const response = await fetch("/health/ready", { credentials: "omit", cache: "no-store" });
      const report = await response.json();
      parts.unshift(
        h("p", {}, "Version ", h("strong", { id: "system-version" }, report.version), ` · status ${report.status} · phase ${report.phase}`),
        table(
          [
            { title: "Component", cell: (c) => c.name },
            { title: "Status", cell: (c) => h("span", { class: c.status === "ok" ? "badge good" : "badge bad" }, c.status) },
            { title: "Detail", cell: (c) => c.reason ?? "" },
          ],
          report.components,
          { empty: "No components reported." },
        ),
      );
    } catch (error) {
      parts.unshift(errorBox(error));
    }
    replace(root, ...parts);
  },
};
