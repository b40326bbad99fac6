"""The readings of rule_run_spread.md, rule_more_frame_sets.md, rule_shape_baselines.md, rule_fifth_run.md,
rule_second_stage_seeds.md and rule_fresh_discriminators.md from the runs' evaluation files, from the repository root:
    python docs/results/demo_model/spread/pool_full_runs.py
Prints each pooled run's held-out row, the reruns' mean and sample standard deviation of person FID, the verdict
and the counts against the traditional methods (../heldout48/evaluations/); then the same runs on the three
48-frame held-out sets (seeds 1502, 1503, 1504; evaluations/frame_sets/); then the runs in person shapes against
the traditional methods in the same shapes (evaluations/shape_baselines/); then the seed-1541 first stage's
second stages with three training seeds (evaluations/second_stage_seeds/); then the second stages with fresh
discriminators (evaluations/fresh_discriminators/)."""

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
# The model shipped until 2026-12-06, whose spread these rules measured (its rows now in
# ../previous_default_inpaint_seed1501/; ../representative_model/ replaced it by the seed-1541 run).
SHIPPED = "shipped to 12-06 (seed 1501, AMD)"
PREVIOUS = RESULTS / "previous_default_inpaint_seed1501/evaluations"
RUNS = {
    SHIPPED: PREVIOUS / "gan_48frames.json",
    "reproduction (seed 1501, Intel)": RESULTS / "reproduction/evaluations/gan_48frames.json",
    "seed 1541 (Intel)": HERE / "evaluations/seed1541_full_run_gan_48frames.json",
    "seed 1551 (Intel)": HERE / "evaluations/seed1551_full_run_gan_48frames.json",
    "seed 1561 (Intel)": HERE / "evaluations/seed1561_full_run_gan_48frames.json",
}
BASELINES = {name: RESULTS / f"heldout48/evaluations/{name}.json" for name in ("pixelate", "blur")}
# Section 5's files are evaluations/frame_sets/<key>_<held-out seed>.json; the seed-1502 rows are section 4's.
FILE_KEYS = dict(zip([*RUNS, *BASELINES],
                     ["shipped", "reproduction", "seed1541", "seed1551", "seed1561", "pixelate", "blur"], strict=True))
FRAME_SETS = {
    1502: {**RUNS, **BASELINES},
    **{seed: {name: HERE / f"evaluations/frame_sets/{key}_{seed}.json" for name, key in FILE_KEYS.items()}
       for seed in (1503, 1504)},
}
SHAPES = {
    SHIPPED: PREVIOUS / "gan_shape_48frames.json",
    "reproduction (seed 1501, Intel)": HERE / "evaluations/reproduced_gan_shape_48frames.json",
    "seed 1541 (Intel)": HERE / "evaluations/frame_sets/seed1541_shape_1502.json",
    "seed 1551 (Intel)": HERE / "evaluations/frame_sets/seed1551_shape_1502.json",
    "seed 1561 (Intel)": HERE / "evaluations/frame_sets/seed1561_shape_1502.json",
}

# rule_second_stage_seeds.md: the seed-1541 first stage's second stages, by the second stage's training seed.
SECOND_STAGE_SEEDS = {
    1501: RUNS["seed 1541 (Intel)"],
    **{seed: HERE / f"evaluations/second_stage_seeds/seed1541_stage2_seed{seed}_gan_48frames.json"
       for seed in (2541, 3541)},
}

# rule_fresh_discriminators.md: each first stage's recipe second stage(s), and its second stage with fresh
# discriminators started from the first stage's exported moving-average generator.
FRESH_DISCRIMINATORS = {
    "reproduction (A)": ([RUNS["reproduction (seed 1501, Intel)"]],
                         HERE / "evaluations/fresh_discriminators/reproduction_gan_48frames.json"),
    "seed 1541 (B)": (list(SECOND_STAGE_SEEDS.values()),
                      HERE / "evaluations/fresh_discriminators/seed1541_gan_48frames.json"),
}

