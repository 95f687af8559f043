"""Only core/settings.py reads the environment (DESIGN §2)."""

import re

from tests.conftest import REPO

_READS = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|\bdotenv\b")


def test_only_settings_reads_the_environment() -> None:
    src = REPO / "src" / "crypto_ai_bot"
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "settings.py" and _READS.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
