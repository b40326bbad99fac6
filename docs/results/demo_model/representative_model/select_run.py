"""rule.md's choice among the five full runs of the recipe, from their evaluation files (../spread/), from the
repository root:
    python docs/results/demo_model/representative_model/select_run.py
For each run it prints (a) whether it meets the evidence targets on each of the three 48-frame held-out sets
(person FID below pixelation's and blur's, LPIPS-diversity >= 0.05, re-ID rank-1 <= blur's) and (b) how many
sample sd its person FID lies from the mean of the other four runs, on set 1502 and on the three-set means
(reproduced within 2). Then the run rule.md ships: the one meeting (a) and (b), the lowest three-set mean first.
Last, once run.sh has measured it on the fresh set (evaluations/<method>_1506.json), the confirmation's reading."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "spread"))

from pool_full_runs import FRAME_SETS, RUNS, row  # noqa: E402

BASELINES = ("pixelate", "blur")
CONFIRMATION = {method: Path(__file__).resolve().parent / f"evaluations/{method}_1506.json"
                for method in ("gan", "blur", "pixelate", "mask", "noise")}
SPREAD_LIMIT = 2.0


def meets_targets(gan: dict[str, float], traditional: dict[str, dict[str, float]]) -> bool:
    """Issue 15's targets: person FID below every traditional method's given, LPIPS-diversity >= 0.05, re-ID
    rank-1 no higher than blur's."""
    return (all(gan["FID persons"] < values["FID persons"] for values in traditional.values())
            and gan["LPIPS-diversity"] >= 0.05 and gan["re-ID rank-1"] <= traditional["blur"]["re-ID rank-1"])


def distance_from_others(name: str, person_fid: dict[str, float]) -> float:
    """How many sample sd of the other runs' person FID this run lies from their mean."""
    others = [value for other, value in person_fid.items() if other != name]
    return abs(person_fid[name] - statistics.mean(others)) / statistics.stdev(others)


def main() -> None:
    rows = {seed: {name: row(path) for name, path in files.items()} for seed, files in FRAME_SETS.items()}
    first = min(rows)
    fid_first = {name: rows[first][name]["FID persons"] for name in RUNS}
    fid_mean = {name: statistics.mean(rows[seed][name]["FID persons"] for seed in rows) for name in RUNS}
    chosen = []
    for name in RUNS:
        targets = {seed: meets_targets(rows[seed][name], {b: rows[seed][b] for b in BASELINES}) for seed in rows}
        spread = (distance_from_others(name, fid_first), distance_from_others(name, fid_mean))
        reproduced = all(value <= SPREAD_LIMIT for value in spread)
        print(f"{name:34s} person FID {fid_first[name]:.1f} (set {first}), {fid_mean[name]:.1f} (three-set mean); "
              "targets " + ", ".join(f"{seed} {'met' if ok else 'missed'}" for seed, ok in targets.items())
              + f"; {spread[0]:.2f} / {spread[1]:.2f} sd from the other runs: "
              + ("reproduced" if reproduced else "not reproduced"))
        if all(targets.values()) and reproduced:
            chosen.append(name)
    if not chosen:
        print("no run meets both: the shipped model stays")
        return
    print(f"ship: {min(chosen, key=fid_mean.__getitem__)}")
    confirmation()


def confirmation() -> None:
    """rule.md's check on set 1506: person FID below every traditional method's, LPIPS-diversity >= 0.05, rank-1
    no higher than blur's; frame FID is printed, not judged."""
    if not all(path.is_file() for path in CONFIRMATION.values()):
        print("set 1506: not measured yet (run.sh)")
        return
    rows = {method: row(path) for method, path in CONFIRMATION.items()}
    for method, values in rows.items():
        print(f"set 1506 {method:9s} " + " / ".join(f"{value:.3f}" for value in values.values()))
    passed = meets_targets(rows["gan"], {method: values for method, values in rows.items() if method != "gan"})
    print("confirmation on set 1506: " + ("passed: ship it" if passed else "failed: the shipped model stays"))


if __name__ == "__main__":
    main()
