// The page's state, shared by its modules.

export const PAGES = ["overview", "trades", "chart", "pnl", "balance", "events", "controls"];

export const app = {
  status: null, page: "overview", quote: "USDT", symbols: [], precision: {},
  stream: null, timer: null, refreshing: false, again: false, soon: null,
  tradesOffset: 0, tradesTotal: 0, pnlPeriod: "day", chartSymbol: "",
  charts: {}, settings: null, feed: [], eventsLoaded: false, busy: new Set(),
};
