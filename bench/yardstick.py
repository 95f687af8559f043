"""The yardstick: the reference backtest as a bare Python loop, no objects, no bot code.

    python bench/yardstick.py                        # BTC/USDT 5m, prints its trade count
    python bench/yardstick.py --data F1 --data F2 …  # several pairs on one quote balance
    python bench/yardstick.py --out DIR              # also writes DIR/trades.csv

The reference conditions of bench/backtest_speed.py (EMA 12/26 cross, a 2 % hard stop, 0.1 %
fee on every fill, 1,000 quote a trade) computed the plainest way: the feather file read with
pyarrow, the EMAs in floats, every fill in Decimal exactly as the paper venue and the position
accounting make it (a buy sized by cost, its fee in base; a sell's fee in quote; what rounding
leaves behind carried to the next trade), the fill conventions of DESIGN §12 (a decision taken
at a close fills at the next open; a stop fills at its level, or at the open below it). Its
trades.csv is the bot's to the byte, which is how it proves it does the same work.

It travels between machines: bench/backtest_speed.py times it as a whole process beside the
bot's own run and prints the bot's time as a multiple of it. Nothing here is imported by the bot
and nothing of the bot is imported here: it is what the work costs in Python with nothing else.
"""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ohlcv" / "binance"
STEP_MS = 300_000  # 5m
FAST, SLOW = 12, 26
PRICE_STEP = Decimal("0.01")
# the stake floored to the price step, as the executor sends it (Decimal keeps the exponent
# the arithmetic gives, and trades.csv prints it: 40 and 1.25E+3 as the bot writes them)
STAKE = (Decimal(1000) / PRICE_STEP).to_integral_value(rounding=ROUND_DOWN) * PRICE_STEP
FEE = Decimal("0.1") / 100
HARD = 1 - Decimal(2) / 100  # the stop: 2 % below the entry's fill price
AMOUNT_STEP = Decimal("0.00000001")  # what the paper venue's markets allow
ZERO = Decimal(0)

Trade = tuple[str, int, int, Decimal, Decimal, Decimal, Decimal, str]


def dec(x: float) -> Decimal:
    """A float price as the exchange wrote it: the shortest decimal that reads back as x."""
    text = repr(x)
    return Decimal(text[:-2] if text.endswith(".0") else text)


def floor_amount(x: Decimal) -> Decimal:
    return (x / AMOUNT_STEP).to_integral_value(rounding=ROUND_DOWN) * AMOUNT_STEP


def run_pair(symbol: str, path: Path, cash: list[Decimal]) -> list[tuple[int, Trade]]:
    """One pair's trades, each with the time step it closed at (for merging the pairs)."""
    table = feather.read_table(path, columns=["date", "open", "low", "close"])
    ts = table.column("date").cast(pa.timestamp("ms")).cast(pa.int64()).to_pylist()
    opens, lows, closes = (table.column(n).to_pylist() for n in ("open", "low", "close"))
    a_fast, a_slow = 2.0 / (FAST + 1), 2.0 / (SLOW + 1)
    fast = slow = closes[0]  # seeded with the first close (the first update moves neither)
    prev_diff = 0.0
    warm = SLOW - 1  # the first candle that may signal: the slow EMA's period has passed
    pending = ""  # "buy" or "sell", decided at a close, acted on at the next open
    # the position, as the accounting keeps it: dust stays in base and cost basis
    base = cost_basis = entry = realized = pnl_before = entry_amount = ZERO
    holding = False
    stop = ZERO
    stop_f = -1.0
    entry_ts = 0
    trades: list[tuple[int, Trade]] = []

    def buy(i: int, price: Decimal) -> None:
        nonlocal base, cost_basis, entry, holding, stop, stop_f, entry_ts, entry_amount
        nonlocal pnl_before
        amount = floor_amount(STAKE / price)
        cost = amount * price
        if cost > cash[0]:
            return
        cash[0] -= cost
        base += amount - amount * FEE
        cost_basis += cost
        entry, entry_ts, entry_amount, pnl_before = price, ts[i], amount, realized
        holding = True
        stop = entry * HARD
        stop_f = float(stop)

    def sell(exit_ts: int, price: Decimal, reason: str) -> None:
        nonlocal base, cost_basis, realized, holding, stop_f
        amount = floor_amount(base)
        proceeds = amount * price
        fee = proceeds * FEE
        cash[0] += proceeds - fee
        share = min(amount / base, Decimal(1))
        released = cost_basis * share
        realized += proceeds - fee - released
        base = max(base - amount, ZERO)
        cost_basis -= released
        if base <= 0:
            cost_basis = ZERO
        holding = False
        stop_f = -1.0
        trades.append((exit_ts, (symbol, entry_ts, exit_ts, entry, price, entry_amount,
                                 realized - pnl_before, reason)))

    for i, (o, low, close) in enumerate(zip(opens, lows, closes, strict=True)):
        if pending:
            if (pending == "sell") is holding:  # a sell while flat, a buy while held: moot
                if holding:
                    sell(ts[i], dec(o), "signal")
                else:
                    buy(i, dec(o))
            pending = ""
        if low <= stop_f and holding and dec(low) <= stop:
            d_open = dec(o)
            sell(ts[i], d_open if d_open < stop else stop, "hard_stop")
        fast += a_fast * (close - fast)
        slow += a_slow * (close - slow)
        diff = fast - slow
        if i >= warm:
            if prev_diff <= 0 < diff:
                pending = "buy"
            elif prev_diff >= 0 > diff:
                pending = "sell"
        prev_diff = diff
    if holding:  # what is still held is sold at the last close, after the last candle
        sell(ts[-1] + STEP_MS, dec(closes[-1]), "end_of_data")
    return trades


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", action="append", default=[], help="5m feather file (repeatable)")
    p.add_argument("--out", help="directory for trades.csv")
    args = p.parse_args()
    files = [Path(f) for f in args.data] or [DATA / "BTC_USDT-5m.feather"]
    cash = [Decimal(10_000 * len(files))]  # one quote balance for all pairs, as the bot's
    merged: list[tuple[int, int, int, Trade]] = []
    for k, f in enumerate(files):
        base, quote = f.name.split("-")[0].split("_")
        for at, trade in run_pair(f"{base}/{quote}", f, cash):
            # the bot closes trades in time order, pairs in the order given at equal times,
            # and what is left at the end pair by pair
            last = trade[7] == "end_of_data"
            merged.append((1 if last else 0, 0 if last else at, k, trade))
    merged.sort(key=lambda m: (m[0], m[1], m[2]))
    trades = [m[3] for m in merged]
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "trades.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(("symbol", "entry_time_ms", "exit_time_ms", "entry_price", "exit_price",
                        "amount", "pnl_quote", "exit_reason"))
            w.writerows(trades)
    signal = sum(1 for t in trades if t[7] == "signal")
    print(f"yardstick: pairs={len(files)} trades={len(trades)} signal_exits={signal}"
          f" final_quote={cash[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
