"""Settings that would switch safety off are refused with one line naming them (issue 11 B)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto_ai_bot.config import load_settings
from crypto_ai_bot.domain.errors import ConfigError


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None).exchange_config  # noqa: B018 (reads the key files)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("var", "value"), [
    ("WATCHDOG_INTERVAL_SEC", "inf"),  # killed the watchdog thread (OverflowError)
    ("EVAL_INTERVAL_SEC", "1e-9"),  # pinned a core
    ("EVAL_INTERVAL_SEC", "nan"),
    ("EXITS_INTERVAL_SEC", "0.01"),
    ("RECONCILE_INTERVAL_SEC", "86401"),
    ("RECONCILE_INTERVAL_SEC", "-inf"),
    ("DMS_TIMEOUT_MS", "1e23"),  # switched the dead man's switch off
    ("DMS_TIMEOUT_MS", "100000000000000000000000"),
    ("DMS_TIMEOUT_MS", "999"),
    ("HTTP_TIMEOUT_MS", "1000000000"),
    ("EXCHANGE_COUNTDOWN_SEC", "100000000"),
    ("IDEMPOTENCY_BUCKET_MS", "1e400"),
])
def test_intervals_and_timeouts_are_bounded(monkeypatch: pytest.MonkeyPatch, var: str,
                                            value: str) -> None:
    assert refused(monkeypatch, **{var: value}).startswith(var)


def test_bounds_accept_the_extremes(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(None, eval_interval_sec=0.05, exits_interval_sec=0.05,
                      watchdog_interval_sec=0.05, reconcile_interval_sec=0.05,
                      dms_timeout_ms=1000)
    assert s.loops_config.evaluate_s == 0.05
    s = load_settings(None, reconcile_interval_sec=43_200, dms_timeout_ms=86_400_000,
                      eval_interval_sec=43_200, watchdog_interval_sec=43_200)
    assert s.loops_config.dms_timeout_ms == 86_400_000  # a day: loops up to twelve hours
    assert load_settings(None, exits_enabled=False, exits_interval_sec=86_400)


def test_dms_timeout_must_outwait_the_reconcile_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """DMS_TIMEOUT_MS=10000 beside the default 30 s reconcile halted 10 s after every start."""
    message = refused(monkeypatch, DMS_TIMEOUT_MS="10000")
    assert message.startswith("DMS_TIMEOUT_MS=10000")
    assert "RECONCILE_INTERVAL_SEC=30" in message and "60000" in message


@pytest.mark.parametrize(("var", "value"), [
    ("EVAL_INTERVAL_SEC", "90"), ("EXITS_INTERVAL_SEC", "70"), ("WATCHDOG_INTERVAL_SEC", "61"),
])
def test_dms_timeout_must_outwait_every_loop(monkeypatch: pytest.MonkeyPatch, var: str,
                                             value: str) -> None:
    message = refused(monkeypatch, **{var: value})  # beside the default 120 s timeout
    assert message.startswith("DMS_TIMEOUT_MS=120000") and var in message


def test_live_countdown_loop_counts_too(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, MODE="live", API_KEY="k", API_SECRET="s",
                      EXCHANGE_COUNTDOWN_SEC="600", DMS_TIMEOUT_MS="200000",
                      RECONCILE_INTERVAL_SEC="10")
    assert "EXCHANGE_COUNTDOWN_SEC/4=150" in message


def test_exits_interval_is_ignored_with_exits_off(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(None, exits_enabled=False, exits_interval_sec=3600)
    assert s.dms_timeout_ms == 120_000


@pytest.mark.parametrize("token", [" tok", "tok ", "tok\t", "tök€n", "токен", "to\nk", "t\x1bk"])
def test_api_token_no_request_could_match_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                     token: str) -> None:
    message = refused(monkeypatch, API_TOKEN=token)
    assert message.startswith("API_TOKEN:") and token.strip() not in message


def test_api_token_latin1_and_inner_spaces_are_fine() -> None:
    assert load_settings(None, api_token="a b-é_9").api_token.get_secret_value() == "a b-é_9"


@pytest.mark.parametrize("var", ["API_KEY_FILE", "API_SECRET_FILE", "SECRETS_FILE"])
def test_a_secret_pasted_for_its_file_is_never_echoed(monkeypatch: pytest.MonkeyPatch,
                                                      var: str) -> None:
    secret = "AKIA0123456789SECRETVALUE"
    others = {"API_KEY_FILE": {"API_SECRET": "s"}, "API_SECRET_FILE": {"API_KEY": "k"},
              "SECRETS_FILE": {}}
    env = {"MODE": "live", var: secret, **others[var]}
    message = refused(monkeypatch, **env)
    assert message.startswith(var) and secret not in message
    assert "not the secret itself" in message


def test_a_bad_secrets_file_does_not_show_its_path(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "sk-live-0123456789"
    path.write_text("{not json")
    message = refused(monkeypatch, MODE="live", SECRETS_FILE=str(path))
    assert message.startswith("SECRETS_FILE") and path.name not in message


def test_public_view_hides_secret_bearing_paths() -> None:
    s = load_settings(None, api_key_file="AKIA-KEY-PASTED-HERE", api_secret_file="/run/s")
    view = s.public_view()
    assert view["api_key_file"] == "set" and view["api_secret_file"] == "set"
    assert "AKIA-KEY-PASTED-HERE" not in str(view)
