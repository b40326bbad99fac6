"""python -m evaluation.evaluate on full frames: frame and person-crop FID/KID, LPIPS-diversity, anonymity."""

from __future__ import annotations

import json
from pathlib import Path

import anonymize
from evaluation import evaluate, runner
from tests.evaluation.test_evaluate import TinyInception


def anonymized(frames: Path, out: Path, method: str, seed: int) -> Path:
    code = anonymize.main(["-i", str(frames / "leftImg8bit"), "-a", str(frames / "gtBboxCityPersons"),
                           "-o", str(out), "--method", method, "--seed", str(seed), "--quiet"])
    assert code == 0
    return out


def evaluate_frames(frames: Path, anon: Path, second: Path, out: Path) -> dict:
    argv = ["--frames_dir", str(anon), "--original_frames", str(frames / "leftImg8bit"),
            "--annotations", str(frames / "gtBboxCityPersons"), "--second_sample", str(second),
            "--out", str(out), "--reid_model", "alexnet", "--allow_random_reid", "--quiet"]
    assert evaluate.main(argv) == 0
    return json.loads((out / "metrics.json").read_text())


def test_frames_report_person_fidelity_and_diversity(crop_dataroot, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "load_fid_extractor", lambda *args, **kwargs: TinyInception(tmp_path / "tiny.pth"))
    frames = crop_dataroot.parent / "frames"
    noise = [anonymized(frames, tmp_path / f"noise{seed}", "noise", seed) for seed in (0, 1)]
    blur = anonymized(frames, tmp_path / "blur", "blur", 0)

    random_method = evaluate_frames(frames, noise[0], noise[1], tmp_path / "eval_noise")
    persons = random_method["anonymity"]["n"]
    assert persons >= 4
    assert random_method["person_fidelity"]["n_fake"] == persons == random_method["person_fidelity"]["n_real"]
    assert random_method["fidelity"]["n_fake"] == random_method["n"]
    # Two noise fillings of the same box differ; two blurs of it are identical.
    assert random_method["diversity"]["mean"] > 0.05
    assert random_method["diversity"]["n_inputs"] == persons
    deterministic = evaluate_frames(frames, blur, blur, tmp_path / "eval_blur")
    assert deterministic["diversity"]["mean"] == 0.0
    table = (tmp_path / "eval_noise" / "metrics.md").read_text()
    assert "FID persons" in table and "LPIPS-diversity" in table


def test_second_sample_must_mirror_the_frames(crop_dataroot, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "load_fid_extractor", lambda *args, **kwargs: TinyInception(tmp_path / "tiny.pth"))
    frames = crop_dataroot.parent / "frames"
    blur = anonymized(frames, tmp_path / "blur", "blur", 0)
    (tmp_path / "empty").mkdir()
    code = evaluate.main(["--frames_dir", str(blur), "--original_frames", str(frames / "leftImg8bit"),
                          "--annotations", str(frames / "gtBboxCityPersons"), "--second_sample",
                          str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--reid_model", "alexnet",
                          "--allow_random_reid", "--quiet"])
    assert code == 2 and "--second_sample: no second sample" in capsys.readouterr().err
