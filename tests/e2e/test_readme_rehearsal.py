"""The README's live rehearsal, as a new user runs it: `.env` copied from `.env.example`, the
emulator and the bot started with the README's own command lines, then the loops started."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import httpx
from tests.conftest import REPO, running_server, subprocess_env

from cab_exchange_sim.testing import start_sim_process

README_PORT = "8900"


def _readme_commands() -> tuple[list[str], dict[str, str]]:
    """The emulator's arguments and the bot's variables, from the README's rehearsal block."""
    text = (REPO / "README.md").read_text()
    block = text.split("A rehearsal of a live session", 1)[1].split("```bash", 1)[1]
    block = block.split("```", 1)[0].replace("\\\n", " ")
    sim_line = next(line for line in block.splitlines() if "cab-exchange-sim" in line)
    bot_line = next(line for line in block.splitlines() if "uvicorn" in line)
    sim_args = shlex.split(sim_line)[1:]
    variables = dict(
        tok.split("=", 1) for tok in shlex.split(bot_line) if re.match(r"^[A-Z_]+=", tok)
    )
    return sim_args, variables


def test_readme_rehearsal_runs_with_env_copied_from_example(tmp_path: Path) -> None:
    sim_args, variables = _readme_commands()
    assert variables["MODE"] == "live" and README_PORT in variables["EXCHANGE_API_URL"]
    port_at = sim_args.index("--port")
    del sim_args[port_at : port_at + 2]  # a free port instead of the README's 8900
    shutil.copy(REPO / ".env.example", tmp_path / ".env")  # the README's `cp .env.example .env`
    (tmp_path / "data").mkdir()
    with start_sim_process(None, *sim_args) as sim:
        variables["EXCHANGE_API_URL"] = variables["EXCHANGE_API_URL"].replace(
            README_PORT, str(sim.port))
        with running_server(tmp_path, subprocess_env(**variables)) as url:
            auth = {"Authorization": f"Bearer {variables['API_TOKEN']}"}
            r = httpx.post(url + "/orchestrator/start", headers=auth, timeout=30)
            assert r.status_code == 200, r.text
            status = httpx.get(url + "/orchestrator/status", headers=auth, timeout=10).json()
            assert status["running"] is True and status["mode"] == "live"
            health = httpx.get(url + "/health", timeout=10).json()
            assert health["mode"] == "live"
