"""One Optuna study a span, run by this process or by `jobs` worker processes.

The study lives in Optuna's storage: in memory for one process, else a journal file, a SQLite
file or a PostgreSQL/MySQL URL that several processes, on one machine or many, join by the
study's name. Each worker loads the candles once (trials.Trials) and keeps them for every span
and every trial. TPE samples (or random, or NSGA-II); a trial under the minimum trade count,
or one the strategy refuses, is recorded FAILED (the sampler learns nothing good from it, and
it is never the best).
Each trial notes who ran it (`worker`), the first and last candle its backtest saw
(`candles`) and its result (`result`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.drivers.optimize.space import Dimension
from crypto_ai_bot.drivers.optimize.trials import Setup, Trials
from crypto_ai_bot.drivers.optimize.windows import Span

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

Progress = Callable[[int, int, float | None], None]  # (trials done, trials asked, best so far)


class OptunaMissing(ImportError):
    """Optuna is the `optimize` extra."""


def optuna_module() -> Any:
    try:
        import optuna
    except ImportError:
        raise OptunaMissing("optuna is not installed: pip install 'crypto-ai-bot[optimize]'"
                            ) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial is data, not news
    return optuna


_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def redacted(text: str) -> str:
    """A URL (or a message holding one) with its password masked: never printed or logged."""
    return _PASSWORD.sub(r"\1***@", text)


def open_storage(where: str | None) -> Any:
    """None: in memory; `scheme://...`: an RDB URL (sqlite:///f.db, postgresql://, mysql://);
    anything else: a journal file (created if missing). ValueError, password masked, when it
    cannot be opened (no server, no driver, no such folder)."""
    optuna = optuna_module()
    if where is None:
        return optuna.storages.InMemoryStorage()
    try:
        if "://" in where:
            return optuna.storages.RDBStorage(where)
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(where))
    except Exception as exc:  # SQLAlchemy's and the drivers' errors are many: each is named
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ValueError(redacted(f"--storage {where}: cannot open it: "
                                  f"{type(exc).__name__}: {first}")) from None


def suggest(trial: optuna.Trial, dims: Sequence[Dimension]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dims:
        if d.kind is int:
            out[d.name] = trial.suggest_int(d.name, int(d.low), int(d.high))
        else:
            out[d.name] = trial.suggest_float(d.name, d.low, d.high, step=d.step)
    return out


def objective(trials: Trials, span: Span) -> Callable[[optuna.Trial], Any]:
    n = len(trials.setup.objectives)
    failed = float("nan") if n == 1 else [float("nan")] * n

    def run(trial: optuna.Trial) -> Any:
        values = suggest(trial, trials.setup.space)
        trial.set_user_attr("worker", trials.worker)
        scored = trials.score(values, span)
        if scored.seen is not None:
            trial.set_user_attr("candles", list(scored.seen))
        if scored.result is not None:
            trial.set_user_attr("result", scored.result)
        if scored.values is None:
            trial.set_user_attr("failed", scored.why)
            return failed
        return scored.values[0] if n == 1 else scored.values

    return run


def create(storage: Any, name: str, setup: Setup, fingerprint: str) -> optuna.Study:
    """The study `name`, made or joined; ValueError when it was made with another setup."""
    lib = optuna_module()
    study: optuna.Study = lib.create_study(
        storage=storage, study_name=name, load_if_exists=True,
        directions=["maximize"] * len(setup.objectives))
    held = study.user_attrs.get("setup")
    if held is None:
        study.set_user_attr("setup", fingerprint)
    elif held != fingerprint:
        raise ValueError(f"study {name!r} was made with other settings ({held}); name another"
                         f" --study, or join it with the same ones ({fingerprint})")
    return study


SAMPLERS = ("tpe", "random", "nsga2")


def _sampler(kind: str, seed: int | None, worker: int, multi: bool) -> Any:
    """TPE (the default; multivariate for one objective, and a constant liar so that parallel
    workers do not all sample the same point), random, or NSGA-II (for several objectives)."""
    optuna = optuna_module()
    s = None if seed is None else seed + worker
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=s)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=s)
    return optuna.samplers.TPESampler(seed=s, multivariate=not multi, constant_liar=True)


def _finished(study: optuna.Study) -> list[FrozenTrial]:
    optuna = optuna_module()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL,
            optuna.trial.TrialState.PRUNED)
    out: list[FrozenTrial] = study.get_trials(deepcopy=False, states=done)
    return out


def best_value(study: optuna.Study) -> float | None:
    complete = [t for t in study.get_trials(deepcopy=False) if t.values and t.state.name
                == "COMPLETE"]
    return max((t.values[0] for t in complete), default=None)


# the worker processes --------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


# how long a share waits for the other workers before it runs wherever it is
BARRIER_TIMEOUT_S = 300


def _init(setup: Setup, storage: str, barrier: Any) -> None:
    _WORKER["trials"] = Trials(setup)
    _WORKER["storage"] = open_storage(storage)
    _WORKER["barrier"] = barrier


def _work(name: str, span: Span, n: int, sampler: str, seed: int | None, index: int) -> int:
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker died: go on without
        _WORKER["barrier"].wait(BARRIER_TIMEOUT_S)
    if n == 0:
        return 0
    optuna = optuna_module()
    trials: Trials = _WORKER["trials"]
    study = optuna.load_study(study_name=name, storage=_WORKER["storage"],
                              sampler=_sampler(sampler, seed, index,
                                               len(trials.setup.objectives) > 1))
    study.optimize(objective(trials, span), n_trials=n, gc_after_trial=False)
    return n


@dataclass
class Searcher:
    """Runs studies: in this process (jobs 1) or in `jobs` worker processes kept for all."""

    setup: Setup
    trials: Trials  # this process's own: the tests and the hold-out run on it
    storage: str | None
    jobs: int = 1
    seed: int | None = None
    sampler: str = "tpe"
    fingerprint: str = ""
    _pool: Any = None
    _storage: Any = None

    @contextmanager
    def started(self) -> Iterator[Searcher]:
        if self.jobs > 1 and self.storage is None:
            raise ValueError("--jobs above 1 needs a storage the workers share")
        self._storage = open_storage(self.storage)
        if self.jobs > 1:
            # spawn: a fresh interpreter, whatever threads this process runs (a progress bar)
            ctx = multiprocessing.get_context("spawn")
            # each span's shares meet at a barrier first, so that every worker runs one (a
            # pool hands tasks to whichever process asks: a worker that starts late would
            # otherwise find them all taken by the first)
            self._pool = ctx.Pool(self.jobs, initializer=_init,
                                  initargs=(self.setup, self.storage, ctx.Barrier(self.jobs)))
        try:
            yield self
        finally:
            if self._pool is not None:
                self._pool.terminate()
                self._pool.join()
                self._pool = None

    def run(self, name: str, span: Span, n: int, progress: Progress | None = None
            ) -> optuna.Study:
        """Add n trials over `span` to the study `name` (made or joined) and return it."""
        study = create(self._storage, name, self.setup, self.fingerprint)
        before = len(_finished(study))
        multi = len(self.setup.objectives) > 1
        if self._pool is None:
            study.sampler = _sampler(self.sampler, self.seed, 0, multi)

            def tick(st: optuna.Study, _t: FrozenTrial) -> None:
                if progress is not None:
                    progress(min(len(_finished(st)) - before, n), n, best_value(st))

            study.optimize(objective(self.trials, span), n_trials=n, callbacks=[tick],
                           gc_after_trial=False)
            return study
        shares = [n // self.jobs + (1 if k < n % self.jobs else 0) for k in range(self.jobs)]
        pending = self._pool.starmap_async(
            _work, [(name, span, s, self.sampler, self.seed, k)
                    for k, s in enumerate(shares)])
        while not pending.ready():
            pending.wait(0.5)
            if progress is not None:
                progress(min(len(_finished(study)) - before, n), n, best_value(study))
        pending.get()  # a worker's exception surfaces here
        if progress is not None:
            progress(min(len(_finished(study)) - before, n), n, best_value(study))
        return study

