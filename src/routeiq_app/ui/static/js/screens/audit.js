// Audit log: the verification of the whole chain, entries in seq order (paged server-side), and the
// latest signed checkpoint.
import { h, replace, table, pager, time, num, errorBox } from "../dom.js";

const PAGE = 50;

function verifyResult(r) {
  if (r.ok) {
    return h(
      "p",
      { id: "audit-verify-result", class: "ok", role: "status" },
      h("span", { class: "badge good" }, "Verified"),
      ` ${num(r.size)} entries: every hash, link, sequence number and Merkle root checks out; ${num(r.checkpoints)} stored and ${num(r.external_checkpoints)} external checkpoint(s) verified. Root `,
      h("code", {}, r.root),
    );
  }
  const where = r.index === null || r.index === undefined ? "" : ` at entry ${r.index}`;
  return h("p", { id: "audit-verify-result", class: "error", role: "alert" }, h("span", { class: "badge bad" }, "Failed"), ` ${where}: ${r.reason}`);
}

function verifySection(api) {
  const out = h("div", { id: "audit-verify" });
  const button = h("button", { type: "button", id: "audit-verify-run" }, "Verify the whole log");
  button.addEventListener("click", async () => {
    button.disabled = true;
    replace(out, h("p", { class: "muted" }, "Verifying…"));
    try {
      replace(out, verifyResult(await api.get("/admin/audit/verify")));
    } catch (error) {
      replace(out, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "section",
    { class: "card stack" },
    h("div", { class: "row" }, h("strong", {}, "Chain verification"), button),
    h("p", { class: "muted small" }, "The same checks as ", h("code", {}, "routeiq audit verify --config"), ", run by the gateway with the keys it trusts (its signing key and audit.verify_keys) and the external checkpoint copy. It reads the whole log."),
    out,
  );
}

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
    replace(root, verifySection(api), checkpoint, list);
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
