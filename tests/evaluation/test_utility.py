"""python -m evaluation.utility: a tiny end-to-end study (anonymize, fixed detector, train, test, table)."""

from __future__ import annotations

import json

import pytest

from evaluation import utility
from synthetic import make_demo_data


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("utility") / "demo"
    assert make_demo_data.main(["--out", str(root), "--frames", "7", "--size", "512x256", "--seed", "1733",
                                "--quiet"]) == 0
    return root


def study(frames, out, *extra):
    return utility.main(["--frames", str(frames / "leftImg8bit"), "--annotations", str(frames / "gtBboxCityPersons"),
                         "--out", str(out), "--methods", "original,mask", "--seeds", "0,1", "--steps", "2",
                         "--batch_size", "1", "--crop", "64x128", "--quiet", *extra])


def test_tiny_study_writes_the_table_and_resumes(frames, tmp_path, capsys):
    out = tmp_path / "study"
    assert study(frames, out) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["command"].startswith("python -m evaluation.utility --frames")
    assert metrics["git_commit"] and metrics["date"] and metrics["machine"]
    trained = metrics["trained"]["results"]
    assert [r["seed"] for r in trained["mask"]] == [0, 1]
    # every detector was tested on the same original test frames with the same boxes
    positives = {r["bins"]["all"]["positives"] for runs in trained.values() for r in runs}
    assert len(positives) == 1 and positives.pop() > 0
    for runs in trained.values():
        for result in runs:
            assert 0.0 <= result["bins"]["all"]["AP"] <= result["bins"]["all"]["AP50"] <= 1.0
    table = metrics["trained"]["table"]
    for key in ("AP50_all", "AP_all"):
        values = table["mask"][key]["values"]
        base = table["original"][key]["values"]
        drop = table["mask"][key]["drop_mean_std"][0]
        assert drop == pytest.approx(sum(b - v for b, v in zip(base, values, strict=True)) / 2)
    # the fixed detector saw the masked test frames: the masked people are found less often than the originals
    fixed = metrics["fixed"]["results"]
    assert fixed["mask"][0]["bins"]["all"]["recall50"] < fixed["original"][0]["bins"]["all"]["recall50"]
    assert (out / "frames" / "mask" / "test" / "report.json").exists()
    text = (out / "utility.md").read_text()
    assert "| original |" in text and "| mask |" in text and "Command: `python -m evaluation.utility" in text
    # a rerun reuses every result: nothing is trained again
    stamps = {p: p.stat().st_mtime_ns for p in (out / "trained").rglob("*.json")}
    capsys.readouterr()
    assert study(frames, out) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "trained").rglob("*.json")} == stamps
    # other settings would mix old and new results: refused with one line naming what changed
    capsys.readouterr()
    assert study(frames, out, "--steps", "3") == 2
    assert "other settings (steps)" in capsys.readouterr().err


def test_bad_flags_get_one_line_errors(frames, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        study(frames, tmp_path / "x", "--methods", "original,sharpen")
    assert exit_info.value.code == 2
    assert "expected distinct methods" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        study(frames, tmp_path / "x", "--test_split", "nope")
    assert "no nope/ folder" in capsys.readouterr().err