SHAPE_BASELINES = {f"{name}_shape": HERE / f"evaluations/shape_baselines/{name}_shape_1502.json"
                   for name in ("pixelate", "blur", "mask", "noise")}


def row(metrics_file: Path) -> dict[str, float]:
    numbers = row_numbers(json.loads(metrics_file.read_text(encoding="utf-8")))
    return {column: numbers[column] for column in COLUMNS}


def main() -> None:
    rows = {name: row(path) for name, path in RUNS.items()}
    baselines = {name: row(path) for name, path in BASELINES.items()}
    for name, values in {**rows, **baselines}.items():
        print(f"{name:34s} " + " / ".join(f"{value:.3f}" for value in values.values()))
    print_spread("reruns' person FID", {name: values["FID persons"] for name, values in rows.items()})
    counts(rows, baselines)
    frame_sets()
    shapes()
    second_stage_seeds(rows, baselines)
    fresh_discriminators()


def print_spread(label: str, person_fid: dict[str, float]) -> None:
    """The rules' reading: the shipped run's distance from the reruns' mean in their sample sd (met within 2)."""
    reruns = [value for name, value in person_fid.items() if name != SHIPPED]
    mean, sd = statistics.mean(reruns), statistics.stdev(reruns)
    distance = abs(person_fid[SHIPPED] - mean) / sd
    print(f"{label}: mean {mean:.1f}, sd {sd:.1f}; shipped {person_fid[SHIPPED]:.1f} is {distance:.2f} sd from it: "
          f"{'met' if distance <= 2 else 'missed'}")


def counts(rows: dict[str, dict[str, float]], baselines: dict[str, dict[str, float]]) -> None:
    for metric in ("FID persons", "FID frames"):
        for baseline in ("pixelate", "blur"):
            below = sum(values[metric] < baselines[baseline][metric] for values in rows.values())
            print(f"{metric} below {baseline}'s ({baselines[baseline][metric]:.1f}): {below} of {len(rows)} runs")
    diverse = sum(values["LPIPS-diversity"] >= 0.05 for values in rows.values())
    print(f"LPIPS-diversity >= 0.05: {diverse} of {len(rows)} runs")
    blur_rank1 = baselines["blur"]["re-ID rank-1"]
    anonymous = sum(values["re-ID rank-1"] <= blur_rank1 for values in rows.values())
    print(f"rank-1 <= blur's ({blur_rank1:.3f}): {anonymous} of {len(rows)} runs")


def frame_sets() -> None:
    """Person FID of every run and baseline on each held-out set, their means over the sets, the spread reading
    on those means and the (run, set) pairs below pixelation (rule_more_frame_sets.md)."""
    fid = {seed: {name: row(path)["FID persons"] for name, path in files.items()}
           for seed, files in FRAME_SETS.items()}
    names = list(fid[1502])
    print("\nperson FID on the held-out sets " + ", ".join(str(seed) for seed in fid) + ", and their mean:")
    means = {}
    for name in names:
        values = [fid[seed][name] for seed in fid]
        means[name] = statistics.mean(values)
        print(f"{name:34s} " + " / ".join(f"{value:.1f}" for value in values) + f"  mean {means[name]:.1f}")
    print_spread("reruns' three-set means", {name: means[name] for name in RUNS})
    below = sum(fid[seed][name] < fid[seed]["pixelate"] for seed in fid for name in RUNS)
    print(f"(run, set) pairs below that set's pixelation: {below} of {len(RUNS) * len(fid)}")
    print("runs whose three-set mean is below pixelation's: "
          f"{sum(means[name] < means['pixelate'] for name in RUNS)} of {len(RUNS)}")


