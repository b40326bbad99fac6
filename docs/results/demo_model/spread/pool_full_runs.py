"""The reading of rule_run_spread.md from the runs' evaluation files, from the repository root:
    python docs/results/demo_model/spread/pool_full_runs.py
Prints each pooled run's held-out row, the reruns' mean and sample standard deviation of person FID, the verdict
and the counts against the traditional methods (../heldout48/evaluations/)."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent
sys.path.insert(0, str(RESULTS.parents[2]))

from scripts.demo_model_report import row_numbers  # noqa: E402

COLUMNS = ("FID persons", "KID persons", "FID frames", "LPIPS-diversity", "re-ID rank-1")
SHIPPED = "shipped (seed 1501, AMD)"
RUNS = {
    SHIPPED: RESULTS / "heldout48/evaluations/gan.json",
    "reproduction (seed 1501, Intel)": RESULTS / "reproduction/evaluations/gan_48frames.json",
    "seed 1541 (Intel)": HERE / "evaluations/seed1541_full_run_gan_48frames.json",
    "seed 1551 (Intel)": HERE / "evaluations/seed1551_full_run_gan_48frames.json",
}


def row(metrics_file: Path) -> dict[str, float]:
    numbers = row_numbers(json.loads(metrics_file.read_text(encoding="utf-8")))
    return {column: numbers[column] for column in COLUMNS}


def main() -> None:
    rows = {name: row(path) for name, path in RUNS.items()}
    baselines = {name: row(RESULTS / f"heldout48/evaluations/{name}.json") for name in ("pixelate", "blur")}
    for name, values in {**rows, **baselines}.items():
        print(f"{name:34s} " + " / ".join(f"{value:.3f}" for value in values.values()))
    reruns = [values["FID persons"] for name, values in rows.items() if name != SHIPPED]
    mean, sd = statistics.mean(reruns), statistics.stdev(reruns)
    shipped = rows[SHIPPED]["FID persons"]
    verdict = "met" if abs(shipped - mean) <= 2 * sd else "missed"
    print(f"reruns' person FID: mean {mean:.1f}, sd {sd:.1f}; shipped {shipped:.1f} is "
          f"{abs(shipped - mean) / sd:.2f} sd from it: {verdict}")
    for metric in ("FID persons", "FID frames"):
        for baseline in ("pixelate", "blur"):
            below = sum(values[metric] < baselines[baseline][metric] for values in rows.values())
            print(f"{metric} below {baseline}'s ({baselines[baseline][metric]:.1f}): {below} of {len(rows)} runs")
    diverse = sum(values["LPIPS-diversity"] >= 0.05 for values in rows.values())
    print(f"LPIPS-diversity >= 0.05: {diverse} of {len(rows)} runs")
    blur_rank1 = baselines["blur"]["re-ID rank-1"]
    anonymous = sum(values["re-ID rank-1"] <= blur_rank1 for values in rows.values())
    print(f"rank-1 <= blur's ({blur_rank1:.3f}): {anonymous} of {len(rows)} runs")


if __name__ == "__main__":
    main()
