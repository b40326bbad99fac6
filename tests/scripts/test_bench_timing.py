"""The benchmarks' timing rules: fewer repeats to fit the budget (never none), interleaved configurations."""

from __future__ import annotations

import time

from scripts import bench_timing
from scripts.bench_timing import Budget, Timings, figure, interleaved


def test_repeats_shrink_to_the_budget_but_never_below_one(monkeypatch):
    order: list[str] = []
    costs = {"a": (10.0, 9.0), "b": (30.0, 29.0)}  # (wall, CPU) seconds of one repeat, no real waiting
    monkeypatch.setattr(bench_timing, "time_once", lambda action: costs[action()])

    def action(name: str):
        def once() -> str:
            order.append(name)
            return name
        return once

    # A round costs 40 s of a 100 s budget: 2 of the 5 requested rounds fit after the warm-up round.
    timings = interleaved({"a": action("a"), "b": action("b")}, wanted=5, budget=Budget(100.0))
    assert order == ["a", "b"] * 3  # warm-up round, then a, b, a, b: interleaved
    assert timings.wall == {"a": [10.0, 10.0], "b": [30.0, 30.0]}
    assert timings.cpu == {"a": [9.0, 9.0], "b": [29.0, 29.0]}
    assert Budget(0.0).rounds(5, 10.0) == 1 and Budget(1000.0).rounds(5, 10.0) == 5


def test_a_figure_says_how_it_was_measured():
    timings = Timings()
    for wall, cpu in ((0.3, 0.2), (0.1, 0.1), (0.2, 0.15)):
        timings.add("x", wall, cpu)
    result = figure(timings, "x", wanted=5, precision="fp32", images_per_s=5.0)
    assert result["median_s"] == 0.2 and result["cpu_median_s"] == 0.15 and result["images_per_s"] == 5.0
    assert result["repeats"] == 3 and result["repeats_requested"] == 5 and result["precision"] == "fp32"
    assert result["threads"] >= 1
    assert "cpu_median_s" not in figure(timings, "x", wanted=5, precision="fp32", cpu=False)


def test_budget_counts_down():
    budget = Budget(10.0)
    time.sleep(0.01)
    assert 9.0 < budget.left() < 10.0 and budget.fits(5.0) and not budget.fits(20.0)
