// Small DOM helpers: elements from data (never HTML strings), tables, pagers, formatting.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, String(error.message || error));
}

// columns: [{ title, cell: (row) => node|string }]
export function table(columns, rows, { onRow, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted empty" }, empty);
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.title)));
  const body = rows.map((row) =>
    h(
      "tr",
      onRow ? { class: "clickable", tabindex: "0", onclick: () => onRow(row), onkeydown: (e) => e.key === "Enter" && onRow(row) } : {},
      columns.map((c) => h("td", {}, c.cell(row))),
    ),
  );
  return h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

// A server-side pager: `load(cursor)` returns { rows, next }; the pager keeps the cursors seen.
export function pager(container, render, load) {
  const cursors = [null];
  let index = 0;
  async function show() {
    replace(container, h("p", { class: "muted" }, "Loading…"));
    try {
      const { rows, next } = await load(cursors[index]);
      cursors.length = index + 1;
      if (next !== null && next !== undefined) cursors.push(next);
      const nav = h(
        "div",
        { class: "pager" },
        h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => go(index - 1) }, "← Previous"),
        h("span", { class: "muted" }, `Page ${index + 1}`),
        h("button", { type: "button", class: "secondary", disabled: cursors.length <= index + 1, onclick: () => go(index + 1) }, "Next →"),
      );
      replace(container, render(rows), nav);
    } catch (error) {
      replace(container, errorBox(error));
    }
  }
  function go(to) {
    index = to;
    show();
  }
  show();
  return { reload: () => show(), first: () => go(0) };
}

export function time(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

export function num(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function money(value) {
  if (value === null || value === undefined) return "—";
  return `$${Number(value).toFixed(6).replace(/0{1,4}$/, "")}`;
}

export function definitions(record) {
  return h(
    "dl",
    { class: "definitions" },
    Object.entries(record).flatMap(([k, v]) => [
      h("dt", {}, k),
      h("dd", {}, v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)),
    ]),
  );
}

export function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    const text = String(v).trim();
    if (text) out[k] = text;
  }
  return out;
}

export function card(title, value, detail) {
  return h("div", { class: "card stat" }, h("div", { class: "muted" }, title), h("div", { class: "value" }, value), detail ? h("div", { class: "muted small" }, detail) : null);
}
