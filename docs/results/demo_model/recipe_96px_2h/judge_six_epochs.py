"""rule_six_epochs.md's readings, from the repository root:
    python docs/results/demo_model/recipe_96px_2h/judge_six_epochs.py
(1) whether the 6-epoch second stage retraced session 36's pilot (validation FIDs, set-1502 person FID); (2) its
rows on sets 1502-1504 and the README's 12 frames against the traditional methods and the shipped model, with issue
15's targets on each, and the 1 + 3 epoch run's person FID beside them."""

from __future__ import annotations

import re
import statistics

from judge import HERE, RESULTS, SETS_48, SHIPPED, meets_targets, row, traditional_rows

PILOT_VALIDATION = RESULTS / "resolution_floor/second_stage_96px_seed1541_validation_fid.txt"
PILOT_1502 = RESULTS / "resolution_floor/evaluations/second_stage_96px_seed1541_gan_48frames.json"
VALIDATION = HERE / "six_epochs_validation_fid.txt"


def validation_fids(path) -> list[str]:
    return re.findall(r"epoch: (\d+), iters: \d+, frechet_inception_distance: ([0-9.]+)", path.read_text())


def main() -> None:
    sets = {seed: HERE / f"evaluations/six_epochs_{seed}.json" for seed in SETS_48}
    sets["12 frames"] = HERE / "heldout12_six_epochs/evaluations/gan.json"
    missing = [path for path in [*sets.values(), VALIDATION] if not path.is_file()]
    if missing:
        print("not measured yet: " + ", ".join(str(path) for path in missing))
        return
    rerun_validation, pilot_validation = validation_fids(VALIDATION), validation_fids(PILOT_VALIDATION)
    pilot, rerun = row(PILOT_1502)["FID persons"], row(sets[1502])["FID persons"]
    print(f"(1) validation FIDs {rerun_validation}: " + ("the pilot's" if rerun_validation == pilot_validation else
          f"not the pilot's {pilot_validation}") + f"; set 1502 person FID {rerun:.3f} (pilot {pilot:.3f})")
    shipped = {seed: row(path)["FID persons"] for seed, path in SHIPPED.items()}
    shipped["12 frames"] = row(RESULTS / "evaluations/gan.json")["FID persons"]
    short = {seed: row(HERE / f"evaluations/gan_{seed}.json")["FID persons"] for seed in SETS_48}
    short["12 frames"] = row(HERE / "heldout12/evaluations/gan.json")["FID persons"]
    traditional = traditional_rows()
    print("(2) set: 6 epochs person FID / KID / frame FID / LPIPS / rank-1; 1 + 3 epochs; shipped; pixelation")
    for key, path in sets.items():
        values = row(path)
        met = meets_targets(values, traditional[key])
        print(f"    {key}: " + " / ".join(f"{value:.3f}" for value in values.values())
              + f"; {short[key]:.1f}; {shipped[key]:.1f}; {traditional[key]['pixelate']['FID persons']:.1f}: "
              + ("targets met" if met else "targets missed"))
    mean = statistics.mean(row(sets[seed])["FID persons"] for seed in SETS_48)
    print(f"    mean over {', '.join(map(str, SETS_48))}: {mean:.1f} (1 + 3 epochs "
          f"{statistics.mean(short[seed] for seed in SETS_48):.1f}, shipped "
          f"{statistics.mean(shipped[seed] for seed in SETS_48):.1f})")


if __name__ == "__main__":
    main()
