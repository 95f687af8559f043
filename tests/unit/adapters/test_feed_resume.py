"""The synthetic feed resumes a long session from its last checkpoint, candle for candle the
market it left (state on a real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

from crypto_ai_bot.adapters.feeds import SyntheticFeed
from crypto_ai_bot.adapters.storage.sqlite.database import open_database
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.ports.clock import ManualClock
from crypto_ai_bot.ports.storage import StateRepository

T0 = 1_767_225_600_000
STEP = 300_000


def _feed(state: StateRepository, every: int) -> SyntheticFeed:
    feed = SyntheticFeed(42, None, ManualClock(T0), PriceBoard(), STEP, state=state)
    feed.CHECKPOINT_EVERY = every
    return feed


async def test_a_resume_from_a_checkpoint_is_the_market_it_left(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "bot.sqlite3"))
    state = SqliteRepositories(db).state
    first = _feed(state, 100)
    seen = list((await first.poll("ETH/USDT")).candles)
    for _ in range(430):
        seen += (await first.poll("ETH/USDT")).candles
    points = json.loads(state.get("feed.synthetic.ETH/USDT.checkpoints"))["checkpoints"]
    assert [p["made"] for p in points] == [300, 400]  # 490 candles made: the last two kept

    again = _feed(state, 100)
    assert (await again.ticker("ETH/USDT")).last == seen[-1].close
    resumed = (await again.poll("ETH/USDT")).candles
    following = (await first.poll("ETH/USDT")).candles  # what the first feed makes next
    assert resumed[:-1] == seen[-59:] and resumed[-1] == following[0]
    # and on, poll for poll, as the market that never stopped
    for _ in range(150):
        assert (await again.poll("ETH/USDT")).candles == (await first.poll("ETH/USDT")).candles
    db.close()
