"""Vectorised strategies in freqtrade's shape: `from crypto_ai_bot.strategy import IStrategy`.

    class EmaCross(IStrategy):
        timeframe = "5m"
        startup_candle_count = 400
        stoploss = -0.02
        minimal_roi = {"0": 10}

        def populate_indicators(self, dataframe, metadata): ...   # add columns
        def populate_entry_trend(self, dataframe, metadata): ...  # set enter_long = 1
        def populate_exit_trend(self, dataframe, metadata): ...   # set exit_long = 1

The DataFrame has freqtrade's columns (date as UTC datetimes, open, high, low, close, volume).
A candle whose enter_long is 1 (and exit_long not) is a BUY at its close, one whose exit_long
is 1 (and enter_long not; with use_exit_signal) a SELL, as freqtrade reads them; the pipeline
acts on them as on any strategy's. The first startup_candle_count candles only warm up.

In a backtest the engine hands the whole series over once (`precompute`), and each candle's
signal is looked up; live and paper keep the last startup_candle_count + 1 candles and compute
the frame again at every close, as freqtrade does. `cab-strategy check` tells whether both
give the same signals.

stoploss, trailing_stop, trailing_stop_positive, trailing_stop_positive_offset,
trailing_only_offset_is_reached and minimal_roi become the run's exits (ExitsConfig: the hard
stop, the trailing stop and the take-profit by trade age), timeframe the timeframe it must run
on. pandas is imported only when such a strategy computes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.application.strategies.base import Parameterised
from crypto_ai_bot.application.strategies.params import FloatParam, IntParam
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP

if TYPE_CHECKING:
    from pandas import DataFrame

__all__ = ["DecimalParameter", "IStrategy", "IntParameter", "VectorStrategy", "vector_entry"]

COLUMNS = ("date", "open", "high", "low", "close", "volume")
_HOLD = Signal(Action.HOLD, "no signal")
_BUY = Signal(Action.BUY, "enter_long")
_SELL = Signal(Action.SELL, "exit_long")


class IStrategy(Parameterised):
    """Base of a vectorised strategy (freqtrade's IStrategy, long only)."""

    INTERFACE_VERSION: int = 3
    timeframe: str = ""  # "5m": refused on other candles; "" runs on any
    startup_candle_count: int = 0
    stoploss: float | None = None  # -0.10 = a 10 % stop; None: the configured one
    minimal_roi: Mapping[str, float] = {}  # minutes -> ratio, as freqtrade
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_exit_signal: bool = True
    can_short: bool = False
    process_only_new_candles: bool = True

    def __init__(self, config: Mapping[str, Any] | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.config = dict(config or {})

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe


class _Value:
    """What freqtrade's parameters read as on an instance: `self.buy_fast.value`."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class IntParameter(IntParam):
    """freqtrade's IntParameter(low, high, default=..., space=...): `self.x.value` in use."""

    def __init__(self, low: int, high: int, *, default: int, space: str | None = None,
                 optimize: bool = True, load: bool = True, **_: Any) -> None:
        super().__init__(default, low=low, high=high)
        self.space = space

    def __get__(self, instance: object | None, owner: type) -> Any:
        return self if instance is None else _Value(instance.__dict__["_params"][self.name])


class DecimalParameter(FloatParam):
    """freqtrade's DecimalParameter / RealParameter(low, high, default=...)."""

    def __init__(self, low: float, high: float, *, default: float, decimals: int = 3,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **_: Any) -> None:
        super().__init__(float(default), low=float(low), high=float(high))
        self.space = space

    def __get__(self, instance: object | None, owner: type) -> Any:
        return self if instance is None else _Value(instance.__dict__["_params"][self.name])


def frame(bars: Sequence[Bar]) -> DataFrame:
    """freqtrade's candle frame of `bars`: date (UTC), open, high, low, close, volume."""
    import pandas as pd

    df = pd.DataFrame.from_records(list(bars), columns=["ts_ms", *COLUMNS[1:]])
    df.insert(0, "date", pd.to_datetime(df.pop("ts_ms"), unit="ms", utc=True))
    return df


class VectorStrategy:
    """An IStrategy as the pipeline's Strategy: a signal a closed candle."""

    def __init__(self, strategy: IStrategy, pair: str = "") -> None:
        self.inner = strategy
        self.name = type(strategy).__name__
        self.startup = max(0, int(strategy.startup_candle_count))
        self.warmup_candles = self.startup
        self.metadata = {"pair": pair, "timeframe": strategy.timeframe}
        self._window: deque[Bar] = deque(maxlen=self.startup + 1)
        self._seen = 0
        self._stamps: list[int] = []
        self._signals: list[Signal] = []
        self._at = 0
        # freqtrade's interface 2 (populate_buy_trend / populate_sell_trend, buy / sell
        # columns) where the class has those and not the interface 3 methods
        kind = type(strategy)
        self._entry = getattr(strategy, "populate_buy_trend", strategy.populate_entry_trend) \
            if kind.populate_entry_trend is IStrategy.populate_entry_trend \
            else strategy.populate_entry_trend
        self._exit = getattr(strategy, "populate_sell_trend", strategy.populate_exit_trend) \
            if kind.populate_exit_trend is IStrategy.populate_exit_trend \
            else strategy.populate_exit_trend

    def analyse(self, bars: Sequence[Bar]) -> DataFrame:
        """The frame after populate_indicators, populate_entry_trend, populate_exit_trend."""
        s, meta = self.inner, dict(self.metadata)
        df = s.populate_indicators(frame(bars), meta)
        df = self._entry(df, meta)
        return self._exit(df, meta)

    def signals(self, df: DataFrame) -> list[Signal]:
        """Each row's signal; the first startup_candle_count rows warm up."""
        import numpy as np

        n = len(df)
        enter = _flags(df, "enter_long", "buy", n)
        leave = _flags(df, "exit_long", "sell", n) if self.inner.use_exit_signal else (
            np.zeros(n, dtype=bool))
        buys, sells = enter & ~leave, leave & ~enter
        out = [_HOLD] * n
        tags = df["enter_tag"].tolist() if "enter_tag" in df.columns else None
        for i in np.flatnonzero(buys).tolist():
            tag = tags[i] if tags is not None else None
            out[i] = Signal(Action.BUY, f"enter_long ({tag})") if isinstance(tag, str) and tag \
                else _BUY
        exit_tags = df["exit_tag"].tolist() if "exit_tag" in df.columns else None
        for i in np.flatnonzero(sells).tolist():
            tag = exit_tags[i] if exit_tags is not None else None
            out[i] = Signal(Action.SELL, f"exit_long ({tag})") if isinstance(tag, str) and tag \
                else _SELL
        out[: self.startup] = [HOLD_WARMUP] * min(self.startup, n)
        return out

    def precompute(self, bars: Sequence[Bar]) -> None:
        """A backtest: the frame of the whole series, once; on_candle then looks each up."""
        self._signals = self.signals(self.analyse(bars))
        self._stamps = [b.ts_ms for b in bars]
        self._at = 0

    def on_candles(self, bars: Sequence[Bar]) -> Signal:
        """Live: several candles closed at once (a first poll's history): the frame is
        computed once, on the last startup + 1 of them; the newest candle's signal."""
        if len(bars) == 1 or self._at < len(self._stamps):
            signal = _HOLD
            for bar in bars:
                signal = self.on_candle(bar)
            return signal
        self._window.extend(bars)
        self._seen += len(bars)
        if self._seen <= self.startup:
            return HOLD_WARMUP
        return self.signals(self.analyse(self._window))[-1]

    def on_candle(self, bar: Bar) -> Signal:
        at = self._at
        if at < len(self._stamps):
            if self._stamps[at] == bar.ts_ms:
                self._at = at + 1
                return self._signals[at]
            self._stamps, self._signals = [], []  # not the series prepared: as live from here
        self._window.append(bar)
        self._seen += 1
        if self._seen <= self.startup:
            return HOLD_WARMUP
        df = self.analyse(self._window)
        return self.signals(df)[-1]


def _flags(df: DataFrame, name: str, legacy: str, n: int) -> Any:
    import numpy as np

    column = name if name in df.columns else legacy if legacy in df.columns else None
    if column is None:
        return np.zeros(n, dtype=bool)
    values = df[column].to_numpy(dtype=float, na_value=0.0)
    return np.asarray(values == 1.0)


def _pct(ratio: float) -> Decimal:
    """A ratio (0.02) in percent (2), written as plainly as it was."""
    pct = Decimal(str(ratio)).scaleb(2)
    return pct.quantize(Decimal(1)) if pct.as_tuple().exponent > 0 else pct  # type: ignore[operator]


def exits_of(cls: type[IStrategy]) -> Any:
    """The exits the class declares, over the configured ones (what it leaves unset)."""

    def exits(base: ExitsConfig) -> ExitsConfig:
        stop = base.hard_stop_pct if cls.stoploss is None else _pct(abs(cls.stoploss))
        roi = tuple(sorted((int(float(minutes) * 60_000), _pct(ratio))
                           for minutes, ratio in dict(cls.minimal_roi).items()))
        positive = cls.trailing_stop_positive
        return replace(
            base, hard_stop_pct=stop,
            trailing_pct=stop if cls.trailing_stop else Decimal(0),
            trailing_positive_pct=None if positive is None or not cls.trailing_stop
            else _pct(positive),
            trailing_offset_pct=_pct(cls.trailing_stop_positive_offset or 0.0),
            trailing_only_offset=bool(cls.trailing_only_offset_is_reached), roi=roi)

    return exits


def vector_entry(cls: type[IStrategy], name: str | None = None) -> StrategyEntry:
    """The registry's entry of an IStrategy class."""
    import sys

    module = sys.modules.get(cls.__module__)
    text = cls.__doc__ or (module.__doc__ if module is not None else None) or cls.__name__
    summary = text.strip().splitlines()[0]
    if cls.can_short:
        raise ValueError(f"{cls.__name__}: can_short: this bot trades long only")

    def build(values: dict[str, Any], context: StrategyContext) -> VectorStrategy:
        return VectorStrategy(cls(**values), context.symbol)

    return StrategyEntry(name or cls.name or cls.__name__, summary, cls.declared(), build,
                         exits=exits_of(cls), timeframe=cls.timeframe)
