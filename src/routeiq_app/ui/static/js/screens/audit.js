// Audit log: entries in seq order, paged server-side, and the latest signed checkpoint.
import { h, replace, table, pager, time, errorBox } from "../dom.js";

const PAGE = 50;

export default {
  id: "audit",
  title: "Audit log",
  render(root, { api, can }) {
    if (!can("audit.log.read")) {
      replace(root, h("p", { class: "muted" }, "Only admins and auditors read the audit log."));
      return;
    }
    const checkpoint = h("div", { id: "audit-checkpoint" });
    const list = h("div", { id: "audit-list" });
    replace(root, checkpoint, list);
    const columns = [
      { title: "Seq", cell: (e) => e.seq },
      { title: "Time", cell: (e) => time(e.event?.at) },
      { title: "Action", cell: (e) => e.event?.action ?? "—" },
      { title: "Actor", cell: (e) => e.event?.actor ?? "—" },
      { title: "Target", cell: (e) => e.event?.target ?? "—" },
      { title: "Outcome", cell: (e) => e.event?.outcome ?? "—" },
      { title: "Entry hash", cell: (e) => h("code", { class: "small" }, e.entry_hash.slice(0, 16)) },
    ];
    pager(
      list,
      (rows) => table(columns, rows, { empty: "The audit log is empty." }),
      async (from) => {
        try {
          const page = await api.get("/admin/audit", { from: from ?? 0, limit: PAGE });
          const c = page.checkpoint;
          replace(
            checkpoint,
            c ? h("p", { class: "muted" }, `Latest signed checkpoint: ${c.size} entries, root ${c.root ?? "—"}, at ${time(c.at)}. Verify it offline with `, h("code", {}, "routeiq audit verify"), ".") : h("p", { class: "muted" }, "No checkpoint signed yet."),
          );
          return { rows: page.entries, next: page.next_from };
        } catch (error) {
          replace(checkpoint, errorBox(error));
          throw error;
        }
      },
    );
  },
};
