"""Storage fault drill: the database's disk fills up, then its file fails, under a trading bot.

    sudo PYTHONPATH=src python bench/storage_fault_drill.py [--seconds 3]

One emulator process (Gate on loopback) and one bot process: live mode against the emulator,
its loops running for real (reconcile, protective exits, the watchdog and its dead man's
switch) with a driver that decides BUY when flat and SELL now and then, as a strategy would.
The bot prints its state (trading state, whether storage can record, /health's status) every
0.2 s and takes the operator's commands on stdin.

Two faults, each made for real on the bot's database:
1. the disk fills up: the database lives on a small tmpfs that the drill fills with a ballast
   file (writes fail with `database or disk is full`), then frees;
2. the file fails: the drill lowers the bot process's RLIMIT_FSIZE (prlimit) so that every
   write to the database file fails with EFBIG (`disk I/O error`), then lifts it.
Where `mount` is refused (no root), fault 1 falls back to the RLIMIT way too, and says so.

After each fault the drill waits with space back, checks that nothing resumed by itself, then
resumes as the operator. At the end a fresh process reconciles the database against the
emulator. Printed: orders the emulator took that the database does not hold ("sent, not
recorded"), orders taken while the database refused writes, entries sent while halted before
the operator's resume, unattended resumes, and whether the books (local position vs the
emulator's balance) are equal. Not a test: a benchmark that prints figures; exit 1 when a
figure is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from cab_exchange_sim.testing import SimProcess, start_sim_process  # noqa: E402
from crypto_ai_bot.bootstrap import build_container  # noqa: E402
from crypto_ai_bot.config import Settings, load_settings  # noqa: E402
from crypto_ai_bot.domain.model import Action, Decision  # noqa: E402

KEY, SECRET, SYMBOL = "drill-key", "drill-secret", "BTC/USDT"
DISK_BYTES = 8 * 1024 * 1024


def settings(api_url: str, db: str, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        mode="live", exchange_api_url=api_url, api_key=KEY, api_secret=SECRET, db_path=db,
        symbol=SYMBOL, fixed_amount="200", price_feed="live", autostart=False,
        instance_lock="on", http_timeout_ms=2000, risk_cooldown_sec=0,
        risk_max_orders_per_hour=0, risk_daily_loss_limit_quote="0", risk_max_spread_pct="5",
        exits_hard_stop_pct="1.5", exits_trailing_pct="0.8", exchange_countdown_sec=0,
        idempotency_bucket_ms=500, log_level="CRITICAL", eval_interval_sec=0.5,
        exits_interval_sec=0.3, reconcile_interval_sec=1.0, watchdog_interval_sec=0.2,
        dms_timeout_ms=3000,
    )
    values.update(extra)
    return load_settings(None, **values)


# the bot process --------------------------------------------------------------------------

async def worker(api_url: str, db: str) -> None:
    """Trade until told to stop; print the state every 0.2 s; obey stdin."""
    from crypto_ai_bot.adapters.storage.sqlite.database import check_db
    from crypto_ai_bot.application.health import HealthInputs, problems, status_of
    from crypto_ai_bot.domain.commands import SetTradingState
    from crypto_ai_bot.domain.model import TradingState

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE fails: EFBIG
    c = build_container(settings(api_url, db))
    await c.start()
    await c.orchestrator.start()
    p = c.pipelines[SYMBOL]
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())

    threading.Thread(target=read_stdin, daemon=True).start()
    step = 0
    while True:
        step += 1
        with contextlib.suppress(Exception):  # a refused write fails a step: the bot goes on
            t = await c.broker.fetch_ticker(SYMBOL)
            pos = c.repos.positions.get(SYMBOL)
            flat = not pos.is_open(c.broker.market(SYMBOL).min_amount)
            action = Action.BUY if flat else (Action.SELL if step % 7 == 0 else Action.HOLD)
            now = c.clock.now_ms()
            await p.act(Decision(SYMBOL, action, "drill", now, t.last, now), t)
        while not commands.empty():
            cmd = commands.get_nowait()
            if cmd == "stop":
                await c.close()
                print(json.dumps({"stopped": True}), flush=True)
                return
            if cmd == "resume":
                try:
                    c.bus.handle(SetTradingState(TradingState.ACTIVE, "drill: storage back"))
                    print(json.dumps({"resumed": True}), flush=True)
                except Exception as exc:
                    print(json.dumps({"resumed": False, "error": str(exc)}), flush=True)
        db_ok, _ = check_db(c.db)
        stale = c.orchestrator.dms.stale()
        state = c.states.current.value
        print(json.dumps({
            "t": time.time(), "state": state, "reason": c.states.reason[:120],
            "storage_ok": c.states.storage_ok, "error": c.states.storage_error[-60:],
            "health": status_of(problems(HealthInputs(
                db_ok=db_ok, db_detail="", broker_ready=c.broker_ready, broker_detail="",
                broker=None, running=True, watchdog_alive=True, stale_loops=stale,
                trading_state=state, storage_ok=c.states.storage_ok,
                storage_error=c.states.storage_error))),
            "dms_tripped": c.orchestrator.dms.tripped,
        }), flush=True)
        await asyncio.sleep(0.2)


# the drill --------------------------------------------------------------------------------

class Bot:
    """The bot process, its status lines read on a thread."""

    def __init__(self, api_url: str, db: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(SRC))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", api_url, db], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                self.lines.append(json.loads(line))

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def status(self) -> dict[str, Any]:
        for line in reversed(self.lines):
            if "state" in line:
                return line
        return {}

    def wait_for(self, key: str, timeout_s: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        seen = len(self.lines)
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                if key in line:
                    return line
            time.sleep(0.05)
        return {}

    def since(self, t: float) -> list[dict[str, Any]]:
        return [x for x in self.lines if "state" in x and x["t"] >= t]


def emulator_orders(sim: SimProcess) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if str(o.get("text") or "").startswith("t-")]


def emulator_stops(sim: SimProcess) -> list[dict[str, Any]]:
    return list(sim.state()["trigger_orders"])


def recorded_stop_ids(db: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {str(r[0]) for r in conn.execute("SELECT stop_order_id FROM positions") if r[0]}


def recorded_ids(db: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {r[0] for r in conn.execute("SELECT client_order_id FROM orders")}


@contextlib.contextmanager
def small_disk(root: Path, wanted: bool = True) -> Iterator[Path | None]:
    """A tmpfs of DISK_BYTES at root/disk, or None where mounting is refused (or unwanted)."""
    mnt = root / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mnt)],
                       capture_output=True, text=True) if wanted else None
    if r is None or r.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last byte with a ballast file."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 512, 1):  # unbuffered: the last byte that fits is written
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return ballast


def fail_file(pid: int, on: bool) -> None:
    """Every write of process pid past byte 1024 of any file fails (EFBIG), or none does."""
    hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]  # the soft limit only: it can rise
    limit = (1024, hard) if on else (hard, hard)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)


def fault(name: str, bot: Bot, sim: SimProcess, db: str, hold_s: float, start: Any,
          stop: Any) -> dict[str, Any]:
    """Make the fault, hold it, lift it, wait, then resume as the operator; the figures."""
    before = {o["text"] for o in emulator_orders(sim)}
    stops_before = {t["id"] for t in emulator_stops(sim)}
    t0 = time.time()
    start()
    time.sleep(hold_s)
    during = bot.since(t0)
    taken_during = [o for o in emulator_orders(sim) if o["text"] not in before]
    stops_during = [t for t in emulator_stops(sim) if t["id"] not in stops_before]
    stop()
    t1 = time.time()
    time.sleep(hold_s)  # space is back: nothing may resume by itself
    after = bot.since(t1)
    # the first refused write halts (reconcile's balance snapshot comes every second), and
    # the bot stays halted for the rest of the fault; how soon is a figure, not a pass mark
    first = next((i for i, x in enumerate(during) if x["state"] == "HALTED"), None)
    halted_during = first is not None and all(x["state"] == "HALTED" for x in during[first:])
    halt_after_s = round(during[first]["t"] - t0, 2) if first is not None else None
    down_seen = any(x["health"] == "down" for x in during)
    unattended = sum(1 for x in after if x["state"] == "ACTIVE")
    stored = after[-1]["reason"] if after else ""
    errors = sorted({x["error"].rsplit(": ", 1)[-1] for x in during if x["error"]})
    # a buy sent after the bot last said ACTIVE (it stays HALTED once halted: checked above).
    # One sent before the halt, while the database still took its record, is not one: a fault
    # that only stops a file growing lets the writes that fit go on for a moment
    seen = during + after
    last_active = max((x["t"] for x in seen if x["state"] == "ACTIVE"), default=t0)
    entries_halted = [o for o in emulator_orders(sim)
                      if o["text"] not in before and o["side"] == "buy"
                      and int(o["create_time_ms"]) / 1000 > last_active]
    bot.send("resume")
    resumed = bot.wait_for("resumed")
    return {
        "fault": name, "errors": errors, "health_down_seen": down_seen,
        "halted_during_fault": halted_during, "halted_after_s": halt_after_s,
        "orders_taken_during_fault": len(taken_during),  # recorded before the fault began
        "unrecorded_taken_during_fault": len([o for o in taken_during
                                              if o["text"] not in recorded_ids(db)]),
        "entries_sent_while_halted": len(entries_halted),
        "exchange_stops_placed_during_fault": len(stops_during),
        "unattended_resumes": unattended, "halt_reason_stored": stored,
        "operator_resume": bool(resumed.get("resumed")),
    }


async def books(api_url: str, db: str) -> tuple[bool, Decimal, Decimal]:
    c = build_container(settings(api_url, db, http_timeout_ms=5000))
    try:
        await c.start()
        report = await c.orchestrator.reconcile_once(startup=True)
        pos = report.positions.get(SYMBOL)
        if pos is None:
            return False, Decimal(-1), Decimal(-1)
        return pos.ok, pos.local, pos.exchange
    finally:
        await c.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="each fault's hold")
    parser.add_argument("--no-mount", action="store_true",
                        help="fill no tmpfs: the disk-full fault goes the RLIMIT_FSIZE way too")
    parser.add_argument("--worker", nargs=2, metavar=("API_URL", "DB"))
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(*args.worker))
        return 0
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="storage-drill-") as tmp, small_disk(
        Path(tmp), not args.no_mount
    ) as disk, start_sim_process(
        None, "--api-key", KEY, "--api-secret", SECRET, "--balances", "USDT=100000",
        "--symbols", SYMBOL,
    ) as sim:
        where = disk if disk is not None else Path(tmp)
        db = str(where / "bot.sqlite3")
        print(f"database on {'a tmpfs of 8 MiB' if disk else 'the temp dir (no mount)'}",
              flush=True)
        bot = Bot(sim.base_url, db)
        if not bot.wait_for("state", 30):
            print("the bot did not start", flush=True)
            return 1
        time.sleep(args.seconds)  # trading
        ballast: list[Path] = []
        if disk is not None:
            results.append(fault(
                "disk full (tmpfs filled)", bot, sim, db, args.seconds,
                lambda: ballast.append(fill(disk)), lambda: ballast[0].unlink()))
        else:
            results.append(fault(
                "disk full (RLIMIT_FSIZE: no tmpfs)", bot, sim, db, args.seconds,
                lambda: fail_file(bot.proc.pid, True), lambda: fail_file(bot.proc.pid, False)))
        time.sleep(args.seconds)  # trading again
        results.append(fault(
            "database file fails (RLIMIT_FSIZE: EFBIG)", bot, sim, db, args.seconds,
            lambda: fail_file(bot.proc.pid, True), lambda: fail_file(bot.proc.pid, False)))
        time.sleep(args.seconds)
        bot.send("stop")
        bot.wait_for("stopped", 30)
        with contextlib.suppress(subprocess.TimeoutExpired):
            bot.proc.wait(timeout=30)
        if bot.proc.poll() is None:
            bot.proc.kill()
        sent = emulator_orders(sim)
        not_recorded = [o["text"] for o in sent if o["text"] not in recorded_ids(db)]
        open_stops = {str(t["id"]) for t in emulator_stops(sim) if t["status"] == "open"}
        stray_stops = open_stops - recorded_stop_ids(db)
        equal, local, exchange = asyncio.run(books(sim.base_url, db))
    bad = bool(not_recorded) or bool(stray_stops) or not equal
    for r in results:
        print(json.dumps(r), flush=True)
        bad |= (r["unrecorded_taken_during_fault"] > 0 or r["entries_sent_while_halted"] > 0
                or r["unattended_resumes"] > 0 or not r["health_down_seen"]
                or not r["halted_during_fault"] or not r["operator_resume"])
    print(f"TOTAL orders_sent={len(sent)} sent_not_recorded={len(not_recorded)} "
          f"unattended_resumes={sum(r['unattended_resumes'] for r in results)} "
          f"books_equal={equal} local={local} exchange={exchange} "
          f"open_exchange_stops={len(open_stops)} unrecorded_open_stops={len(stray_stops)} "
          f"elapsed={time.monotonic() - started:.0f}s", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
