"""make_tables aggregates metrics.json files over seeds and reports missing runs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from scripts import make_tables


def rate(value: float, n: int = 100) -> dict:
    return {"rate": value, "count": round(value * n), "n": n}


def row(name: str, fid: float, not_anonymized: float, rank_1: float) -> dict:
    return {
        "name": name,
        "fidelity": {"raw": {"fid": fid, "kid_mean": fid / 1000, "kid_std": 0.001},
                     "composite": {"fid": fid / 2, "kid_mean": 0.0, "kid_std": 0.0}},
        "background": {"psnr_outside_box": 30.0, "ssim_outside_box": 0.9},
        "diversity": {"lpips": {"mean": 0.2}},
        "anonymity": {"rates": {"not_anonymized": rate(not_anonymized), "recall_at_rank_1": rate(0.02),
                                "similar_to_train": rate(0.05), "shared_identity": rate(0.3)},
                      "ranking": {"rank_1": rank_1, "mAP": rank_1 / 2}},
    }


def write_run(root: Path, name: str, fid: float, not_anonymized: float, blur_fid: float) -> None:
    folder = root / name / "test_best" / "evaluation"
    folder.mkdir(parents=True)
    metrics = {"rows": [row("model", fid, not_anonymized, 0.1), row("blur", blur_fid, 0.9, 0.8)]}
    (folder / "metrics.json").write_text(json.dumps(metrics))


def test_means_stds_and_missing_runs(tmp_path, capsys):
    results = tmp_path / "results"
    write_run(results, "EXP_SINGLE_STAGE_readme_seed12", 10.0, 0.00, 50.0)
    write_run(results, "EXP_SINGLE_STAGE_readme_seed22", 20.0, 0.02, 60.0)
    write_run(results, "EXP_SINGLE_STAGE_readme_seed32", 30.0, 0.04, 70.0)
    write_run(results, "EXP_PIX2PIX_readme_seed12", 40.0, 0.10, 80.0)
    assert make_tables.main([str(results), "--out", str(tmp_path / "tables"), "--seeds", "12,22,32"]) == 0

    table = (tmp_path / "tables" / "tables.md").read_text()
    single = next(line for line in table.splitlines() if line.startswith("| EXP_SINGLE_STAGE_readme |"))
    cells = [c.strip() for c in single.strip("|").split("|")]
    assert cells[1] == "12,22,32"
    assert cells[2] == "20.000 ± 10.000"  # FID over three seeds: mean 20, sample std 10
    assert cells[8] == "0.020 ± 0.020"  # not anonymized
    assert "Missing runs: EXP_PIX2PIX_readme_seed22, EXP_PIX2PIX_readme_seed32" in table
    blur = next(line for line in table.splitlines() if line.startswith("| blur |"))
    assert "65.000 ± 12.910" in blur  # the baseline over all four runs
    assert "0.033 (4/120)" in table  # the thesis anchors are printed beside

    with (tmp_path / "tables" / "tables.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    fid = next(r for r in rows if r["name"] == "EXP_SINGLE_STAGE_readme" and r["column"] == "FID")
    assert math.isclose(float(fid["mean"]), 20.0) and math.isclose(float(fid["std"]), 10.0) and fid["n"] == "3"
    assert "EXP_SINGLE_STAGE_readme" in capsys.readouterr().out


def test_expected_experiment_without_any_run_is_reported(tmp_path):
    results = tmp_path / "results"
    write_run(results, "EXP_SINGLE_STAGE_readme_seed12", 10.0, 0.0, 50.0)
    make_tables.main([str(results), "--out", str(tmp_path / "t"), "--seeds", "12",
                      "--experiments", "EXP_SINGLE_STAGE_readme,EXP_TWO_STAGE_readme"])
    assert "Missing runs: EXP_TWO_STAGE_readme_seed12" in (tmp_path / "t" / "tables.md").read_text()


def test_no_metrics_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        make_tables.main([str(tmp_path), "--out", str(tmp_path / "t")])
    assert exit_info.value.code == 2
    assert "no metrics.json under" in capsys.readouterr().err
