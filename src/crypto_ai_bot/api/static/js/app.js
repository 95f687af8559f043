// The dashboard: sign-in, the pages (one per tab), the live events and the controls.
// Everything shown comes from /api/v1 (docs: /docs, the contract in /openapi.json).

import * as api from "./api.js";
import * as f from "./format.js";
import { CandleChart, EquityChart, PnlChart } from "./charts.js";

const $ = (id) => document.getElementById(id);
const PAGES = ["overview", "trades", "chart", "pnl", "balance", "events", "controls"];
const REFRESH_MS = 2000;
const ROUTINE = new Set(["stops.checked", "position.checked"]);
// what changes the numbers on the pages: a refresh follows at once
const MOVING = new Set(["order.filled", "order.closed", "order.settled", "position.changed",
  "exit.triggered", "trading_state.changed", "fill.recorded", "dms.tripped"]);
const FEED_MAX = 300;

const app = {
  status: null, page: "overview", quote: "USDT", symbols: [], precision: {},
  stream: null, timer: null, refreshing: false, again: false, soon: null,
  tradesOffset: 0, tradesTotal: 0, pnlPeriod: "day", chartSymbol: "",
  charts: {}, settings: null, feed: [], eventsLoaded: false, busy: new Set(),
};

/** Build an element; strings become text (never HTML). */
function h(tag, props = {}, ...children) {
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

const td = (text, cls = "") => h("td", { class: cls, text });
const num = (text, tone = "") => td(text, `num ${tone}`.trim());

function fill(parent, children) { parent.replaceChildren(...children.filter((c) => c)); }

/**
 * Rows keyed by data-symbol, updated in place: a row that is still there keeps its element
 * and its buttons (a click is never lost to a refresh), only the cells that changed are new.
 */
function fillKeyed(tbody, rows) {
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

function setText(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  if (cls === undefined) return;
  el.classList.remove("pos", "neg");
  if (cls) el.classList.add(cls);
}

let toastTimer = null;
function toast(message, bad = false) {
  const el = $("toast");
  el.textContent = message;
  el.classList.toggle("bad", bad);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// --- the mode: on every page, before and after signing in ---------------------------------

function setMode(mode, label) {
  const banner = $("mode-banner");
  banner.classList.remove("mode-paper", "mode-live", "mode-unknown");
  const known = mode === "paper" || mode === "live";
  banner.classList.add(known ? `mode-${mode}` : "mode-unknown");
  const tag = label || (known ? `[${mode.toUpperCase()}]` : "[?]");
  $("mode-label").textContent = tag;
  $("mode-text").textContent = mode === "live"
    ? "LIVE trading: real orders, real money"
    : mode === "paper" ? "Paper trading: simulated orders, no real money"
      : "mode unknown: the bot does not answer";
  $("confirm-mode").textContent = mode === "live"
    ? `${tag} This sends a real order on the exchange.` : `${tag} A simulated order.`;
  document.title = `${tag} crypto-ai-bot`;
  document.body.dataset.mode = mode || "unknown";
}

// --- sign-in ---------------------------------------------------------------------------------

// the server says in the page whether it has an API_TOKEN at all: without one /api/v1 refuses
// every call, and the page says how to set one instead of asking for it
const tokenSet = () =>
  document.querySelector('meta[name="cab-api-token"]')?.content !== "unset";

function showLogin(message = "") {
  stop();
  $("top").hidden = true;
  $("tabs").hidden = true;
  for (const p of PAGES) $(`page-${p}`).hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.textContent = message;
  err.hidden = !message;
  $("token").value = "";
  $("token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  const err = $("login-error");
  if (!token) return;
  $("login-submit").disabled = true;
  try {
    const status = await api.get("/api/v1/status", { token });
    api.session.save(token);
    $("token").value = "";
    enter(status);
  } catch (e) {
    err.textContent = e instanceof api.Unauthorized
      ? "Wrong token: the bot refused it. Check API_TOKEN."
      : `Cannot reach the bot's API: ${e.message}`;
    err.hidden = false;
    $("token").select();
  } finally {
    $("login-submit").disabled = false;
  }
}

function signOut() {
  api.session.clear();
  showLogin("Signed out.");
}

function refused() {
  api.session.clear();
  showLogin("The bot refused the token: sign in again.");
}

function enter(status) {
  $("login").hidden = true;
  $("top").hidden = false;
  $("tabs").hidden = false;
  renderStatus(status);
  start();
  route();
}

// --- the clock of the page: one refresh at a time, every REFRESH_MS and on events ---------

function start() {
  stop();
  const controller = new AbortController();
  app.stream = controller;
  api.follow({
    signal: controller.signal,
    onEvent: onLiveEvent,
    onState: (s) => {
      const dot = $("live-dot");
      dot.className = `live-dot ${s}`;
      dot.textContent = s === "on" ? "● live" : "○ reconnecting";
    },
    onUnauthorized: refused,
  }).catch((e) => toast(`live updates stopped: ${e.message}`, true));
  app.timer = setInterval(() => refresh(), REFRESH_MS);
}

function stop() {
  if (app.stream) app.stream.abort();
  app.stream = null;
  clearInterval(app.timer);
  app.timer = null;
}

function refreshSoon() {
  clearTimeout(app.soon);
  app.soon = setTimeout(() => refresh(), 150);
}

async function refresh() {
  if ($("top").hidden) return; // signed out meanwhile
  if (app.refreshing) { app.again = true; return; }
  if (document.hidden && app.timer) return; // a background tab asks nothing
  app.refreshing = true;
  try {
    const status = await api.get("/api/v1/status");
    renderStatus(status);
    await LOADERS[app.page]();
  } catch (e) {
    if (e instanceof api.Unauthorized) { refused(); return; }
    toast(`cannot refresh: ${e.message}`, true);
  } finally {
    app.refreshing = false;
    if (app.again) { app.again = false; refreshSoon(); }
  }
}

// --- routing ---------------------------------------------------------------------------------

function route() {
  const wanted = location.hash.replace("#", "");
  app.page = PAGES.includes(wanted) ? wanted : "overview";
  for (const p of PAGES) $(`page-${p}`).hidden = p !== app.page;
  for (const a of document.querySelectorAll("#tabs a")) {
    a.classList.toggle("on", a.dataset.tab === app.page);
    if (a.dataset.tab === app.page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!$("top").hidden) refresh();
}

// --- status: the header, the overview, the controls ------------------------------------------

function renderStatus(s) {
  app.status = s;
  app.quote = s.quote || "USDT";
  setMode(s.mode, s.label);
  for (const sym of s.symbols) app.precision[sym.symbol] = sym;
  const names = s.symbols.map((x) => x.symbol);
  if (names.join() !== app.symbols.join()) {
    app.symbols = names;
    for (const id of ["chart-symbol", "ctl-enter-symbol"]) {
      fill($(id), names.map((n) => h("option", { value: n, text: n })));
    }
    fill($("trades-symbol"), [h("option", { value: "", text: "all" }),
      ...names.map((n) => h("option", { value: n, text: n }))]);
    if (!names.includes(app.chartSymbol)) app.chartSymbol = names[0] || "";
    $("chart-symbol").value = app.chartSymbol;
  }
  const pill = $("state-pill");
  pill.textContent = s.trading_state;
  pill.className = `state-pill state-${s.trading_state}`;
  pill.title = s.trading_reason || "";
  const run = $("run-pill");
  run.textContent = s.running ? "loops running" : "loops stopped";
  run.className = `run-pill ${s.running ? "pos" : "neg"}`;

  setText("ov-state", s.trading_state);
  $("ov-state").className = `v state-${s.trading_state}`;
  setText("ov-reason", s.trading_reason || "");
  const since = s.started_ms ? ` since ${f.time(s.started_ms)}` : "";
  $("loops-sub").textContent = `${s.running ? "Running" : "Stopped"}${since}; broker ${
    s.broker_ready ? "ready" : "not ready"}.`;
  $("ctl-running").textContent = $("loops-sub").textContent;
  $("ctl-state").textContent = `${s.trading_state}${s.trading_reason ? ": " + s.trading_reason : ""}`;

  fill($("loops").tBodies[0], [...s.loops].sort((a, b) => a.name.localeCompare(b.name)).map((l) =>
    h("tr", {}, td(l.name), td(f.time(l.last_beat_ms)), num(f.duration(l.age_ms)))));

  const open = s.symbols.filter((x) => x.in_position);
  $("positions-empty").hidden = open.length > 0;
  fillKeyed($("positions").tBodies[0], open.map((p) => positionRow(p)));
  fillKeyed($("ctl-positions").tBodies[0], open.map((p) => h("tr", { "data-symbol": p.symbol },
    td(p.symbol), num(f.amount(p.amount, p.amount_precision)),
    num(`${f.money(p.unrealised_pnl_quote, { signed: true })}`, f.tone(p.unrealised_pnl_quote)),
    h("td", {}, exitButton(p)))));
  fillKeyed($("markets").tBodies[0], s.symbols.map((m) => h("tr", { "data-symbol": m.symbol },
    td(m.symbol), num(f.price(m.price, m.price_precision)),
    td(m.in_position ? "open" : "flat"),
    td(m.entries_blocked ? `blocked: ${m.entries_blocked}` : "allowed"))));
}

const labelled = (label, cell) => { cell.dataset.label = label; return cell; };

function positionRow(p) {
  const stop = p.stop_price === null ? "—" : f.price(p.stop_price, p.price_precision);
  const resting = p.exchange_stop_resting === null ? "n/a" // paper: no exchange-side stop
    : !p.exchange_stop_resting ? `NOT resting${p.unprotected_reason ? ": " + p.unprotected_reason : ""}`
      : p.exchange_stop_price ? `resting at ${f.price(p.exchange_stop_price, p.price_precision)}` : "resting";
  return h("tr", { "data-symbol": p.symbol },
    labelled("Symbol", td(p.symbol)),
    labelled("Amount", num(f.amount(p.amount, p.amount_precision))),
    labelled("Entry", num(f.price(p.entry_price, p.price_precision))),
    labelled("Price", num(f.price(p.price, p.price_precision))),
    labelled("Unrealised", num(`${f.money(p.unrealised_pnl_quote, { signed: true })} ${app.quote}`,
      f.tone(p.unrealised_pnl_quote))),
    labelled("%", num(f.pct(p.unrealised_pnl_pct), f.tone(p.unrealised_pnl_pct))),
    labelled("Stop", h("td", { class: "num", title: p.stop_reason || "" }, stop)),
    labelled("Exchange stop", td(resting, p.exchange_stop_resting === false ? "neg" : "")),
    labelled("Age", td(f.duration(p.trade_age_ms))),
    labelled("", h("td", {}, exitButton(p))));
}

function exitButton(p) {
  return h("button", {
    type: "button", class: "danger", "data-testid": `force-exit-${p.symbol}`,
    disabled: app.busy.has(p.symbol), onclick: () => forceExit(p.symbol),
  }, "Force exit…");
}

// --- the pages' loaders ----------------------------------------------------------------------

async function loadOverview() {
  const [balance, profit, today, equity] = await Promise.all([
    api.get("/api/v1/balance"), api.get("/api/v1/profit"),
    api.get(`/api/v1/performance${api.query({ period: "day", n: 1 })}`),
    api.get(`/api/v1/equity${api.query({ limit: 500 })}`),
  ]);
  const q = ` ${balance.quote}`;
  setText("ov-equity", f.money(balance.equity_quote) + q);
  const day = today.items[today.items.length - 1];
  setText("ov-today", day ? f.money(day.pnl_quote, { signed: true }) + q : `0.00${q}`,
    day ? f.tone(day.pnl_quote) : "");
  setText("ov-today-sub", day ? `${day.trades} trade${day.trades === 1 ? "" : "s"} closed today` : "no trade today");
  setText("ov-total", f.money(profit.total_quote, { signed: true }) + q, f.tone(profit.total_quote));
  setText("ov-total-sub", `realised ${f.money(profit.realised_quote, { signed: true })}, unrealised ${
    f.money(profit.unrealised_quote, { signed: true })}`);
  app.charts.equity ??= new EquityChart($("equity-chart"));
  const shown = app.charts.equity.update(equity.points);
  $("equity-empty").hidden = shown > 0;
}

/** A long id (a client order id) by its tail; the whole of it in the tooltip. */
function shortId(id) {
  const s = String(id);
  return s.length > 12 ? `…${s.slice(-8)}` : s;
}

function tradeRow(t) {
  const prec = app.precision[t.symbol] || {};
  return h("tr", { "data-trade-id": t.id, "data-symbol": t.symbol },
    h("td", { class: "id", title: String(t.id) }, shortId(t.id)), td(t.symbol), td(f.time(t.entry_ms)), td(f.time(t.exit_ms)),
    num(f.price(t.entry_price, prec.price_precision)), num(f.price(t.exit_price, prec.price_precision)),
    num(f.amount(t.amount, prec.amount_precision)), num(f.money(t.fees_quote)),
    num(f.money(t.pnl_quote, { signed: true }), f.tone(t.pnl_quote)),
    num(f.pct(t.pnl_pct), f.tone(t.pnl_pct)), td(t.exit_reason || "—"), num(f.duration(t.duration_ms)));
}

async function loadTrades() {
  const symbol = $("trades-symbol").value;
  const [trades, orders] = await Promise.all([
    api.get(`/api/v1/trades${api.query({ limit: 50, offset: app.tradesOffset, symbol })}`),
    api.get(`/api/v1/orders${api.query({ limit: 20, symbol })}`),
  ]);
  app.tradesTotal = trades.total;
  fill($("trades").tBodies[0], trades.items.map(tradeRow));
  $("trades-empty").hidden = trades.items.length > 0;
  const first = trades.total ? app.tradesOffset + 1 : 0;
  $("trades-page").textContent = `${first}–${app.tradesOffset + trades.items.length} of ${trades.total}`;
  $("trades-prev").disabled = app.tradesOffset === 0;
  $("trades-next").disabled = app.tradesOffset + 50 >= trades.total;
  fill($("orders").tBodies[0], orders.items.map((o) => {
    const prec = app.precision[o.symbol] || {};
    return h("tr", { title: o.events.map((e) => `${f.time(e.ts_ms)} ${e.event} → ${e.status}${
      e.detail ? ": " + e.detail : ""}`).join("\n") },
    td(f.time(o.created_ms)), td(o.symbol), td(o.side, o.side === "buy" ? "pos" : "neg"),
    td(o.intent), td(o.type), td(o.status), num(f.amount(o.amount, prec.amount_precision)),
    num(f.amount(o.filled, prec.amount_precision)), num(f.price(o.avg_price, prec.price_precision)),
    td(o.client_order_id, "id"));
  }));
}

async function loadChart() {
  if (!app.chartSymbol) return;
  const answer = await api.get(`/api/v1/candles${api.query({ symbol: app.chartSymbol, limit: 300 })}`);
  if (answer.symbol !== app.chartSymbol) return; // the choice changed meanwhile
  app.charts.candles ??= new CandleChart($("candle-chart"));
  const prec = app.precision[answer.symbol]?.price_precision;
  const legend = app.charts.candles.update(answer, prec);
  $("chart-title").textContent = `${answer.symbol} · ${answer.timeframe}`;
  fill($("chart-legend"), [
    ...legend.map((l) => h("span", {}, colorKey(l.color), l.name)),
    h("span", { class: "muted" }, `${answer.candles.length} candles, ${(answer.markers || []).length} fills`),
    answer.stop_price !== null && answer.stop_price !== undefined
      ? h("span", {}, `stop ${f.price(answer.stop_price, prec)}`) : null,
  ]);
}

function colorKey(color) {
  const i = h("i");
  i.style.background = color; // CSSOM, which the page's CSP allows
  return i;
}

async function loadPnl() {
  const answer = await api.get(`/api/v1/performance${api.query({ period: app.pnlPeriod, n: 30 })}`);
  app.charts.pnl ??= new PnlChart($("pnl-chart"));
  app.charts.pnl.update(answer.items);
  fill($("pnl-table").tBodies[0], [...answer.items].reverse().map((i) => h("tr", {},
    td(i.label), num(`${f.money(i.pnl_quote, { signed: true })} ${answer.quote}`, f.tone(i.pnl_quote)),
    num(String(i.trades)))));
}

function tradeLine(t, what) {
  if (!t) return `${what}: —`;
  return `${what}: ${t.symbol} ${f.money(t.pnl_quote, { signed: true })} ${app.quote} (${
    f.pct(t.pnl_pct)}), closed ${f.time(t.exit_ms)}`;
}

async function loadBalance() {
  const [balance, profit] = await Promise.all([api.get("/api/v1/balance"), api.get("/api/v1/profit")]);
  const q = ` ${balance.quote}`;
  setText("bal-equity", f.money(balance.equity_quote) + q);
  setText("pf-realised", f.money(profit.realised_quote, { signed: true }) + q, f.tone(profit.realised_quote));
  setText("pf-unrealised", f.money(profit.unrealised_quote, { signed: true }) + q, f.tone(profit.unrealised_quote));
  setText("pf-winrate", profit.win_rate_pct === null ? "—" : f.pct(profit.win_rate_pct, { signed: false }));
  setText("pf-wl", `${profit.trades} trades: ${profit.wins} won, ${profit.losses} lost`);
  fill($("balance").tBodies[0], balance.currencies.map((c) => {
    // the quote is money (cents); a coin at its market's amount precision
    const places = c.currency === balance.quote ? 2
      : app.precision[`${c.currency}/${balance.quote}`]?.amount_precision;
    const show = (v) => (Number.isInteger(places) ? f.decimal(v, places) : f.trimmed(v));
    return h("tr", {}, td(c.currency), num(show(c.free)), num(show(c.used)), num(show(c.total)),
      num(c.value_quote === null ? "—" : f.money(c.value_quote) + q));
  }));
  fill($("by-symbol").tBodies[0], profit.by_symbol.map((s) => h("tr", {},
    td(s.symbol), num(String(s.trades)), num(String(s.wins)),
    num(f.money(s.realised_quote, { signed: true }) + q, f.tone(s.realised_quote)))));
  $("pf-best").textContent = tradeLine(profit.best, "Best");
  $("pf-worst").textContent = tradeLine(profit.worst, "Worst");
}

// the audit's ids and the stream's are not the same count: an event is known by what it says
const eventKey = (e) => `${e.topic}|${e.symbol || ""}|${e.ts_ms}`;

async function loadEvents() {
  if (app.eventsLoaded) return;
  const answer = await api.get(`/api/v1/events${api.query({ limit: 100 })}`);
  const recorded = new Set(answer.items.map(eventKey));
  const live = app.feed.filter((e) => !recorded.has(eventKey(e)));
  app.feed = [...live, ...answer.items].sort((a, b) => b.ts_ms - a.ts_ms).slice(0, FEED_MAX);
  app.eventsLoaded = true;
  renderFeed();
}

async function loadControls() {
  if (app.settings) return;
  const answer = await api.get("/api/v1/config");
  app.settings = answer.settings || {};
  fill($("config").tBodies[0], Object.keys(app.settings).sort().map((k) =>
    h("tr", {}, td(k), td(String(app.settings[k])))));
}

const LOADERS = { overview: loadOverview, trades: loadTrades, chart: loadChart, pnl: loadPnl,
  balance: loadBalance, events: loadEvents, controls: loadControls };

// --- the events feed ---------------------------------------------------------------------------

function summary(payload) {
  if (payload === null || payload === undefined) return "";
  if (typeof payload !== "object") return String(payload);
  const text = Object.entries(payload).map(([k, v]) =>
    `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join(" ");
  return text.length > 400 ? text.slice(0, 400) + "…" : text;
}

function feedItem(e, fresh) {
  return h("li", { class: fresh ? "new" : "", "data-topic": e.topic, "data-id": e.id },
    h("span", { class: "t", text: f.time(e.ts_ms) }),
    h("span", { class: "topic", text: e.topic }),
    h("span", { text: e.symbol || "" }),
    h("span", { class: "p", text: summary(e.payload) }));
}

function visible(e) {
  if (!$("events-routine").checked && ROUTINE.has(e.topic)) return false;
  const q = $("events-filter").value.trim().toLowerCase();
  return !q || e.topic.toLowerCase().includes(q) || (e.symbol || "").toLowerCase().includes(q);
}

function renderFeed() {
  fill($("feed"), app.feed.filter(visible).map((e) => feedItem(e, false)));
}

function onLiveEvent(e) {
  app.feed.unshift(e);
  if (app.feed.length > FEED_MAX) app.feed.length = FEED_MAX;
  if (visible(e)) {
    const list = $("feed");
    list.prepend(feedItem(e, true));
    while (list.children.length > FEED_MAX) list.lastChild.remove();
  }
  if (MOVING.has(e.topic)) refreshSoon();
}

// --- controls ----------------------------------------------------------------------------------

let confirmResolve = null;
function confirmOrder(title, text) {
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  const dialog = $("confirm");
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => { confirmResolve = resolve; });
}

function closeConfirm(ok) {
  $("confirm").close();
  if (confirmResolve) confirmResolve(ok);
  confirmResolve = null;
}

async function control(path, body) {
  try {
    const answer = await api.post(path, body);
    toast(answer.message || (answer.ok ? "done" : "refused"), !answer.ok);
    return answer;
  } catch (e) {
    if (e instanceof api.Unauthorized) { refused(); return null; }
    toast(`${path}: ${e.message}`, true);
    return null;
  } finally {
    refreshSoon();
  }
}

async function forceExit(symbol) {
  const p = app.status?.symbols.find((x) => x.symbol === symbol);
  if (!p || !p.in_position) { toast(`${symbol}: no open position`, true); return; }
  const base = symbol.split("/")[0];
  const ok = await confirmOrder(`Force exit ${symbol}?`,
    `Sell the whole position, ${f.amount(p.amount, p.amount_precision)} ${base}, at market (now ${
      f.price(p.price, p.price_precision)}; unrealised ${f.money(p.unrealised_pnl_quote, { signed: true })} ${app.quote}).`);
  if (!ok) return;
  app.busy.add(symbol);
  for (const b of document.querySelectorAll(`[data-testid="force-exit-${CSS.escape(symbol)}"]`)) b.disabled = true;
  try {
    await control("/api/v1/force-exit", { symbol });
  } finally {
    app.busy.delete(symbol);
  }
}

async function forceEnter() {
  const symbol = $("ctl-enter-symbol").value;
  if (!symbol) return;
  await loadControls().catch(() => {});
  const size = app.settings?.FIXED_AMOUNT;
  const m = app.precision[symbol] || {};
  const ok = await confirmOrder(`Force enter ${symbol}?`,
    `Buy ${size ? f.money(size) + " " + app.quote + " of " : ""}${symbol} at market (now ${
      f.price(m.price, m.price_precision)}), through the risk checks.`);
  if (ok) await control("/api/v1/force-enter", { symbol });
}

function reason() {
  const r = $("ctl-reason").value.trim();
  return r ? { reason: r } : {};
}

const ACTIONS = {
  start: () => control("/api/v1/start"),
  stop: () => control("/api/v1/stop"),
  "stop-entries": () => control("/api/v1/stop-entries", reason()),
  halt: () => control("/api/v1/halt", { reason: "halted from the dashboard", ...reason() }),
  resume: () => control("/api/v1/resume", reason()),
  reload: () => control("/api/v1/reload"),
};

// --- wiring ------------------------------------------------------------------------------------

function wire() {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => { if (!document.hidden && app.timer) refresh(); });
  for (const b of document.querySelectorAll("[data-action]")) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await ACTIONS[b.dataset.action](); } finally { b.disabled = false; }
    });
  }
  $("ctl-enter").addEventListener("click", forceEnter);
  $("confirm-ok").addEventListener("click", () => closeConfirm(true));
  $("confirm-cancel").addEventListener("click", () => closeConfirm(false));
  $("confirm").addEventListener("cancel", () => closeConfirm(false)); // Escape
  $("trades-symbol").addEventListener("change", () => { app.tradesOffset = 0; refresh(); });
  $("trades-prev").addEventListener("click", () => {
    app.tradesOffset = Math.max(0, app.tradesOffset - 50); refresh();
  });
  $("trades-next").addEventListener("click", () => { app.tradesOffset += 50; refresh(); });
  $("chart-symbol").addEventListener("change", (e) => { app.chartSymbol = e.target.value; refresh(); });
  for (const b of document.querySelectorAll("#pnl-period button")) {
    b.addEventListener("click", () => {
      app.pnlPeriod = b.dataset.period;
      for (const o of document.querySelectorAll("#pnl-period button")) o.classList.toggle("on", o === b);
      refresh();
    });
  }
  $("events-routine").addEventListener("change", renderFeed);
  $("events-filter").addEventListener("input", renderFeed);
}

async function boot() {
  wire();
  try {
    const health = await api.health();
    setMode(health.mode);
  } catch {
    setMode(null);
  }
  if (!tokenSet()) {
    $("login").hidden = false;
    $("login-form").hidden = true;
    $("no-token").hidden = false;
    return;
  }
  if (!api.session.token()) { showLogin(); return; }
  try {
    enter(await api.get("/api/v1/status"));
  } catch (e) {
    if (e instanceof api.Unauthorized) refused();
    else showLogin(`Cannot reach the bot's API: ${e.message}`);
  }
}

boot();
