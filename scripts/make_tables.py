"""Aggregate evaluation results (``metrics.json`` files) into thesis-style tables: mean ± std over seeds.

    python scripts/make_tables.py RESULTS_ROOT [RESULTS_ROOT ...] --out DIR [--seeds 12,22,32]
        [--experiments EXP_SINGLE_STAGE_readme,...]

Each ``metrics.json`` is found under a run folder named ``<experiment>_seed<N>`` (as the experiment scripts name
them); its model row is aggregated per experiment over seeds, its baseline rows (identical inputs in every run) over
all runs. Writes ``tables.md`` and ``tables.csv`` and prints the Markdown with the thesis's reported numbers
beside it. Missing runs — an expected seed or experiment without a metrics.json — are listed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.columns import CROP_COLUMNS  # noqa: E402
from util.cli import one_line, os_error_text  # noqa: E402
from util.fileio import atomic_write_text  # noqa: E402

RUN_NAME = re.compile(r"^(?P<experiment>.+)_seed(?P<seed>\d+)$")

# The thesis's stored numbers: threshold 0.22, OSNet-AIN trained on DukeMTMC-reID.
THESIS_ANCHORS = [
    {"run": "single stage (psgan), seed 12, best, val (n=120)", "not anonymized": "0.000 (0/120)",
     "recall@1": "0.033 (4/120)", "similar to train": "0.050 (6/120)", "shared identity": "0.325 (39/120)"},
    {"run": "pix2pix, seed 32, latest, test (n=429)", "not anonymized": "0.005 (2/429)",
     "recall@1": "0.019 (8/429)", "similar to train": "0.035 (15/429)", "shared identity": "0.564 (242/429)"},
]


def find_runs(roots: list[Path]) -> list[tuple[str, int, Path]]:
    """(experiment, seed, metrics.json) for every metrics.json below a folder named ``<experiment>_seed<N>``."""
    runs = []
    for root in roots:
        for path in sorted(root.rglob("metrics.json")):
            match = next((RUN_NAME.match(part) for part in reversed(path.parts) if RUN_NAME.match(part)), None)
            if match is None:
                print(f"[tables] skipped {path}: no '<experiment>_seed<N>' folder above it", file=sys.stderr)
                continue
            runs.append((match["experiment"], int(match["seed"]), path))
    return runs


BASELINES = ("blur", "pixelate", "mask", "noise")


def model_row(metrics: dict) -> dict:
    """The row of the evaluated model (the one that is not a traditional baseline)."""
    rows = [row for row in metrics["rows"] if row["name"] not in BASELINES]
    if len(rows) != 1:
        raise ValueError(f"expected one model row, found {len(rows)}")
    return rows[0]


def mean_std(values: list[float]) -> tuple[float, float, int]:
    if not values:
        return float("nan"), float("nan"), 0
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0), len(values)


class TablesError(ValueError):
    """A metrics.json that cannot be read; the message names it."""


def aggregate(runs: list[tuple[str, int, Path]]) -> tuple[dict, dict]:
    """{experiment: {column: [values per seed]}, "seeds": ...} for models, and the same for baselines."""
    models: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    baselines: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for experiment, seed, path in runs:
        try:
            metrics = json.loads(path.read_text())
            model = model_row(metrics)
            add_row(models[experiment], model)
            for row in metrics["rows"]:
                if row is not model:
                    add_row(baselines[row["name"]], row)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise TablesError(f"{path}: not a metrics.json of python -m evaluation.evaluate "
                              f"({one_line(error)})") from None
        models[experiment]["seeds"].append(seed)
    return models, baselines


def add_row(group: dict[str, list[float]], row: dict) -> None:
    for column in CROP_COLUMNS:
        value = column.value(row)
        if value is not None:
            group[column.name].append(value)


def table_rows(groups: dict) -> list[list[str]]:
    rows = []
    for name in sorted(groups):
        cells = [name, ",".join(str(s) for s in sorted(groups[name].get("seeds", []))) or "all runs"]
        for column in CROP_COLUMNS:
            mean, std, n = mean_std(groups[name].get(column.name, []))
            cells.append("n/a" if n == 0 else f"{mean:.3f} ± {std:.3f}")
        rows.append(cells)
    return rows


def missing_runs(runs: list[tuple[str, int, Path]], seeds: list[int], experiments: list[str]) -> list[str]:
    found = {(experiment, seed) for experiment, seed, _ in runs}
    wanted = experiments or sorted({experiment for experiment, _, _ in runs})
    return [f"{experiment}_seed{seed}" for experiment in wanted for seed in seeds if (experiment, seed) not in found]


def render_markdown(models: dict, baselines: dict, missing: list[str]) -> str:
    header = ["experiment", "seeds"] + [column.name for column in CROP_COLUMNS]
    lines = ["## Models (mean ± std over seeds)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(models)]
    lines += ["", "## Traditional baselines (mean ± std over all runs)", "", "| " + " | ".join(header) + " |",
              "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(baselines)]
    anchor_columns = ["run", "not anonymized", "recall@1", "similar to train", "shared identity"]
    lines += ["", "## The thesis's reported numbers (threshold 0.22, OSNet-AIN/Duke)", "",
              "| " + " | ".join(anchor_columns) + " |", "|" + "---|" * len(anchor_columns)]
    lines += ["| " + " | ".join(anchor[c] for c in anchor_columns) + " |" for anchor in THESIS_ANCHORS]
    lines += ["", "Missing runs: " + (", ".join(missing) if missing else "none"), ""]
    return "\n".join(lines)


def render_csv(models: dict, baselines: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["kind", "name", "column", "mean", "std", "n"])
    for kind, groups in (("model", models), ("baseline", baselines)):
        for name in sorted(groups):
            for column in CROP_COLUMNS:
                mean, std, n = mean_std(groups[name].get(column.name, []))
                writer.writerow([kind, name, column.name, f"{mean:.6g}", f"{std:.6g}", n])
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/make_tables.py", description=__doc__.split("\n")[0])
    parser.add_argument("roots", nargs="+", type=Path, help="folders searched for metrics.json")
    parser.add_argument("--out", type=Path, required=True, help="folder for tables.md and tables.csv")
    parser.add_argument("--seeds", default="12,22,32", help="seeds every experiment should have")
    parser.add_argument("--experiments", default="", help="experiments that should exist (comma-separated)")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    for root in args.roots:
        if not root.is_dir():
            parser.error(f"{root}: not a folder")
    runs = find_runs(args.roots)
    if not runs:
        parser.error(f"no metrics.json under {', '.join(map(str, args.roots))} in a '<experiment>_seed<N>' folder")
    try:
        models, baselines = aggregate(runs)
        missing = missing_runs(runs, seeds, [e for e in args.experiments.split(",") if e])
        text = render_markdown(models, baselines, missing)
        atomic_write_text(args.out / "tables.md", text)
        atomic_write_text(args.out / "tables.csv", render_csv(models, baselines))
    except TablesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
