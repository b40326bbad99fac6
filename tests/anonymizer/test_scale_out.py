"""torchrun anonymize.py: the inputs are shared out between processes, each output is written by exactly one,
rank 0 writes one merged report, and a rerun skips what is done."""

from __future__ import annotations

import json

from tests.models.test_distributed import torchrun

from .test_anonymize_cli import run


def test_torchrun_shards_inputs_writes_each_once_and_merges_one_report(demo_frames, tmp_path):
    flags = ["-i", str(demo_frames / "leftImg8bit"), "-a", str(demo_frames / "gtBboxCityPersons"),
             "-o", str(tmp_path / "dist"), "--method", "pixelate", "--quiet"]
    torchrun("anonymize.py", *flags, timeout=900)  # two process start-ups: slow on a loaded machine
    data = json.loads((tmp_path / "dist" / "report.json").read_text())
    assert data["processes"] == 2 and not list((tmp_path / "dist").glob("report*.rank*"))
    ranks = {entry["image"]: entry["rank"] for entry in data["frames"]}
    assert sorted(ranks) == sorted(str(p) for p in (demo_frames / "leftImg8bit").rglob("*.png"))
    assert set(ranks.values()) == {0, 1}  # both processes worked, each image appears once
    assert all(entry["status"] == "written" for entry in data["frames"])
    assert run(demo_frames, tmp_path / "single", "--method", "pixelate") == 0
    for produced in sorted((tmp_path / "dist").rglob("*.png")):  # the same bytes as one process
        assert produced.read_bytes() == (tmp_path / "single" / produced.relative_to(tmp_path / "dist")).read_bytes()
    torchrun("anonymize.py", *flags, timeout=900)  # resumable: everything already written is skipped
    rerun = json.loads((tmp_path / "dist" / "report.json").read_text())
    assert all(entry["status"].startswith("skipped") for entry in rerun["frames"])
