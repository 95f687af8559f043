import base64
import json
from pathlib import Path

import pytest

from crypto_ai_bot.config import load_settings
from crypto_ai_bot.domain.errors import ConfigError


def test_defaults_are_paper_synthetic_and_valid() -> None:
    s = load_settings(None)
    assert s.mode == "paper" and s.price_feed == "synthetic"
    assert s.symbol_list == ["BTC/USDT"]
    assert s.autostart_effective is True
    assert s.instance_lock_enabled is True  # paper trades too: one process per database


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("RISK_COOLDOWN_SEC", "abc", "RISK_COOLDOWN_SEC"),
        ("MODE", "yolo", "MODE"),
        ("SYMBOL", "BTCUSDT", "SYMBOL"),
        ("FIXED_AMOUNT", "-5", "FIXED_AMOUNT"),
        ("TIMEFRAME", "7m", "TIMEFRAME"),
        ("EXITS_HARD_STOP_PCT", "150", "EXITS_HARD_STOP_PCT"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str,
                                      named: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert str(err.value).startswith(named)
    assert "\n" not in str(err.value)


def test_symbols_overrides_symbol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMBOL", "ETH/USDT")
    monkeypatch.setenv("SYMBOLS", "btc/usdt, eth/usdt,btc/usdt")
    assert load_settings(None).symbol_list == ["BTC/USDT", "ETH/USDT"]


def test_dotenv_typo_is_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RISK_COOLDOWN_SECS=5\n")
    with pytest.raises(ConfigError, match="RISK_COOLDOWN_SECS: unknown setting"):
        load_settings(str(env))


def test_secrets_from_every_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k-file\n")
    monkeypatch.setenv("API_KEY_FILE", str(key_file))
    monkeypatch.setenv("API_SECRET_B64", base64.b64encode(b"s-b64").decode())
    key, secret = load_settings(None).credentials()
    assert (key.get_secret_value(), secret.get_secret_value()) == ("k-file", "s-b64")

    monkeypatch.delenv("API_KEY_FILE")
    monkeypatch.delenv("API_SECRET_B64")
    sf = tmp_path / "secrets.json"
    sf.write_text(json.dumps({"api_key": "jk", "api_secret": "js"}))
    monkeypatch.setenv("SECRETS_FILE", str(sf))
    s = load_settings(None)
    key, secret = s.credentials()
    assert (key.get_secret_value(), secret.get_secret_value()) == ("jk", "js")


def test_secrets_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_SECRET", "super-secret-value")
    monkeypatch.setenv("API_TOKEN", "tok-123")
    s = load_settings(None)
    assert "super-secret-value" not in repr(s)
    assert "tok-123" not in str(s.public_view())
    assert s.public_view()["api_secret"] == "set"


def test_secret_not_echoed_in_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY_B64", "%%%not-base64")
    with pytest.raises(ConfigError) as err:
        load_settings(None).credentials()
    assert "not-base64" not in str(err.value)


def test_live_mode_needs_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "live")
    with pytest.raises(ConfigError, match="MODE=live needs exchange keys"):
        load_settings(None)
    monkeypatch.setenv("API_KEY_FILE", "/run/secrets/key")
    monkeypatch.setenv("API_SECRET_FILE", "/run/secrets/secret")
    assert load_settings(None).mode == "live"


def test_live_mode_reads_live_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "live")
    monkeypatch.setenv("SECRETS_FILE", "/run/secrets/gate.json")
    assert load_settings(None).price_feed == "live"
    assert load_settings(None).autostart_effective is False
    assert load_settings(None).instance_lock_enabled is True
    monkeypatch.setenv("PRICE_FEED", "synthetic")
    with pytest.raises(ConfigError, match="PRICE_FEED=synthetic cannot drive MODE=live"):
        load_settings(None)
