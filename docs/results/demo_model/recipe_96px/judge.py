"""rule.md's readings from the evaluation files, from the repository root:
    python docs/results/demo_model/recipe_96px/judge.py
(1) whether the full run's 96-px second stage gains at least 5 points of set-1502 person FID over the same first
stage's 64-px run; (2) the four first stages' 64-px and 96-px means and how many 96-px runs beat pixelation; (3)
whether the run meets the targets on sets 1502, 1503 and 1504 and lies within 2 sd of the other 96-px runs."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "spread"))
sys.path.insert(0, str(HERE.parent / "representative_model"))

from pool_full_runs import FRAME_SETS, RUNS, row  # noqa: E402
from select_run import meets_targets  # noqa: E402

PILOTS = HERE.parent / "resolution_floor/evaluations"
FULL_RUN = "seed 1551 (Intel)"
# Each first stage's 64-px run (the recipe) and its 96-px second stage (the pilots, then this page's full run).
FIRST_STAGES = {
    "seed 1541 (Intel)": PILOTS / "second_stage_96px_seed1541_gan_48frames.json",
    FULL_RUN: HERE / "evaluations/seed1551_96px_1502.json",
    "seed 1561 (Intel)": PILOTS / "second_stage_96px_seed1561_gan_48frames.json",
    "reproduction (seed 1501, Intel)": PILOTS / "second_stage_96px_reproduction_gan_48frames.json",
}
FULL_RUN_SETS = {seed: HERE / f"evaluations/seed1551_96px_{seed}.json" for seed in (1502, 1503, 1504)}
MIN_GAIN = 5.0
SPREAD_LIMIT = 2.0


def main() -> None:
    missing = [path for path in FULL_RUN_SETS.values() if not path.is_file()]
    if missing:
        print("not measured yet: " + ", ".join(str(path) for path in missing))
        return
    at_64 = {name: row(RUNS[name])["FID persons"] for name in FIRST_STAGES}
    rows_96 = {name: row(path) for name, path in FIRST_STAGES.items()}
    at_96 = {name: values["FID persons"] for name, values in rows_96.items()}
    pixelate = row(FRAME_SETS[1502]["pixelate"])["FID persons"]
    for name in FIRST_STAGES:
        print(f"{name:32s} 64 px {at_64[name]:.1f}  96 px " + " / ".join(f"{v:.3f}" for v in rows_96[name].values()))

    run = rows_96[FULL_RUN]
    blur_1502 = row(FRAME_SETS[1502]["blur"])
    gain = at_64[FULL_RUN] - at_96[FULL_RUN]
    holds = gain >= MIN_GAIN and run["LPIPS-diversity"] >= 0.05 and run["re-ID rank-1"] <= blur_1502["re-ID rank-1"]
    print(f"(1) gain {gain:.1f} points: " + ("the gain holds in a full run" if holds else "the gain does not hold"))

    mean_64, mean_96 = statistics.mean(at_64.values()), statistics.mean(at_96.values())
    below = sum(value < pixelate for value in at_96.values())
    recipe = mean_64 - mean_96 >= MIN_GAIN and below >= 3
    print(f"(2) mean 64 px {mean_64:.1f} (sd {statistics.stdev(at_64.values()):.1f}), 96 px {mean_96:.1f} "
          f"(sd {statistics.stdev(at_96.values()):.1f}); {below} of 4 below pixelation's {pixelate:.1f}: "
          + ("met" if recipe else "not met"))

    targets = {}
    for seed, path in FULL_RUN_SETS.items():
        traditional = {name: row(FRAME_SETS[seed][name]) for name in ("pixelate", "blur")}
        targets[seed] = meets_targets(row(path), traditional)
    others = [value for name, value in at_96.items() if name != FULL_RUN]
    distance = abs(at_96[FULL_RUN] - statistics.mean(others)) / statistics.stdev(others)
    ship = all(targets.values()) and distance <= SPREAD_LIMIT
    print("(3) targets " + ", ".join(f"{seed} {'met' if ok else 'missed'}" for seed, ok in targets.items())
          + f"; {distance:.2f} sd from the other 96-px runs (mean {statistics.mean(others):.1f}): "
          + ("ship this run" if ship else "not shipped"))
    print("verdict: " + ("the 96-px second stage becomes the recipe's default and this run is shipped"
                         if recipe and ship else "nothing the user runs changes"))


if __name__ == "__main__":
    main()
