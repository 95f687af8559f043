"""Walk-forward spans: train/test windows (rolling or anchored) and a final hold-out.

    |-- train 0 --|- test 0 -|
              |-- train 1 --|- test 1 -|            rolling: the train span moves on
    |------- train 1 -------|- test 1 -|            anchored: it keeps its start
                                  ... |-- final train --|-- hold-out --|

A window's test span follows its train span and the next window starts one test span later, so
the test spans tile the time after the first train span without overlap: stitched, they are one
out-of-sample curve. The final search (the parameters the user takes home) trains on the span
just before the hold-out, as a next window would; the hold-out is its test, and no search ever
sees a candle of it. Times are integer ms, each span [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Span:
    start_ms: int
    end_ms: int  # exclusive

    @property
    def days(self) -> float:
        return (self.end_ms - self.start_ms) / DAY_MS


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    train: Span
    test: Span


@dataclass(frozen=True, slots=True)
class Plan:
    windows: list[Window]
    final_train: Span  # the search whose best parameters are reported (and tried on the hold-out)
    holdout: Span | None


class WindowsDoNotFit(ValueError):
    """The windows asked for do not fit the candles' span; the message says by how much."""


def plan(first_ms: int, end_ms: int, *, train_days: float, test_days: float,
         holdout_days: float = 0, anchored: bool = False) -> Plan:
    """The walk-forward plan over candles from first_ms to end_ms (exclusive). test_days 0: no
    windows, one search over the final train span. Anchored, the first train span is
    train_days long and each later one starts at the first candle too."""
    if train_days <= 0 or test_days < 0 or holdout_days < 0:
        raise WindowsDoNotFit("--train-days must be positive, --test-days and --holdout-days"
                              " zero or more")
    train, test, hold = (round(d * DAY_MS) for d in (train_days, test_days, holdout_days))
    total = end_ms - first_ms
    holdout_start = end_ms - hold
    searchable = holdout_start - first_ms
    if searchable < train + test:
        raise WindowsDoNotFit(
            f"the windows do not fit the data: {total / DAY_MS:.1f} days of candles, "
            f"{holdout_days:g} held out, leave {max(searchable, 0) / DAY_MS:.1f} days for "
            f"train {train_days:g} + test {test_days:g} days"
            )
    windows: list[Window] = []
    if test:
        t = first_ms + train
        while t + test <= holdout_start:
            train_start = first_ms if anchored else t - train
            windows.append(Window(len(windows), Span(train_start, t), Span(t, t + test)))
            t += test
    final_start = first_ms if anchored else holdout_start - train
    holdout = Span(holdout_start, end_ms) if hold else None
    return Plan(windows, Span(final_start, holdout_start), holdout)
