// The pages' loaders (one per tab) and the events feed: what each tab shows, from /api/v1.

import * as api from "./api.js";
import * as f from "./format.js";
import { CandleChart, EquityChart, PnlChart } from "./charts.js";
import { $, fill, h, num, setText, td } from "./dom.js";
import { app } from "./state.js";

const ROUTINE = new Set(["stops.checked", "position.checked"]);
export const FEED_MAX = 300;

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

export async function loadControls() {
  if (app.settings) return;
  const answer = await api.get("/api/v1/config");
  app.settings = answer.settings || {};
  fill($("config").tBodies[0], Object.keys(app.settings).sort().map((k) =>
    h("tr", {}, td(k), td(String(app.settings[k])))));
}


export const LOADERS = { overview: loadOverview, trades: loadTrades, chart: loadChart, pnl: loadPnl,
  balance: loadBalance, events: loadEvents, controls: loadControls };

// --- the events feed ---------------------------------------------------------------------------

function summary(payload) {
  if (payload === null || payload === undefined) return "";
  if (typeof payload !== "object") return String(payload);
  const text = Object.entries(payload).map(([k, v]) =>
    `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join(" ");
  return text.length > 400 ? text.slice(0, 400) + "…" : text;
}

export function feedItem(e, fresh) {
  return h("li", { class: fresh ? "new" : "", "data-topic": e.topic, "data-id": e.id },
    h("span", { class: "t", text: f.time(e.ts_ms) }),
    h("span", { class: "topic", text: e.topic }),
    h("span", { text: e.symbol || "" }),
    h("span", { class: "p", text: summary(e.payload) }));
}

export function visible(e) {
  if (!$("events-routine").checked && ROUTINE.has(e.topic)) return false;
  const q = $("events-filter").value.trim().toLowerCase();
  return !q || e.topic.toLowerCase().includes(q) || (e.symbol || "").toLowerCase().includes(q);
}

export function renderFeed() {
  fill($("feed"), app.feed.filter(visible).map((e) => feedItem(e, false)));
}
