"""report.html: one self-contained page of a backtest, to open from the --out folder.

Everything is inside the file: the vendored TradingView Lightweight Charts (assets/vendor, its
licence beside it), the data as JSON, the style and the script. Nothing is fetched: no CDN, no
font, no network, so the page works offline and from file://.

The price chart carries at most MAX_BARS candles a symbol (k consecutive candles merged into
one, k said under the chart); trades.csv and price.png hold every candle's detail.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.reports.analysis import Group, Report, human_minutes, iso_z, trade_return_pct
from crypto_ai_bot.reports.marks import SymbolMarks, resample

MAX_BARS = 10_000  # a symbol; several share 40,000 (ten pairs: 4,000 each), at least 2,000
MAX_TRADE_ROWS = 5_000
_MAX_EQUITY_POINTS = 5_000
_VENDOR = "assets/vendor/lightweight-charts/lightweight-charts.standalone.production.js"


def vendored_chart_js() -> str:
    return resources.files("crypto_ai_bot").joinpath(_VENDOR).read_text(encoding="utf-8")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _groups(title: str, groups: list[Group]) -> str:
    rows = [(g.key, g.trades, f"{g.win_rate_pct:.1f}", f"{g.pnl_quote:,.2f}",
             f"{g.fees_quote:,.2f}", f"{g.avg_return_pct:.3f}", human_minutes(g.avg_duration_min),
             f"{g.best_pct:.2f}", f"{g.worst_pct:.2f}") for g in groups]
    return f"<h2>{html.escape(title)}</h2>" + _table(
        (title.split()[-1], "trades", "win %", "PnL", "fees", "avg return %", "avg duration",
         "best %", "worst %"), rows)



def _chart_data(panels: list[SymbolMarks], result: BacktestResult,
                report: Report) -> dict[str, Any]:
    symbols = []
    for m in panels:
        r = resample(m, min(MAX_BARS, max(2_000, 40_000 // len(panels))))
        secs = (r["ts"] // 1000).tolist()
        bars = [{"time": t, "open": o, "high": h, "low": lo, "close": c} for t, o, h, lo, c in
                zip(secs, r["open"].tolist(), r["high"].tolist(), r["low"].tolist(),
                    r["close"].tolist(), strict=True)]
        stop = [{"time": t, "value": v} if np.isfinite(v) else {"time": t}
                for t, v in zip(secs, r["stop"].tolist(), strict=True)]
        ts = r["ts"]

        def snap(ms: int, ts: Any = ts) -> int:
            i = max(int(np.searchsorted(ts, ms, side="right")) - 1, 0)
            return int(ts[i]) // 1000

        marks: list[dict[str, Any]] = []
        for t in m.trades:
            marks.append({"time": snap(t.entry_time_ms), "position": "belowBar",
                          "color": "#2ca02c", "shape": "arrowUp"})
            marks.append({"time": snap(t.exit_time_ms), "position": "aboveBar",
                          "color": "#d62728" if t.pnl_quote <= 0 else "#1f77b4",
                          "shape": "arrowDown"})
        marks.sort(key=lambda x: x["time"])
        symbols.append({"symbol": m.symbol, "k": r["k"], "bars": bars, "stop": stop,
                        "markers": marks})
    stride = max(1, len(result.equity) // _MAX_EQUITY_POINTS)
    eq_t = [t // 1000 for t in result.equity_ts_ms[::stride]]
    equity = [{"time": t, "value": round(v, 2)} for t, v in zip(
        eq_t, result.equity[::stride], strict=True)]
    hold = [{"time": t, "value": round(v, 2)} for t, v in zip(
        eq_t, report.hold_curve[::stride], strict=True)]
    return {"symbols": symbols, "equity": equity, "hold": hold, "hold_label": report.hold_label}


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1300px}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.chart{height:440px;width:100%}.small{color:#666;font-size:12px}
.neg{color:#c00}.grid td{min-width:4em}
"""

