"""freqtrade's side of the reference run: crypto-ai-bot's ema_cross as an IStrategy.

EMAs seeded with the first close (pandas' ewm with adjust=False, as domain.indicators.EMA),
a buy where the fast crosses above the slow, a sell below; a 2 % stop, no ROI table. Loaded by
freqtrade from the user_data directory bench/backtest_speed.py --freqtrade lays out.
"""

from typing import ClassVar

from freqtrade.strategy import IStrategy
from pandas import DataFrame


class EmaCross(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100}  # no ROI exits: signals and the stop
    stoploss = -0.02
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False
    process_only_new_candles = True
    startup_candle_count = 0

    def populate_indicators(self, df: DataFrame, metadata: dict) -> DataFrame:
        df["fast"] = df["close"].ewm(span=12, adjust=False).mean()
        df["slow"] = df["close"].ewm(span=26, adjust=False).mean()
        return df

    def populate_entry_trend(self, df: DataFrame, metadata: dict) -> DataFrame:
        above = df["fast"] > df["slow"]
        df.loc[above & ~above.shift(1, fill_value=True), "enter_long"] = 1
        return df

    def populate_exit_trend(self, df: DataFrame, metadata: dict) -> DataFrame:
        below = df["fast"] < df["slow"]
        df.loc[below & ~below.shift(1, fill_value=True), "exit_long"] = 1
        return df
