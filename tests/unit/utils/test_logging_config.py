"""configure_logging: JSON lines at the level asked for, secrets scrubbed, Decimals and enums as
plain values, and loggers that keep their methods only while a command's configuration holds."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from crypto_ai_bot.domain.model import Side
from crypto_ai_bot.utils.logging import configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    configure_logging("INFO")  # what the rest of the test session logs with


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_at_the_level_asked_for_with_secrets_scrubbed() -> None:
    out = io.StringIO()
    configure_logging("WARNING", stream=out)
    log = get_logger("test")
    log.info("hidden")
    log.warning("shown", symbol="BTC/USDT", api_secret="s3cr3t", price=Decimal("0.10"),
                side=Side.BUY)
    [line] = _lines(out)
    assert line["event"] == "shown" and line["component"] == "test"
    assert line["level"] == "warning" and line["symbol"] == "BTC/USDT"
    assert line["api_secret"] == "***"
    assert (line["price"], line["side"]) == ("0.10", "buy")  # as they are, not their repr


def test_a_command_configures_once_and_a_later_configuration_still_counts() -> None:
    log = get_logger("test")
    first = io.StringIO()
    configure_logging("WARNING", stream=first, once=True)
    log.info("filtered")
    log.warning("kept")
    assert "warning" in vars(log)  # held: a log call is an attribute lookup now
    second = io.StringIO()
    configure_logging("INFO", stream=second)  # e.g. a test after a command ran in-process
    assert "warning" not in vars(log)
    log.info("now shown")
    assert [x["event"] for x in _lines(first)] == ["kept"]
    assert [x["event"] for x in _lines(second)] == ["now shown"]