_APP = """
(function(){
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const LC = window.LightweightCharts;
  const opts = {height: 440, timeScale: {timeVisible: true, secondsVisible: false,
                                        minBarSpacing: 0.01},  // all of it fits
                localization: {timeFormatter: t => new Date(t * 1000).toISOString()
                  .slice(0, 16).replace('T', ' ')}};
  // sized from their boxes now (autoSize would size them later, after fitContent)
  function chartIn(id) {
    const el = document.getElementById(id);
    const chart = LC.createChart(el, Object.assign({width: el.clientWidth}, opts));
    window.addEventListener('resize', () => chart.applyOptions({width: el.clientWidth}));
    return chart;
  }
  const price = chartIn('price');
  const candles = price.addSeries(LC.CandlestickSeries, {});
  const stop = price.addSeries(LC.LineSeries, {color: '#d62728', lineWidth: 1,
    lineStyle: 2, priceLineVisible: false, lastValueVisible: false, title: 'stop'});
  const markers = LC.createSeriesMarkers(candles, []);
  const pick = document.getElementById('symbol');
  function show(i) {
    const s = data.symbols[i];
    candles.setData(s.bars); stop.setData(s.stop); markers.setMarkers(s.markers);
    // the last 300 bars, where the marks can be read: scroll or zoom out for the rest
    price.timeScale().setVisibleLogicalRange({from: s.bars.length - 300, to: s.bars.length});
    document.getElementById('merged').textContent = s.k > 1 ?
      ('each bar merges ' + s.k + ' candles of the run') : 'one bar a candle of the run';
  }
  data.symbols.forEach((s, i) => pick.add(new Option(s.symbol, i)));
  pick.addEventListener('change', () => show(Number(pick.value)));
  show(0);
  const eq = chartIn('equity');
  eq.addSeries(LC.LineSeries, {color: '#1f77b4', lineWidth: 2, title: 'strategy'})
    .setData(data.equity);
  eq.addSeries(LC.LineSeries, {color: '#ff7f0e', lineWidth: 1, title: 'buy and hold'})
    .setData(data.hold);
  eq.timeScale().fitContent();
  document.body.dataset.rendered = 'ok';
})();
"""


def write_report_html(path: Path, result: BacktestResult, report: Report,
                      panels: list[SymbolMarks], summary_rows: list[tuple[str, str]]) -> None:
    """summary_rows: the terminal summary's (metric, value) rows, shown as they read there."""
    settings = report.settings
    title = (f"{settings['strategy']} {', '.join(settings['symbols'])} {settings['timeframe']}")
    data = json.dumps(_chart_data(panels, result, report), separators=(",", ":"))
    data = data.replace("</", "<\\/")  # nothing in the data may close its script element
    setting_rows = [(k, json.dumps(v) if isinstance(v, dict | list) else v)
                    for k, v in settings.items()]
    monthly = _table(("month", "return %", "equity"),
                     [(p.label, f"{p.return_pct:+.2f}", f"{p.end_equity:,.2f}")
                      for p in report.monthly])
    weekly = _table(("week", "return %", "equity"),
                    [(p.label, f"{p.return_pct:+.2f}", f"{p.end_equity:,.2f}")
                     for p in report.weekly])
    trades = sorted(result.trades, key=lambda t: (t.entry_time_ms, t.symbol))
    shown = trades[:MAX_TRADE_ROWS]
    trade_rows = [(t.symbol, iso_z(t.entry_time_ms), iso_z(t.exit_time_ms), t.entry_price,
                   t.exit_price, t.amount, f"{t.pnl_quote:,.4f}", f"{t.fees_quote:,.4f}",
                   f"{trade_return_pct(t):+.3f}", str(t.exit_reason)) for t in shown]
    more = (f'<p class="small">the first {MAX_TRADE_ROWS:,} of {len(trades):,} trades;'
            " trades.csv holds them all</p>" if len(trades) > MAX_TRADE_ROWS else "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>backtest: {html.escape(title)}</title>
<style>{_STYLE}</style></head>
<body data-rendered="">
<h1>backtest: {html.escape(title)}</h1>
<h2>settings</h2>{_table(("setting", "value"), setting_rows)}
<h2>summary</h2>{_table(("metric", "value"), summary_rows)}
<h2>price, entries, exits and the stop line</h2>
<label>symbol <select id="symbol"></select></label> <span class="small" id="merged"></span>
<p class="small">entries: green arrows up; exits: arrows down, blue when the trade won, red
when it lost; the stop line: dashed red. Scroll and zoom with the mouse.</p>
<div id="price" class="chart"></div>
<h2>equity</h2>
<p class="small">strategy (blue) against {html.escape(report.hold_label)} (orange)</p>
<div id="equity" class="chart"></div>
{_groups("per symbol", report.per_symbol)}
{_groups("per exit reason", report.per_exit_reason)}
<h2>monthly returns</h2>{monthly}
<details><summary>weekly returns</summary>{weekly}</details>
<details><summary>trades ({len(trades):,})</summary>{more}{_table(
        ("symbol", "entry", "exit", "entry price", "exit price", "amount", "PnL", "fees",
         "return %", "exit reason"), trade_rows)}</details>
<p class="small">Charts: TradingView Lightweight Charts™ 5.2.1, Copyright (c) 2026 TradingView,
Inc., Apache License 2.0 (vendored in crypto_ai_bot/assets/vendor/lightweight-charts).</p>
<script>{vendored_chart_js()}</script>
<script type="application/json" id="report-data">{data}</script>
<script>{_APP}</script>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
