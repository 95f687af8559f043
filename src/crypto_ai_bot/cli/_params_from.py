"""`cab-backtest --params-from DIR/optimize.json`: the parameters cab-optimize found.

The file's strategy (unless --strategy names one), its `best_params` as --param values before
the ones given (a --param given wins), and its stops as --stop-pct / --trailing-pct unless
those are given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from crypto_ai_bot.cli._common import BadInput

_EXITS = {"stop_pct": "stop_pct", "trailing_pct": "trailing_pct"}


def apply_params_from(args: argparse.Namespace) -> None:
    path = getattr(args, "params_from", None)
    if not path:
        return
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"--params-from {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise BadInput(f"--params-from {path}: not JSON (an optimize.json?)") from None
    best = doc.get("best_params") if isinstance(doc, dict) else None
    settings: dict[str, Any] = doc.get("settings") or {} if isinstance(doc, dict) else {}
    if not isinstance(best, dict):
        raise BadInput(f"--params-from {path}: no best_params (did every trial fail?)")
    if args.strategy is None:
        args.strategy = settings.get("strategy")
    fixed = settings.get("fixed") or {}
    values = {**fixed, **best}
    stops = {"stop_pct": settings.get("default_stop_pct"),
             "trailing_pct": settings.get("default_trailing_pct")}
    stops.update({k: values[k] for k in _EXITS if k in values})
    for key, value in stops.items():
        if getattr(args, key) is None and value is not None:
            setattr(args, key, str(value))
    args.param = [f"{k}={v}" for k, v in values.items() if k not in _EXITS] + list(args.param)
