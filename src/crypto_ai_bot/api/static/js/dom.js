// Small DOM helpers: elements built from text (never HTML), tables filled, a toast.

export const $ = (id) => document.getElementById(id);

/** Build an element; strings become text (never HTML). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const td = (text, cls = "") => h("td", { class: cls, text });
export const num = (text, tone = "") => td(text, `num ${tone}`.trim());

export function fill(parent, children) { parent.replaceChildren(...children.filter((c) => c)); }

/**
 * Rows keyed by data-symbol, updated in place: a row that is still there keeps its element
 * and its buttons (a click is never lost to a refresh), only the cells that changed are new.
 */
export function fillKeyed(tbody, rows) {
  const old = new Map([...tbody.rows].map((r) => [r.dataset.symbol, r]));
  tbody.replaceChildren(...rows.map((row) => {
    const prev = old.get(row.dataset.symbol);
    if (!prev || prev.cells.length !== row.cells.length) return row;
    [...row.cells].forEach((cell, i) => {
      const was = prev.cells[i];
      const button = cell.querySelector("button");
      const kept = was.querySelector("button");
      if (button && kept) { kept.disabled = button.disabled; return; }
      if (was.textContent !== cell.textContent || was.className !== cell.className
          || was.title !== cell.title) was.replaceWith(cell);
    });
    return prev;
  }));
}

export function setText(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  if (cls === undefined) return;
  el.classList.remove("pos", "neg");
  if (cls) el.classList.add(cls);
}

let toastTimer = null;
export function toast(message, bad = false) {
  const el = $("toast");
  el.textContent = message;
  el.classList.toggle("bad", bad);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}
