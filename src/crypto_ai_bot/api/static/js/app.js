// The dashboard: sign-in, the mode, the page's clock (refresh and the live stream), the
// status shown on every tab, and the controls; each tab's loader is in pages.js.

import * as api from "./api.js";
import * as f from "./format.js";
import { $, fill, fillKeyed, h, num, setText, td, toast } from "./dom.js";
import { FEED_MAX, LOADERS, feedItem, loadControls, renderFeed, visible } from "./pages.js";
import { PAGES, app } from "./state.js";

const REFRESH_MS = 2000;
// what changes the numbers on the pages: a refresh follows at once
const MOVING = new Set(["order.filled", "order.closed", "order.settled", "position.changed",
  "exit.triggered", "trading_state.changed", "fill.recorded", "dms.tripped"]);

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
