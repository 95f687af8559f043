"""Signatures, fault settings, rate limiting, configuration parsing and price files."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from cab_exchange_sim.auth import sign, verify
from cab_exchange_sim.catalog import make_pair, pair_id
from cab_exchange_sim.config import parse_balances, parse_price_path, parse_symbols
from cab_exchange_sim.faults import RateLimiter, SimSettings
from cab_exchange_sim.models import GateError, decimals, fmt
from cab_exchange_sim.prices import FilePath, SyntheticWalk, load_candle_file

D = Decimal


def test_decimal_helpers() -> None:
    assert [fmt(D(x)) for x in ("0.000", "1E+2", "0.00010", "12.5")] == ["0", "100", "0.0001",
                                                                         "12.5"]
    assert [decimals(D(x)) for x in ("100", "1.50", "0.000001")] == [0, 1, 6]


def test_signature_checks() -> None:
    now = 1_700_000_000
    ts = str(now)
    good = sign("s", "GET", "/api/v4/spot/orders", "currency_pair=BTC_USDT&status=open", b"", ts)
    headers = {"key": "k", "timestamp": ts, "sign": good}
    verify(headers, "GET", "/api/v4/spot/orders", "currency_pair=BTC_USDT&status=open", b"",
           "k", "s", now)
    encoded = sign("s", "GET", "/api/v4/x", "text=t-a b", b"", ts)
    verify({**headers, "sign": encoded}, "GET", "/api/v4/x", "text=t-a+b", b"", "k", "s", now)
    cases = [
        ({**headers, "sign": "0" * 128}, now, "INVALID_SIGNATURE"),
        ({**headers, "key": "other"}, now, "INVALID_KEY"),
        (headers, now + 61, "REQUEST_EXPIRED"),
        ({"key": "k"}, now, "MISSING_REQUIRED_HEADER"),
    ]
    for hdrs, at, label in cases:
        with pytest.raises(GateError) as info:
            verify(hdrs, "GET", "/api/v4/spot/orders", "currency_pair=BTC_USDT&status=open",
                   b"", "k", "s", at)
        assert info.value.label == label
    body = b'{"a":"1"}'
    signed = sign("s", "POST", "/api/v4/spot/orders", "", body, ts)
    with pytest.raises(GateError, match="INVALID_SIGNATURE"):
        verify({**headers, "sign": signed}, "POST", "/api/v4/spot/orders", "", b'{"a":"2"}',
               "k", "s", now)


def test_settings_update_and_clear() -> None:
    settings = SimSettings()
    settings.update({"latency_ms": 5, "partial_fill_ratio": "0.25", "fee_rate": "0.001",
                     "rate_limit_next": 2, "seed": 3})
    assert settings.partial_fill_ratio == D("0.25") and settings.fee_rate == D("0.001")
    assert settings.take("rate_limit_next") and settings.take("rate_limit_next")
    assert not settings.take("rate_limit_next")
    for bad in ({"error_rate": "2"}, {"partial_fill_ratio": "0"}, {"latency_ms": -1},
                {"nope": 1}, {"error_when": "never"}, {"lose_next_orders": "x"}):
        with pytest.raises(ValueError):
            settings.update(bad)
    settings.update({"clear": True})
    assert settings.to_json()["fee_rate"] == "0.002" and settings.latency_ms == 0
    settings.update({"error_rate": "1"})
    assert settings.roll_error()


def test_rate_limiter_window() -> None:
    limiter = RateLimiter()
    results = [limiter.hit("k", 3, 1000, t).allowed for t in (0, 10, 20, 30)]
    assert results == [True, True, True, False]
    assert limiter.hit("k", 3, 1000, 1001).allowed  # the first hit left the window
    window = limiter.hit("other", 10, 1000, 5)
    assert (window.limit, window.remaining, window.reset_ms) == (10, 9, 1005)


def test_config_parsing() -> None:
    assert parse_balances("USDT=10000, btc=0.5") == {"USDT": D("10000"), "BTC": D("0.5")}
    assert parse_symbols("BTC/USDT,ETH/USDT") == ("BTC/USDT", "ETH/USDT")
    assert parse_price_path("synthetic", ("BTC/USDT",)) == {}
    assert parse_price_path("a.csv", ("BTC/USDT", "ETH/USDT")) == {"BTC_USDT": Path("a.csv")}
    assert parse_price_path("ETH/USDT=e.csv", ("BTC/USDT", "ETH/USDT")) == {
        "ETH_USDT": Path("e.csv")}
    for bad in ("USDT", "USDT=x", "USDT=-1", "=5"):
        with pytest.raises(ValueError):
            parse_balances(bad)
    for bad_symbols in ("BTCUSDT", "", "BTC/US/DT"):
        with pytest.raises(ValueError):
            parse_symbols(bad_symbols)
    with pytest.raises(ValueError):
        parse_price_path("SOL/USDT=s.csv", ("BTC/USDT",))
    assert pair_id("btc/usdt") == "BTC_USDT"


def test_pairs_for_unknown_assets() -> None:
    sol = make_pair("SOL/USDT")
    assert (sol.precision, sol.amount_precision, sol.min_quote) == (3, 4, D("3"))
    odd = make_pair("ZZZ/USDT")
    assert D(1) <= odd.initial_price <= D(100)
    assert make_pair("ETH/BTC").initial_price == D("0.05")


def test_price_files_and_walks(tmp_path: Path) -> None:
    plain = tmp_path / "p.csv"
    plain.write_text("1,10,12,9,11,5\n2,11,11.5,10.5,10.8,3\n")
    rows = load_candle_file(plain)
    path = FilePath(rows)
    assert path.first() == D("10")
    assert [path.next(D(0)) for _ in range(8)] == [D(x) for x in
                                                   ("9", "12", "11", "11", "11.5", "10.5",
                                                    "10.8", "10.8")]
    zipped = tmp_path / "p.csv.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_candle_file(zipped) == rows
    for text in ("1,2,3\n", "1,a,2,3,4,5\n", "1,0,1,1,1,1\n", ""):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(ValueError):
            load_candle_file(bad)
    with pytest.raises(ValueError, match="not found"):
        load_candle_file(tmp_path / "missing.csv")
    walk_a, walk_b = SyntheticWalk("k", D("100")), SyntheticWalk("k", D("100"))
    price_a = price_b = D("100")
    for _ in range(100):
        price_a, price_b = walk_a.next(price_a), walk_b.next(price_b)
    assert price_a == price_b and D(80) < price_a < D(120)
