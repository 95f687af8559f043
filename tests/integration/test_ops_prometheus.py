"""ops/prometheus: every cab_* metric the alert rules use is exported by the real app.

The rules are read with PyYAML when it is importable, else with a regex over `expr:` lines
(PyYAML is not a dependency). promtool/amtool validate the files where they are installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "ops" / "prometheus"
_METRIC = re.compile(r"\b(cab_[a-z0-9_]+)")
_EXPR = re.compile(r"^\s*expr:\s*(.+?)\s*$", re.M)


def regex_exprs(text: str) -> list[str]:
    return [m.strip().strip("'\"") for m in _EXPR.findall(text)]


def rule_exprs() -> list[str]:
    text = (OPS / "alerts.yml").read_text(encoding="utf-8")
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return regex_exprs(text)
    doc: dict[str, Any] = yaml.safe_load(text)
    return [str(r["expr"]) for g in doc["groups"] for r in g["rules"]]


def test_regex_fallback_reads_the_same_rules_as_yaml() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML absent: the regex path is the one in use")
    text = (OPS / "alerts.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert regex_exprs(text) == [str(r["expr"]) for g in doc["groups"] for r in g["rules"]]


def metrics_used() -> set[str]:
    return {name for expr in rule_exprs() for name in _METRIC.findall(expr)}


def test_rules_cover_the_alerts_operators_need() -> None:
    exprs = " ".join(rule_exprs())
    for needed in ("cab_up", "cab_loop_last_beat_timestamp_seconds", "cab_dms_tripped",
                   "cab_reconcile_mismatch", "cab_daily_loss_limit_reached",
                   "cab_order_errors_total", 'up{job="crypto-ai-bot"}',
                   "cab_position_unprotected", "cab_exchange_stops_unknown_total"):
        assert needed in exprs, needed
    prom = (OPS / "prometheus.yml").read_text(encoding="utf-8")
    assert "alerts.yml" in prom and "alertmanager:9093" in prom
    assert "job_name: crypto-ai-bot" in prom


async def test_every_metric_in_the_rules_is_exported(make_settings: Any) -> None:
    from crypto_ai_bot.api.server import create_app
    from crypto_ai_bot.bootstrap import build_container

    settings = make_settings(price_feed="fixed", autostart=False)
    c = build_container(settings)
    app = create_app(container=c)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            # one cycle, so that labelled metrics have samples
            await c.orchestrator.reconcile_once(startup=True)
            for p in c.pipelines.values():
                await p.evaluate()
                await p.protect()
            resp = await client.get("/metrics")
    finally:
        await c.close()
    assert resp.status_code == 200
    text = resp.text
    exported: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)", text, re.M):
        exported.add(name)
        if kind == "counter":  # prometheus-client samples a Counter as <name>_total
            exported.add(name + "_total")
    exported |= set(re.findall(r"^(cab_[a-z0-9_]+)[{ ]", text, re.M))
    used = metrics_used()
    assert used, "no cab_* metric found in alerts.yml"
    missing = sorted(used - exported)
    assert not missing, f"alerts.yml uses metrics the bot does not export: {missing}"


@pytest.mark.parametrize(("tool", "args"), [
    ("promtool", ["check", "config", str(OPS / "prometheus.yml")]),
    ("promtool", ["check", "rules", str(OPS / "alerts.yml")]),
    ("amtool", ["check-config", str(OPS / "alertmanager.yml")]),
])
def test_files_pass_the_official_checkers(tool: str, args: list[str]) -> None:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not on PATH")
    r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, cwd=OPS)
    assert r.returncode == 0, r.stdout + r.stderr
