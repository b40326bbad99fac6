"""The benchmarks' timing rules: fewer repeats to fit the budget (never none), interleaved configurations."""

from __future__ import annotations

import time

from scripts.bench_timing import Budget, figure, interleaved


def test_repeats_shrink_to_the_budget_but_never_below_one():
    order: list[str] = []

    def run(name: str, seconds: float):
        def once() -> float:
            order.append(name)
            return seconds
        return once

    # Each round "costs" 40 s of a 100 s budget: 2 of the 5 requested rounds fit, after one warm-up round.
    times = interleaved({"a": run("a", 10.0), "b": run("b", 30.0)}, wanted=5, budget=Budget(100.0))
    assert times == {"a": [10.0, 10.0], "b": [30.0, 30.0]}
    assert order == ["a", "b"] * 3  # interleaved: a, b, a, b, ...
    assert Budget(0.0).rounds(5, 10.0) == 1 and Budget(1000.0).rounds(5, 10.0) == 5


def test_a_figure_says_how_it_was_measured():
    result = figure([0.3, 0.1, 0.2], wanted=5, precision="fp32", images_per_s=5.0)
    assert result["median_s"] == 0.2 and result["images_per_s"] == 5.0
    assert result["repeats"] == 3 and result["repeats_requested"] == 5 and result["precision"] == "fp32"
    assert result["threads"] >= 1


def test_budget_counts_down():
    budget = Budget(10.0)
    time.sleep(0.01)
    assert 9.0 < budget.left() < 10.0 and budget.fits(5.0) and not budget.fits(20.0)
