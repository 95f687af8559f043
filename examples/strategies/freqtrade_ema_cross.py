# A freqtrade strategy, ported by one line: `from freqtrade.strategy import IStrategy` became
# the crypto_ai_bot import below; nothing else changed.
#
#   S=examples/strategies/freqtrade_ema_cross.py:EmaCross
#   cab-backtest --data BTC_USDT-5m.feather --strategy $S
#   cab-strategy check $S --data BTC_USDT-5m.feather
"""EMA 12/26 cross: enter when the fast EMA crosses above the slow one, exit when it crosses
below; a 2 % stop, no trailing, no ROI table."""

from pandas import DataFrame

from crypto_ai_bot.strategy import IStrategy


class EmaCross(IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "5m"
    # An EMA never forgets its first candle: 400 candles of history make the last one's
    # EMAs the same (to 1e-9) however much history came before, live as in a backtest.
    startup_candle_count = 400

    minimal_roi = {"0": 100}  # effectively off: exits come from the signal and the stop
    stoploss = -0.02
    trailing_stop = False
    use_exit_signal = True

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema_fast"] = dataframe["close"].ewm(span=12, adjust=False).mean()
        dataframe["ema_slow"] = dataframe["close"].ewm(span=26, adjust=False).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["ema_fast"] > dataframe["ema_slow"])
            & (dataframe["ema_fast"].shift(1) <= dataframe["ema_slow"].shift(1))
            & (dataframe["volume"] > 0),
            "enter_long",
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["ema_fast"] < dataframe["ema_slow"])
            & (dataframe["ema_fast"].shift(1) >= dataframe["ema_slow"].shift(1))
            & (dataframe["volume"] > 0),
            "exit_long",
        ] = 1
        return dataframe
