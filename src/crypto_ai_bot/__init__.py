"""crypto-ai-bot: a long-only crypto spot trading bot; one pipeline for paper, backtest, live."""

__version__ = "0.1.0"
