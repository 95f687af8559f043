// The charts, drawn with the vendored TradingView Lightweight Charts (window.LightweightCharts,
// loaded by index.html from /vendor). Chart values are floats: they place pixels only, every
// number shown as text comes from format.js.

const LWC = () => window.LightweightCharts;
const UP = "#26a69a";
const DOWN = "#ef5350";
const PALETTE = ["#f0b429", "#4c8dff", "#c678dd", "#56b6c2", "#e5c07b", "#98c379"];

function base(el, extra = {}) {
  return LWC().createChart(el, {
    autoSize: true,
    layout: {
      background: { type: "solid", color: "#161c24" }, textColor: "#aab4c0",
      attributionLogo: false, // its inline <style> breaks the CSP; the page credits TradingView
    },
    grid: { vertLines: { color: "#1f2733" }, horzLines: { color: "#1f2733" } },
    rightPriceScale: { borderColor: "#263040" },
    timeScale: { borderColor: "#263040", timeVisible: true, secondsVisible: false },
    crosshair: { mode: 0 },
    ...extra,
  });
}

const sec = (ms) => Math.floor(ms / 1000);

/** Points sorted and one per second, as the library wants them. */
function series(points, key) {
  const out = [];
  for (const p of [...points].sort((a, b) => a.ts_ms - b.ts_ms)) {
    const v = p[key];
    if (v === null || v === undefined) continue;
    const item = { time: sec(p.ts_ms), value: Number(v) };
    if (!Number.isFinite(item.value)) continue;
    if (out.length && out[out.length - 1].time === item.time) out[out.length - 1] = item;
    else out.push(item);
  }
  return out;
}

function priceFormat(precision) {
  const p = Number.isInteger(precision) ? Math.max(0, Math.min(12, precision)) : 2;
  return { type: "price", precision: p, minMove: 10 ** -p };
}

export class EquityChart {
  constructor(el) {
    // a paper session's points can be seconds apart
    this.chart = base(el, { timeScale: { borderColor: "#263040", timeVisible: true, secondsVisible: true } });
    this.line = this.chart.addSeries(LWC().AreaSeries, {
      lineColor: "#4c8dff", topColor: "rgba(76,141,255,.35)", bottomColor: "rgba(76,141,255,0)",
      lineWidth: 2, priceFormat: priceFormat(2),
    });
    this.count = -1;
  }

  /** Returns how many points it shows. */
  update(points) {
    const data = series(points, "equity_quote");
    this.line.setData(data);
    if (data.length !== this.count) this.chart.timeScale().fitContent();
    this.count = data.length;
    return data.length;
  }
}

export class PnlChart {
  constructor(el) {
    this.chart = base(el, { timeScale: { borderColor: "#263040", timeVisible: false } });
    this.bars = this.chart.addSeries(LWC().HistogramSeries, { priceFormat: priceFormat(2) });
  }

  update(items) {
    const data = series(items.map((i) => ({ ts_ms: i.start_ms, v: i.pnl_quote })), "v")
      .map((d) => ({ ...d, color: d.value < 0 ? DOWN : UP }));
    this.bars.setData(data);
    this.chart.timeScale().fitContent();
  }
}

function median(values) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export class CandleChart {
  constructor(el) {
    this.chart = base(el);
    this.candles = this.chart.addSeries(LWC().CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
    });
    this.markers = LWC().createSeriesMarkers(this.candles, []);
    this.lines = new Map(); // indicator name -> series
    this.stopLine = null;
    this.key = "";
  }

  /** Draw the answer of /api/v1/candles; returns the legend entries [{name, color}]. */
  update(answer, precision) {
    const key = `${answer.symbol}|${answer.timeframe}`;
    const fmt = priceFormat(precision);
    this.candles.applyOptions({ priceFormat: fmt });
    const bars = [];
    for (const c of [...answer.candles].sort((a, b) => a.ts_ms - b.ts_ms)) {
      const bar = { time: sec(c.ts_ms), open: Number(c.open), high: Number(c.high),
                    low: Number(c.low), close: Number(c.close) };
      if (bars.length && bars[bars.length - 1].time === bar.time) bars[bars.length - 1] = bar;
      else bars.push(bar);
    }
    this.candles.setData(bars);
    const closes = bars.map((b) => b.close);
    const mid = median(closes);
    const legend = [];
    const names = Object.keys(answer.indicators || {}).sort();
    for (const [name, s] of this.lines) {
      if (!names.includes(name)) { this.chart.removeSeries(s); this.lines.delete(name); }
    }
    names.forEach((name, i) => {
      const data = series(answer.indicators[name], "value");
      const color = PALETTE[i % PALETTE.length];
      // an oscillator (RSI, a z-score) would squash the candles: it gets a pane of its own
      const overlay = !data.length || Math.abs(median(data.map((d) => d.value)) / mid - 1) < 0.5;
      let s = this.lines.get(name);
      if (!s) {
        s = this.chart.addSeries(LWC().LineSeries, {
          color, lineWidth: 2, priceLineVisible: false, lastValueVisible: false,
          priceFormat: overlay ? fmt : priceFormat(2), title: name,
        }, overlay ? 0 : 1);
        this.lines.set(name, s);
      }
      s.setData(data);
      legend.push({ name, color });
    });
    this.markers.setMarkers(this._markers(answer.markers || [], bars));
    if (this.stopLine) { this.candles.removePriceLine(this.stopLine); this.stopLine = null; }
    if (answer.stop_price !== null && answer.stop_price !== undefined) {
      this.stopLine = this.candles.createPriceLine({
        price: Number(answer.stop_price), color: DOWN, lineWidth: 1, lineStyle: 2,
        axisLabelVisible: true, title: "stop",
      });
      legend.push({ name: "stop", color: DOWN });
    }
    if (key !== this.key) this.chart.timeScale().fitContent();
    this.key = key;
    return legend;
  }

  /** Each marker at the candle it fell in (the library places markers on bars). */
  _markers(markers, bars) {
    if (!bars.length) return [];
    const times = bars.map((b) => b.time);
    const out = [];
    for (const m of markers) {
      const t = sec(m.ts_ms);
      if (t < times[0]) continue;
      let lo = 0; let hi = times.length - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (times[mid] <= t) lo = mid; else hi = mid - 1; }
      const buy = m.side === "buy";
      out.push({
        time: times[lo], position: buy ? "belowBar" : "aboveBar", color: buy ? UP : DOWN,
        shape: buy ? "arrowUp" : "arrowDown",
        // an entry says "buy"; an exit says why it sold (signal, trailing_stop, force_exit ...)
        text: buy ? "buy" : (m.kind || "sell"),
      });
    }
    return out.sort((a, b) => a.time - b.time);
  }
}
