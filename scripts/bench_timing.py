"""Timing rules shared by the benchmarks (scripts/benchmark.py, scripts/bench_models.py).

- A benchmark keeps its items fixed (frames, people, batch sizes) and fits into a time budget by doing fewer
  *repeats*: one warm-up round, then as many of the requested rounds as the budget still holds (at least one).
  Every figure says how many repeats its median is of, and how many were asked for.
- Configurations that are compared are run *interleaved* in one process (one repeat of each in turn), so a change
  in the machine's load affects all of them alike and their ratio stays meaningful.
- Every figure carries the precision it ran in and torch's intra-op thread count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

DEFAULT_BUDGET_S = 180.0


class Budget:
    """Seconds a benchmark may still spend."""

    def __init__(self, seconds: float = DEFAULT_BUDGET_S) -> None:
        self.seconds = seconds
        self.deadline = time.perf_counter() + seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def fits(self, seconds: float) -> bool:
        return self.left() >= seconds

    def rounds(self, wanted: int, seconds_per_round: float) -> int:
        """How many of ``wanted`` rounds fit in what is left (at least one)."""
        return max(1, min(wanted, int(self.left() / max(seconds_per_round, 1e-9))))


def interleaved(runs: dict[str, Callable[[], float]], wanted: int, budget: Budget) -> dict[str, list[float]]:
    """Seconds per repeat of each configuration: one untimed warm-up round, then rounds of one repeat of each in
    turn, as many of ``wanted`` rounds as fit the budget. Each ``run`` performs one repeat and returns its seconds."""
    warm_up = sum(run() for run in runs.values())
    rounds = budget.rounds(wanted, warm_up)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(run())
    return times


def timed(action: Callable[[], object], cpu_seconds: list[float] | None = None) -> Callable[[], float]:
    """A repeat that returns the wall seconds ``action`` took; with ``cpu_seconds``, also appends the CPU seconds
    this process spent on it (all threads: less sensitive than wall time to other programs on the machine, but
    it counts OpenMP threads spinning while they wait)."""

    def run() -> float:
        start, cpu_start = time.perf_counter(), time.process_time()
        action()
        if cpu_seconds is not None:
            cpu_seconds.append(time.process_time() - cpu_start)
        return time.perf_counter() - start

    return run


def figure(times: list[float], wanted: int, precision: str, digits: int = 4, **extra: object) -> dict:
    """The median of the repeats with everything needed to read it."""
    return {"median_s": round(statistics.median(times), digits), **extra, "runs_s": [round(t, digits) for t in times],
            "repeats": len(times), "repeats_requested": wanted, "precision": precision,
            "threads": torch.get_num_threads()}


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3)
