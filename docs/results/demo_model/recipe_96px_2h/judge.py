"""rule.md's readings, from the repository root:
    python docs/results/demo_model/recipe_96px_2h/judge.py
(1) whether training took at most 120 minutes (timing.json, from the run's log); (2) whether the run meets issue
15's targets on the three sets of 48 held-out frames and on the README's 12 frames; (3) whether its mean person
FID over the three sets of 48 is below the shipped model's."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent
sys.path.insert(0, str(RESULTS / "spread"))
sys.path.insert(0, str(RESULTS / "representative_model"))

from pool_full_runs import FRAME_SETS, row  # noqa: E402
from select_run import meets_targets  # noqa: E402

SETS_48 = (1502, 1503, 1504)
# The shipped model (SHA-256 239747df…5c80, the seed-1541 run) on each set: ../heldout48/, ../spread/ section 5.
SHIPPED = {1502: RESULTS / "heldout48/evaluations/gan.json",
           **{seed: RESULTS / f"spread/evaluations/frame_sets/seed1541_{seed}.json" for seed in (1503, 1504)}}
TRADITIONAL_12 = ("blur", "pixelate", "mask", "noise")
MAX_MINUTES = 120.0


def traditional_rows() -> dict:
    """Each set's traditional rows that the targets compare against: pixelation and blur on the sets of 48 (the
    closest two; ../spread/), every traditional method on the 12 frames (measured again with this run, heldout12/)."""
    rows = {seed: {name: row(FRAME_SETS[seed][name]) for name in ("pixelate", "blur")} for seed in SETS_48}
    rows["12 frames"] = {name: row(HERE / f"heldout12/evaluations/{name}.json") for name in TRADITIONAL_12}
    return rows


def main() -> None:
    run_files = {seed: HERE / f"evaluations/gan_{seed}.json" for seed in SETS_48}
    run_files["12 frames"] = HERE / "heldout12/evaluations/gan.json"
    timing_file = HERE / "timing.json"
    missing = [path for path in [*run_files.values(), timing_file] if not path.is_file()]
    if missing:
        print("not measured yet: " + ", ".join(str(path) for path in missing))
        return
    minutes = json.loads(timing_file.read_text(encoding="utf-8"))["training_minutes"]
    in_time = minutes <= MAX_MINUTES
    print(f"(1) training {minutes:.1f} minutes: " + ("within 2 hours" if in_time else "over 2 hours"))

    traditional = traditional_rows()
    targets = {}
    for key, path in run_files.items():
        values = row(path)
        targets[key] = meets_targets(values, traditional[key])
        closest = min(traditional[key].items(), key=lambda item: item[1]["FID persons"])
        print(f"    set {key}: " + " / ".join(f"{value:.3f}" for value in values.values())
              + f" ({closest[0]} {closest[1]['FID persons']:.1f}): " + ("met" if targets[key] else "missed"))
    print("(2) targets " + ("met on every set" if all(targets.values()) else "missed"))

    run_mean = statistics.mean(row(run_files[seed])["FID persons"] for seed in SETS_48)
    shipped_mean = statistics.mean(row(SHIPPED[seed])["FID persons"] for seed in SETS_48)
    better = run_mean < shipped_mean
    print(f"(3) mean person FID over {', '.join(map(str, SETS_48))}: {run_mean:.1f} against the shipped model's "
          f"{shipped_mean:.1f}: " + ("lower" if better else "not lower"))
    ship = in_time and all(targets.values()) and better
    print("verdict: " + ("ship this run; 1 + 3 epochs at 96 px become the recipe's second stage" if ship
                         else "nothing is shipped"))


if __name__ == "__main__":
    main()
