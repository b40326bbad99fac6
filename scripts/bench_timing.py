"""Timing rules shared by the benchmarks (scripts/benchmark.py, scripts/bench_models.py).

- A benchmark keeps its items fixed (frames, people, batch sizes) and fits into a time budget by doing fewer
  *repeats*: one warm-up round, then as many of the requested rounds as the budget still holds (at least one).
  Every figure says how many repeats its median is of, and how many were asked for.
- Configurations that are compared are run *interleaved* in one process (one repeat of each in turn), so a change
  in the machine's load affects all of them alike and their ratio stays meaningful.
- Each repeat is timed in wall seconds and in CPU seconds of this process (all its threads). CPU seconds barely
  change when other programs compete for the cores, so they are the better measure of the work on a shared machine
  — with one thread; with more, they also count OpenMP threads spinning while they wait.
- Every figure carries the precision it ran in and torch's intra-op thread count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class Timings:
    """Wall and CPU seconds of every timed repeat, per configuration."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall.setdefault(name, []).append(wall)
        self.cpu.setdefault(name, []).append(cpu)

    def median(self, name: str) -> float:
        return statistics.median(self.wall[name])


def time_once(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(actions: dict[str, Callable[[], object]], wanted: int, budget: Budget) -> Timings:
    """One untimed warm-up round, then rounds of one repeat of each configuration in turn, as many of ``wanted``
    rounds as fit the budget (at least one). Each action performs one repeat."""
    warm_up = sum(time_once(action)[0] for action in actions.values())
    timings = Timings()
    for _ in range(budget.rounds(wanted, warm_up)):
        for name, action in actions.items():
            timings.add(name, *time_once(action))
    return timings


def figure(timings: Timings, name: str, wanted: int, precision: str, digits: int = 4, cpu: bool = True,
           **extra: object) -> dict:
    """The median of a configuration's repeats with everything needed to read it (``cpu=False`` where the work
    runs in other processes, whose CPU time this process does not see)."""
    wall = timings.wall[name]
    result: dict = {"median_s": round(statistics.median(wall), digits)}
    if cpu:
        result["cpu_median_s"] = round(statistics.median(timings.cpu[name]), digits)
    return {**result, **extra, "runs_s": [round(t, digits) for t in wall], "repeats": len(wall),
            "repeats_requested": wanted, "precision": precision, "threads": torch.get_num_threads()}


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3)
