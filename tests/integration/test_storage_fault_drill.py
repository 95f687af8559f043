"""The storage fault drill, short: a live bot in a child process against the emulator, its
database's file made to fail for real (RLIMIT_FSIZE: EFBIG on every write), twice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.conftest import PYTHON, subprocess_env

DRILL = Path(__file__).resolve().parents[2] / "bench" / "storage_fault_drill.py"


@pytest.mark.slow
def test_nothing_unrecorded_leaves_nothing_resumes_by_itself_and_the_books_agree() -> None:
    r = subprocess.run([PYTHON, str(DRILL), "--seconds", "2.5", "--no-mount"],
                       capture_output=True, text=True, timeout=240, env=subprocess_env())
    faults = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{"fault"')]
    assert len(faults) == 2, (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    for f in faults:  # each check on its own: a failure names the one that failed
        assert f["errors"], f
        assert f["health_down_seen"], f
        assert f["halted_during_fault"], f
        assert f["unrecorded_taken_during_fault"] == 0, f
        assert f["entries_sent_while_halted"] == 0, f
        assert f["unattended_resumes"] == 0, f
        assert f["operator_resume"], f
        assert f["halt_reason_stored"].startswith(("storage: ", "dead man's switch")), f
    total = next(line for line in r.stdout.splitlines() if line.startswith("TOTAL"))
    assert "sent_not_recorded=0" in total and "books_equal=True" in total
    assert "unrecorded_open_stops=0" in total
    assert int(total.split("orders_sent=")[1].split()[0]) > 0  # it traded between the faults
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
