import re

from tests.conftest import REPO

from crypto_ai_bot.config import Settings, load_settings


def test_env_example_lists_every_setting_and_loads() -> None:
    text = (REPO / ".env.example").read_text()
    names = {m.group(1) for m in re.finditer(r"^([A-Z0-9_]+)=", text, re.M)}
    assert names == {f.upper() for f in Settings.model_fields}
    s = load_settings(str(REPO / ".env.example"))
    assert s.mode == "paper" and s.price_feed == "synthetic"