def shapes() -> None:
    """The runs painting each person in their own shape on the seed-1502 set, against each traditional method
    replacing the same grown shapes (rule_shape_baselines.md)."""
    print("\nin the persons' own shapes (seed 1502):")
    rows = {name: row(path) for name, path in SHAPES.items()}
    baselines = {name: row(path) for name, path in SHAPE_BASELINES.items()}
    for name, values in {**rows, **baselines}.items():
        print(f"{name:34s} " + " / ".join(f"{value:.3f}" for value in values.values()))
    for baseline in ("pixelate_shape", "blur_shape"):
        for metric in ("FID persons", "FID frames"):
            limit = baselines[baseline][metric]
            print(f"{metric} below {baseline}'s ({limit:.1f}): "
                  f"{sum(values[metric] < limit for values in rows.values())} of {len(rows)} runs")


def second_stage_seeds(rows: dict[str, dict[str, float]], baselines: dict[str, dict[str, float]]) -> None:
    """The sample sd of one first stage's second stages against the reruns' sd (rule_second_stage_seeds.md);
    ``rows`` and ``baselines`` are main's seed-1502 rows."""
    fid = {seed: row(path)["FID persons"] for seed, path in SECOND_STAGE_SEEDS.items() if path.is_file()}
    print("\nthe seed-1541 first stage, second stages by training seed (seed 1502 set): "
          + ", ".join(f"{seed}: {value:.1f}" for seed, value in fid.items()))
    if len(fid) < len(SECOND_STAGE_SEEDS):
        print("not every second stage is measured: no reading")
        return
    sd = statistics.stdev(fid.values())
    reruns_sd = statistics.stdev(values["FID persons"] for name, values in rows.items() if name != SHIPPED)
    verdict = ("the second stage alone makes at least about half of the spread" if sd >= 3.5 else
               "the spread comes mostly from the first stage" if sd < 2.5 else "undecided")
    pixelate = baselines["pixelate"]["FID persons"]
    print(f"sd {sd:.1f} against the reruns' {reruns_sd:.1f}: {verdict}; "
          f"below pixelation's {pixelate:.1f}: {sum(value < pixelate for value in fid.values())} of {len(fid)}")


def fresh_discriminators() -> None:
    """rule_fresh_discriminators.md: helps (both >= 3 points better), narrows (the gap <= 7.8 with neither > 2
    points worse), or neither."""
    print("\nsecond stages with fresh discriminators (seed 1502 set), against the recipe's second stage(s):")
    change, fresh_fid, recipe_fid, targets_met = {}, {}, {}, []
    blur_rank1 = row(BASELINES["blur"])["re-ID rank-1"]
    for name, (recipe_files, fresh_file) in FRESH_DISCRIMINATORS.items():
        if not fresh_file.is_file():
            print(f"{name}: not measured: no reading")
            return
        recipe_fid[name] = statistics.mean(row(path)["FID persons"] for path in recipe_files)
        fresh = row(fresh_file)
        fresh_fid[name] = fresh["FID persons"]
        change[name] = fresh_fid[name] - recipe_fid[name]
        targets_met.append(fresh["LPIPS-diversity"] >= 0.05 and fresh["re-ID rank-1"] <= blur_rank1)
        print(f"{name:18s} " + " / ".join(f"{value:.3f}" for value in fresh.values())
              + f"; recipe {recipe_fid[name]:.1f}, change {change[name]:+.1f}")
    (a, b) = FRESH_DISCRIMINATORS
    gap_before, gap_after = recipe_fid[a] - recipe_fid[b], fresh_fid[a] - fresh_fid[b]
    helps = all(targets_met) and all(value <= -3 for value in change.values())
    narrows = all(targets_met) and gap_after <= gap_before - 5 and all(value <= 2 for value in change.values())
    verdict = "helps" if helps else "narrows" if narrows else "neither helps nor narrows"
    print(f"A - B gap {gap_before:.1f} -> {gap_after:.1f}: {verdict}")


if __name__ == "__main__":
    main()
