"""anonymize.py end to end on tiny demo frames: every method, fail-closed fallbacks, reruns, inputs, skipping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from anonymizer import actions, cli
from anonymizer.generator import Window, WindowGenerator, load_model_file, random_model
from anonymizer.verify import measure
from data.silhouettes import load_bank
from models.loading import export_model_file


def run(frames: Path, out: Path, *extra: str, annotations: Path | None = None) -> int:
    return cli.main(["-i", str(frames / "leftImg8bit"), "-a", str(annotations or frames / "gtBboxCityPersons"),
                     "-o", str(out), "--quiet", *extra])


def gan_flags(checkpoints: Path, *extra: str) -> list[str]:
    return ["--method", "gan", "--name", "tiny", "--epoch", "latest", "--checkpoints_dir", str(checkpoints), *extra]


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def rgb(path: str | Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def check_frames(out: Path, blend_px: int = 0) -> list[dict]:
    """Every written frame: boxes replaced, everything outside the boxes byte-identical. Returns the persons."""
    persons = []
    for frame in report(out)["frames"]:
        assert frame["status"] == "written", frame
        before, after = rgb(frame["image"]), rgb(frame["output"])
        inside = np.zeros(before.shape[:2], dtype=bool)
        for person in frame["persons"]:
            x1, y1, x2, y2 = person["box_in_frame"]
            inside[y1:y2, x1:x2] = True
            region_before, region_after = before[y1:y2, x1:x2], after[y1:y2, x1:x2]
            assert not np.array_equal(region_before, region_after) or len(np.unique(region_before)) == 1
            assert measure(region_before, region_after).problem() is None, person
            persons.append(person)
        assert np.array_equal(before[~inside], after[~inside]), "pixels outside the boxes changed"
    assert persons, "no person was anonymized"
    return persons


@pytest.mark.parametrize("method", ["blur", "pixelate", "mask", "noise"])
def test_traditional_methods_replace_every_box_and_nothing_else(demo_frames, tmp_path, method):
    assert run(demo_frames, tmp_path, "--method", method) == 0
    persons = check_frames(tmp_path)
    assert {p["method"] for p in persons} == {method}
    labels = {p["label"] for p in persons}
    assert "ignore" not in labels and "pedestrian" in labels


@pytest.mark.parametrize("extra", [(), ("--blend_px", "2", "--batch_size", "3")], ids=["hard", "blend-batch3"])
def test_gan_replaces_every_box_and_nothing_else(demo_frames, tiny_run, tmp_path, extra):
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run, *extra)) == 0
    persons = check_frames(tmp_path)
    by_method = {p["method"] for p in persons}
    assert "gan" in by_method
    # People below the model's minimum side (8 px at crop 64) go to the fallback, with the reason.
    for person in persons:
        if person["method"] != "gan":
            assert person["method"] == "pixelate" and person["fallback_reason"]
    assert report(tmp_path)["options"]["model"]["bbox_noise"] == "random"


def test_reruns_are_byte_identical_and_batching_matches_sequential(demo_frames, tiny_run, tmp_path):
    outs = [tmp_path / name for name in ("a", "b", "c", "d")]
    assert run(demo_frames, outs[0], *gan_flags(tiny_run)) == 0
    assert run(demo_frames, outs[1], *gan_flags(tiny_run)) == 0
    # In eval mode the tiny model (no noise) is deterministic per window, so batching must equal one at a time.
    assert run(demo_frames, outs[2], *gan_flags(tiny_run, "--network_mode", "eval", "--batch_size", "1")) == 0
    assert run(demo_frames, outs[3], *gan_flags(tiny_run, "--network_mode", "eval", "--batch_size", "8")) == 0
    assert report(outs[0])["options"]["model"]["network_mode"].startswith("train")  # a run's default: as test.py
    assert report(outs[2])["options"]["model"]["network_mode"].startswith("eval")
    for first, second in ((outs[0], outs[1]), (outs[2], outs[3])):
        files = sorted(p.relative_to(first) for p in first.rglob("*.png"))
        assert files
        for rel in files:
            assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_generator_exception_falls_back_for_every_person(demo_frames, tiny_run, tmp_path, monkeypatch):
    def broken(self, windows, seed):
        raise RuntimeError("simulated generator failure")

    monkeypatch.setattr(cli.WindowGenerator, "__call__", broken)
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run)) == 0  # a person fallback is not a failure
    persons = check_frames(tmp_path)
    assert all(p["method"] == "pixelate" for p in persons)
    assert any("simulated generator failure" in p["fallback_reason"] for p in persons)
    assert report(tmp_path)["totals"]["persons_fallback"] == len(persons)


def test_non_finite_generator_output_falls_back(demo_frames, tiny_run, tmp_path, monkeypatch):
    real_load = cli.load_model

    def load_nan_model(*args, **kwargs):
        model = real_load(*args, **kwargs)
        model.netG.forward = lambda x: torch.full((x.shape[0], 3, *x.shape[2:]), float("nan"))
        return model

    monkeypatch.setattr(cli, "load_model", load_nan_model)
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run, "--fallback", "noise")) == 0
    persons = check_frames(tmp_path)
    assert {p["method"] for p in persons} == {"noise"}
    assert any(p["fallback_reason"] == "non-finite generator output" for p in persons)


def test_corrupt_frame_fails_alone_with_nonzero_exit(demo_frames, tmp_path, capsys):
    frames = tmp_path / "frames"
    shutil.copytree(demo_frames, frames)
    images = sorted((frames / "leftImg8bit").rglob("*.png"))
    images[0].write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    assert run(frames, tmp_path / "out", "--method", "pixelate") == 1
    assert "not an image file" in capsys.readouterr().err
    statuses = {Path(f["image"]).name: f["status"] for f in report(tmp_path / "out")["frames"]}
    assert statuses[images[0].name] == "failed"
    assert [s for name, s in statuses.items() if name != images[0].name] == ["written"] * (len(images) - 1)
    assert len(list((tmp_path / "out").rglob("*.png"))) == len(images) - 1


def test_existing_outputs_are_skipped_unless_overwrite(demo_frames, tmp_path):
    assert run(demo_frames, tmp_path, "--method", "mask") == 0
    outputs = sorted(tmp_path.rglob("*.png"))
    good = outputs[0].read_bytes()
    outputs[0].write_bytes(b"stale")
    assert run(demo_frames, tmp_path, "--method", "mask") == 0
    assert outputs[0].read_bytes() == b"stale"
    assert all(f["status"].startswith("skipped") for f in report(tmp_path)["frames"])
    assert run(demo_frames, tmp_path, "--method", "mask", "--overwrite") == 0
    assert outputs[0].read_bytes() == good


def citypersons_frames(frames: Path) -> list[tuple[Path, list[dict]]]:
    found = []
    for image in sorted((frames / "leftImg8bit").rglob("*.png")):
        stem = image.name.replace("_leftImg8bit.png", "")
        annotation = next((frames / "gtBboxCityPersons").rglob(f"{stem}_gtBboxCityPersons.json"))
        found.append((image, json.loads(annotation.read_text())["objects"]))
    return found


def test_coco_and_simple_json_give_the_same_frames_as_citypersons(demo_frames, tmp_path):
    assert run(demo_frames, tmp_path / "cp", "--method", "mask") == 0
    wanted = set(cli.DEFAULT_LABELS)
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}
    simple = []
    for k, (image, objects) in enumerate(citypersons_frames(demo_frames)):
        rel = image.relative_to(demo_frames / "leftImg8bit").as_posix()
        coco["images"].append({"id": k, "file_name": rel, "width": 512, "height": 256})
        boxes = [o["bbox"] for o in objects if o["label"] in wanted]
        # CityPersons boxes are inclusive ((w+1) x (h+1) pixels); COCO and simple boxes are exact.
        coco["annotations"] += [{"id": len(coco["annotations"]) + n, "image_id": k, "category_id": 1,
                                 "bbox": [x, y, w + 1, h + 1], "iscrowd": 0} for n, (x, y, w, h) in enumerate(boxes)]
        simple.append({"image": image.name, "boxes": [[x, y, x + w + 1, y + h + 1] for x, y, w, h in boxes]})
    for name, payload in (("coco", coco), ("simple", simple)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(payload))
        assert run(demo_frames, tmp_path / name, "--method", "mask", annotations=path) == 0
        for produced in sorted((tmp_path / name).rglob("*.png")):
            expected = tmp_path / "cp" / produced.relative_to(tmp_path / name)
            assert produced.read_bytes() == expected.read_bytes(), (name, produced)


def test_bad_command_lines_and_inputs_give_one_clear_error(demo_frames, tiny_run, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["-i", "x", "-a", "y", "-o", str(tmp_path), "--method", "gan", "--name", "run",
                  "--model_file", "m.pth"])
    assert "either --name" in capsys.readouterr().err
    # the tiny run draws no noise, so a truncation would change nothing: refused, naming the flag
    assert run(demo_frames, tmp_path / "t", *gan_flags(tiny_run, "--truncation", "0.5")) == 2
    assert "--truncation 0.5: the generator of tiny has no noise inputs" in capsys.readouterr().err
    for flags, message in ((("--method", "blur", "--truncation", "0.5"), "--method blur draws none"),
                           (("--method", "pixelate", "--poisson_blend"), "--method pixelate paints none"),
                           (("--truncation", "1.5"), "--truncation")):
        with pytest.raises(SystemExit):
            run(demo_frames, tmp_path, *flags)
        assert message in capsys.readouterr().err
    assert run(demo_frames, tmp_path, "--method", "gan", "--model_file", str(tmp_path / "missing.pth")) == 2
    assert "missing.pth: model file not found" in capsys.readouterr().err
    assert run(demo_frames, tmp_path, "--method", "gan", "--name", "missing_run",
               "--checkpoints_dir", str(tmp_path)) == 2
    assert "train_opt.json" in capsys.readouterr().err
    assert run(demo_frames, tmp_path, "--method", "blur", annotations=tmp_path / "nope.json") == 2
    assert "nope.json" in capsys.readouterr().err


def test_compare_writes_a_before_after_picture(demo_frames, tmp_path):
    picture = tmp_path / "compare.png"
    assert run(demo_frames, tmp_path / "out", "--method", "pixelate", "--compare", str(picture)) == 0
    image = cv2.imread(str(picture))
    assert image is not None and image.shape[1] == 512 and image.shape[0] > 2 * 256


def test_large_box_takes_the_scaled_window_and_tiny_box_the_fallback(demo_frames, tiny_run, tmp_path):
    image = sorted((demo_frames / "leftImg8bit").rglob("*.png"))[0]
    boxes = [[100, 20, 190, 250], [300, 100, 305, 104], [200, 100, 240, 150]]
    annotation = tmp_path / "boxes.json"
    annotation.write_text(json.dumps({"image": image.name, "boxes": boxes, "labels": ["person"] * 3}))
    assert cli.main(["-i", str(image), "-a", str(annotation), "-o", str(tmp_path / "out"), "--quiet",
                     *gan_flags(tiny_run, "--blend_px", "1")]) == 0
    persons = check_frames(tmp_path / "out")
    assert [(p["method"], p["path"]) for p in persons] == [("gan", "scaled"), ("pixelate", "box"), ("gan", "window")]
    assert "too small" in persons[1]["fallback_reason"]


# ---- issue 13: leaks, frame sizes, labels, incremental report, file names, wrong outputs --------------------------


def _clipped(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0, 255.0).astype(np.float32)


# Generators that return (almost) the original box: the old check, which only caught bit-exact copies, let all
# three through (a person's own pixels in the written frame).
ADVERSARIES = {
    "original + 1": lambda window, rng: _clipped(window.pixels + 1.0),
    "original + N(0, 2)": lambda window, rng: _clipped(window.pixels + rng.normal(0.0, 2.0, window.pixels.shape)),
    "original in 45% of the pixels": lambda window, rng: _clipped(np.where(
        rng.random(window.pixels.shape[:2])[..., None] < 0.45, window.pixels,
        rng.uniform(0.0, 255.0, window.pixels.shape))),
}


@pytest.mark.parametrize("adversary", sorted(ADVERSARIES))
def test_near_copies_of_the_original_are_rejected_and_fall_back(demo_frames, tiny_run, tmp_path, monkeypatch,
                                                                 adversary):
    def leaking(self, windows, seed):
        rng = np.random.default_rng(seed)
        return [ADVERSARIES[adversary](window, rng) for window in windows]

    monkeypatch.setattr(cli.WindowGenerator, "__call__", leaking)
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run)) == 0
    persons = check_frames(tmp_path)  # every written box passes the leakage measure against the original
    rejected = [p for p in persons if p.get("fallback_reason", "").startswith("generated box rejected")]
    # The others are too small for the model, or overlap a person processed before them, whose (anonymized)
    # pixels are what the window holds there.
    assert len(rejected) > len(persons) // 2
    assert all(p["method"] == "pixelate" and p["leakage"]["detail_correlation"] < 0.5 for p in rejected)


def test_a_feather_of_the_whole_box_is_bounded_and_leaks_nothing(demo_frames, tiny_run, tmp_path):
    # --blend_px 1000 used to mix the original into every box pixel (detail correlation 0.99 with the original).
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run, "--blend_px", "1000")) == 0
    persons = check_frames(tmp_path)
    generated = [p for p in persons if p["method"] == "gan"]
    assert generated
    for person in generated:
        x1, y1, x2, y2 = person["box_in_frame"]
        assert person["blend_px"] == min(y2 - y1, x2 - x1) // 16
        assert person["leakage"]["detail_correlation"] < 0.5


def test_a_model_file_pastes_with_the_feather_it_records_unless_told_otherwise(demo_frames, tiny_run, tmp_path,
                                                                             capsys):
    """A model file exported with --blend_px 3 is run with that feather by default (as the shipped model with its
    4); --blend_px on the command line wins; traditional methods keep a hard paste; a broken record is one error."""
    model = export_model_file(tiny_run / "tiny", "latest", tmp_path / "feathered.pth", blend_px=3)
    runs = {"recorded": ("--method", "gan", "--model_file", str(model)),
            "asked": ("--method", "gan", "--model_file", str(model), "--blend_px", "0"),
            "blur": ("--method", "blur", "--model_file", str(model))}
    for name, flags in runs.items():
        assert run(demo_frames, tmp_path / name, *flags) == 0
    assert [report(tmp_path / name)["options"]["blend_px"] for name in runs] == [3, 0, 0]
    feathered = [p for p in check_frames(tmp_path / "recorded") if p["method"] == "gan"]
    assert feathered and all(p["blend_px"] == min(3, min(p["box_in_frame"][3] - p["box_in_frame"][1],
                                                            p["box_in_frame"][2] - p["box_in_frame"][0]) // 16)
                             for p in feathered)
    assert any(p["blend_px"] > 0 for p in feathered)  # the demo frames' boxes are small: the bound cuts most
    assert not any("blend_px" in p for p in check_frames(tmp_path / "asked"))
    saved = json.loads((tmp_path / "feathered.json").read_text())
    (tmp_path / "feathered.json").write_text(json.dumps({**saved, "blend_px": "wide"}))
    capsys.readouterr()
    assert run(demo_frames, tmp_path / "broken", *runs["recorded"]) == 2
    assert "feathered.json: blend_px 'wide' is not a whole number of pixels" in capsys.readouterr().err
    assert not (tmp_path / "broken").exists() or not any((tmp_path / "broken").rglob("*.png"))


@pytest.mark.parametrize("outputs", ["wrong shape", "too few"])
def test_wrong_generator_outputs_fall_back_per_person(demo_frames, tiny_run, tmp_path, monkeypatch, outputs):
    def wrong(self, windows, seed):
        if outputs == "wrong shape":
            return [np.zeros((32, 32, 3), np.float32) for _ in windows]
        return [np.zeros((64, 64, 3), np.float32) for _ in windows[1:]]

    monkeypatch.setattr(cli.WindowGenerator, "__call__", wrong)
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run)) == 0
    persons = check_frames(tmp_path)
    assert {p["method"] for p in persons} == {"pixelate"}
    reason = "shape (32, 32, 3), expected (64, 64, 3)" if outputs == "wrong shape" else "outputs for"
    assert any(reason in p["fallback_reason"] for p in persons)


def scaled_citypersons(frames: Path, target: Path, factor: float) -> None:
    """Copies of the frames' CityPersons files as if made for frames ``factor`` times larger."""
    for source in (frames / "gtBboxCityPersons").rglob("*.json"):
        data = json.loads(source.read_text())
        data["imgWidth"], data["imgHeight"] = int(data["imgWidth"] * factor), int(data["imgHeight"] * factor)
        for obj in data["objects"]:
            for key in ("bbox", "bboxVis"):
                obj[key] = [int(v * factor) for v in obj[key]]
        path = target / source.relative_to(frames / "gtBboxCityPersons")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))


@pytest.mark.parametrize("factor", [4, 0.5])
def test_annotations_for_another_frame_size_are_refused(demo_frames, tmp_path, capsys, factor):
    # Boxes for 2048x1024 on a 512x256 frame used to anonymize nobody (exit 0, output = input); boxes for 256x128
    # blurred the wrong places.
    scaled_citypersons(demo_frames, tmp_path / "ann", factor)
    assert run(demo_frames, tmp_path / "out", "--method", "blur", annotations=tmp_path / "ann") == 1
    err = capsys.readouterr().err
    assert f"is for {int(512 * factor)}x{int(256 * factor)} frames but the image is 512x256" in err
    assert not list((tmp_path / "out").rglob("*.png"))


def test_scale_boxes_maps_annotations_of_a_larger_frame(demo_frames, tmp_path):
    scaled_citypersons(demo_frames, tmp_path / "ann", 4)
    assert run(demo_frames, tmp_path / "plain", "--method", "blur") == 0
    assert run(demo_frames, tmp_path / "scaled", "--method", "blur", "--scale_boxes",
               annotations=tmp_path / "ann") == 0
    produced = sorted((tmp_path / "scaled").rglob("*.png"))
    assert produced
    for path in produced:  # (4x, 4y, 4x+4w+1, ...) scaled outward by 1/4 is exactly the original box
        assert path.read_bytes() == (tmp_path / "plain" / path.relative_to(tmp_path / "scaled")).read_bytes()


def test_a_selected_person_outside_the_frame_fails_the_frame(demo_frames, tmp_path, capsys):
    image = sorted((demo_frames / "leftImg8bit").rglob("*.png"))[0]
    annotation = tmp_path / "boxes.json"
    annotation.write_text(json.dumps({"image": image.name, "boxes": [[20, 20, 60, 120], [900, 20, 960, 120]]}))
    assert cli.main(["-i", str(image), "-a", str(annotation), "-o", str(tmp_path / "out"), "--quiet",
                     "--method", "mask"]) == 1
    assert "lies entirely outside the 512x256 frame" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("*.png"))


def test_an_unknown_label_is_an_error_and_unselected_persons_are_reported(demo_frames, tmp_path, capsys):
    assert run(demo_frames, tmp_path / "typo", "--method", "blur", "--labels", "pedestrain") == 2
    err = capsys.readouterr().err
    assert "--labels pedestrain: no such label" in err and "pedestrian" in err
    assert not (tmp_path / "typo").exists()
    image = sorted((demo_frames / "leftImg8bit").rglob("*.png"))[0]
    annotation = tmp_path / "boxes.json"
    annotation.write_text(json.dumps({"image": image.name, "boxes": [[20, 20, 60, 120]], "labels": ["pedestrian"]}))
    assert cli.main(["-i", str(image), "-a", str(annotation), "-o", str(tmp_path / "out"), "--quiet",
                     "--method", "blur", "--labels", "rider"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "none of the frame's annotated persons was selected" in captured.err
    assert "1 with persons none of whom --labels selected" in captured.out
    assert report(tmp_path / "out")["totals"]["frames_nobody_selected"] == 1


def test_the_report_is_written_frame_by_frame_and_a_rerun_completes_it(demo_frames, tmp_path, monkeypatch):
    real = actions.anonymize_frame  # called per frame by the frame processor (anonymizer/actions.py)
    calls = []

    def killed_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # stands for a kill: nothing after this point runs
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "anonymize_frame", killed_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run(demo_frames, tmp_path, "--method", "pixelate")
    assert not (tmp_path / "report.json").exists()
    lines = [json.loads(line) for line in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == ["written", "written"]
    assert all(line["persons"] and Path(line["output"]).is_file() for line in lines)
    monkeypatch.setattr(actions, "anonymize_frame", real)
    assert run(demo_frames, tmp_path, "--method", "pixelate") == 0
    frames = report(tmp_path)["frames"]
    assert [f["status"].split()[0] for f in frames] == ["skipped", "skipped", "written"]
    assert all(f["persons"] for f in frames)  # the killed run's records, merged into the final report
    assert frames[0]["persons"] == lines[0]["persons"]
    assert report(tmp_path)["totals"]["persons"] == sum(len(f["persons"]) for f in frames)


def test_an_unwritable_output_folder_is_one_error(demo_frames, tmp_path, capsys):
    (tmp_path / "file").write_text("a file where the output folder should be")
    assert run(demo_frames, tmp_path / "file" / "out", "--method", "mask") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Not a directory" in err[0]


def test_file_names_that_are_not_utf8_are_anonymized(demo_frames, tmp_path):
    # cv2.imread segfaulted on such a name (exit 139, later frames skipped, no report); run as a user would.
    image = sorted((demo_frames / "leftImg8bit").rglob("*.png"))[0]
    stem = image.name.replace("_leftImg8bit.png", "")
    latin1 = os.fsdecode(b"m\xfcnchen_000000_000019")
    (tmp_path / "in").mkdir()
    shutil.copy(image, tmp_path / "in" / f"{latin1}_leftImg8bit.png")
    annotation = next((demo_frames / "gtBboxCityPersons").rglob(f"{stem}_gtBboxCityPersons.json"))
    shutil.copy(annotation, tmp_path / f"{latin1}_gtBboxCityPersons.json")
    done = subprocess.run([sys.executable, "anonymize.py", "-i", str(tmp_path / "in"), "-a", str(tmp_path),
                           "-o", str(tmp_path / "out"), "--method", "noise", "--quiet"],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    output = tmp_path / "out" / f"{latin1}_leftImg8bit.png"
    assert output.is_file()
    frame = report(tmp_path / "out")["frames"][0]
    assert frame["output"] == str(output) and frame["persons"]
    assert not np.array_equal(rgb(image), cv2.imdecode(np.fromfile(output, np.uint8), cv2.IMREAD_COLOR)[..., ::-1])


def test_training_records_its_crop_side_and_anonymize_windows_follow_it(demo_frames, tiny_run, tmp_path):
    """The tiny run trained on 64 px crops resized to 72 and cut to 64: its windows are 57 frame px."""
    saved = json.loads((tiny_run / "tiny" / "train_opt.json").read_text())
    assert saved["source_crop_size"] == 64
    assert run(demo_frames, tmp_path, *gan_flags(tiny_run)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["options"]["model"]["window_side"] == 57
    windowed = [p for f in report["frames"] for p in f["persons"] if p.get("path") == "window"]
    assert windowed and all(p["window"][2] - p["window"][0] == 57 for p in windowed)
    assert run(demo_frames, tmp_path / "wide", *gan_flags(tiny_run, "--window_side", "64")) == 0
    report = json.loads((tmp_path / "wide" / "report.json").read_text())
    assert report["options"]["model"]["window_side"] == 64


# ---- --instance_ids: persons painted in their own shape ------------------------------------------------------
def person_maps(frames: Path) -> dict[str, np.ndarray]:
    """Each demo frame's person pixels, by frame file name (from its gtFine instance ids)."""
    from data.instance_ids import INSTANCE_SUFFIX, person_pixels
    maps = {}
    for path in (frames / "gtFine").rglob(f"*{INSTANCE_SUFFIX}"):
        ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        maps[path.name.replace("_gtFine_instanceIds.png", "_leftImg8bit.png")] = person_pixels(ids)
    return maps


def person_changes(frame: dict, maps: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A report entry's person pixels, those grown by 4 px on each side (the most any shape here grows by) and
    the pixels its output changed."""
    people = maps[Path(frame["image"]).name]
    grown = cv2.dilate(people.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return people, grown, np.any(rgb(frame["image"]) != rgb(frame["output"]), axis=2)


@pytest.mark.parametrize("trained_run", ["tiny_run", "tiny_shape_run", "tiny_silhouette_run"])
def test_instance_ids_paint_each_person_in_its_own_shape(demo_frames, trained_run, request, tmp_path):
    """Any single-stage model, trained on boxes (noise fill), with person holes (grey fill) or told the person's
    silhouette (which is then the person's own shape): only (grown)
    person pixels change; every pixel of a box that is no person's stays byte-identical, and the person pixels of
    every GAN-painted box are replaced."""
    checkpoints = request.getfixturevalue(trained_run)
    assert run(demo_frames, tmp_path, *gan_flags(checkpoints, "--instance_ids", str(demo_frames / "gtFine"))) == 0
    maps = person_maps(demo_frames)
    painted = 0
    for frame in report(tmp_path)["frames"]:
        assert frame["status"] == "written" and "warning" not in frame, frame
        people, grown, changed = person_changes(frame, maps)
        for person in frame["persons"]:
            x1, y1, x2, y2 = person["box_in_frame"]
            if person["method"] != "gan" or "painted_fraction" not in person:
                continue
            painted += 1
            assert 0 < person["painted_fraction"] < 1
            box_people, box_changed = people[y1:y2, x1:x2], changed[y1:y2, x1:x2]
            assert box_changed[box_people].mean() > 0.9, person  # the person is replaced
        # Nothing changes away from people (their boxes' backgrounds included) except whole-box fallbacks.
        whole = np.zeros_like(changed)
        for person in frame["persons"]:
            if person["method"] != "gan" or "painted_fraction" not in person:
                x1, y1, x2, y2 = person["box_in_frame"]
                whole[y1:y2, x1:x2] = True
        assert not changed[~grown & ~whole].any()
    assert painted >= 3


def test_a_silhouette_model_paints_whole_boxes_in_strangers_silhouettes(demo_frames, tiny_silhouette_run,
                                                                        tmp_path, monkeypatch):
    """--netG_silhouette_input: every box is replaced as by any GAN; each window's silhouette channel is a
    training silhouette from the run's bank stretched to the box — never the person's own outline, which the
    frame gives nobody here — and another --seed draws other silhouettes."""
    assert (tiny_silhouette_run / "tiny" / "silhouettes.npz").is_file()  # train.py wrote the bank
    drawn = []
    original = WindowGenerator.silhouette_tensor

    def record(self, windows):
        maps = original(self, windows)
        drawn.extend((m[0].numpy(), w.box) for m, w in zip(maps, windows, strict=True))
        return maps

    monkeypatch.setattr(WindowGenerator, "silhouette_tensor", record)
    assert run(demo_frames, tmp_path / "a", *gan_flags(tiny_silhouette_run)) == 0
    assert "gan" in {p["method"] for p in check_frames(tmp_path / "a")}
    first = [m for m, _ in drawn]
    for silhouette, (x1, y1, x2, y2) in drawn:
        inside = silhouette[y1:y2, x1:x2]
        assert silhouette.sum() == inside.sum()  # nothing outside the box
        assert 0.15 < inside.mean() < 0.95  # a person's outline, not the whole box
    drawn.clear()
    assert run(demo_frames, tmp_path / "b", *gan_flags(tiny_silhouette_run, "--seed", "1")) == 0
    assert len(drawn) == len(first) and any(not np.array_equal(a, b) for (a, _), b in zip(drawn, first, strict=True))


def test_an_exported_silhouette_model_carries_its_bank(demo_frames, tiny_silhouette_run, tmp_path):
    out = export_model_file(tiny_silhouette_run / "tiny", "latest", tmp_path / "sil.pth", network_mode="eval")
    bank = load_bank(tiny_silhouette_run / "tiny" / "silhouettes.npz")
    exported = load_bank(tmp_path / "sil_silhouettes.npz")
    assert np.array_equal(bank.masks, exported.masks) and np.array_equal(bank.aspects, exported.aspects)
    assert run(demo_frames, tmp_path / "out", "--method", "gan", "--model_file", str(out)) == 0
    assert "gan" in {p["method"] for p in check_frames(tmp_path / "out")}


def test_a_cvae_model_exports_without_its_encoder_and_samples_strangers(demo_frames, tiny_cvae_run, tmp_path):
    """The encoder only trains: the exported file holds G alone, anonymize.py runs it, and its code is drawn per
    seed (another seed, another person; --truncation 0, the same)."""
    out = export_model_file(tiny_cvae_run / "tiny", "latest", tmp_path / "cvae.pth", network_mode="eval")
    state = torch.load(out, weights_only=True)
    assert not any(key.startswith(("mean.", "log_variance.", "features.")) for key in state)
    assert run(demo_frames, tmp_path / "out", "--method", "gan", "--model_file", str(out)) == 0
    assert "gan" in {p["method"] for p in check_frames(tmp_path / "out")}

    model = load_model_file(out)
    assert np.abs(paint_box(model, 1.0, 0) - paint_box(model, 1.0, 1)).mean() > 0.5  # measured 2.4 (1 tiny epoch)
    assert np.array_equal(paint_box(model, 0.0, 0), paint_box(model, 0.0, 1))


def paint_box(model, truncation: float, seed: int) -> np.ndarray:
    """The grey levels ``model`` paints in a 24 x 52 box of a fixed random 64 px window, with ``seed``."""
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    window = Window(pixels=pixels, box=(20, 8, 44, 60), rng=np.random.default_rng(5))
    return WindowGenerator(model, truncation)([window], seed)[0][8:60, 20:44].astype(float)


def test_an_inpaint_generator_model_anonymizes_and_draws_strangers(demo_frames, tiny_inpaint_run, tmp_path):
    """--netG inpaint goes through the same export and anonymize.py path as the U-Net: its noise is drawn per
    seed and --truncation 0 removes it."""
    out = export_model_file(tiny_inpaint_run / "tiny", "latest", tmp_path / "inpaint.pth", network_mode="eval")
    assert run(demo_frames, tmp_path / "out", "--method", "gan", "--model_file", str(out)) == 0
    assert "gan" in {p["method"] for p in check_frames(tmp_path / "out")}
    model = load_model_file(out)
    assert model.opt.netG == "inpaint"
    assert np.abs(paint_box(model, 1.0, 0) - paint_box(model, 1.0, 1)).mean() > 0.5
    assert np.array_equal(paint_box(model, 0.0, 0), paint_box(model, 0.0, 1))


def test_a_silhouette_model_without_its_bank_is_one_error(demo_frames, tiny_silhouette_run, tmp_path, capsys):
    run_dir = tmp_path / "ckpt" / "tiny"
    shutil.copytree(tiny_silhouette_run / "tiny", run_dir)
    (run_dir / "silhouettes.npz").unlink()
    assert run(demo_frames, tmp_path / "out", *gan_flags(tmp_path / "ckpt")) == 2
    error = capsys.readouterr().err
    assert "tiny/silhouettes.npz: silhouette bank not found" in error and "python -m data.silhouettes" in error
    assert not list((tmp_path / "out").rglob("*.png"))


def test_instance_ids_with_a_traditional_method_replace_each_person_in_its_shape(demo_frames, tmp_path):
    """--method pixelate --instance_ids: each person's grown mask is pixelated and the rest of its box is kept
    byte-identical (as the GAN's shapes, so the two compare like for like); the frames pass the check."""
    assert run(demo_frames, tmp_path, "--method", "pixelate", "--instance_ids", str(demo_frames / "gtFine")) == 0
    maps = person_maps(demo_frames)
    shaped = 0
    for frame in report(tmp_path)["frames"]:
        assert frame["status"] == "written" and "warning" not in frame, frame
        people, grown, changed = person_changes(frame, maps)
        whole = np.zeros_like(changed)
        for person in frame["persons"]:
            x1, y1, x2, y2 = person["box_in_frame"]
            if person["path"] == "shape":
                shaped += 1
                assert person["method"] == "pixelate" and 0 < person["painted_fraction"] < 1
                assert changed[y1:y2, x1:x2][people[y1:y2, x1:x2]].mean() > 0.5, person  # blocks of the figure
            else:
                whole[y1:y2, x1:x2] = True
        assert not changed[~grown & ~whole].any()
    assert shaped >= 3


def test_poisson_blend_writes_checked_frames_that_differ_from_the_plain_paste(demo_frames, tiny_run, tmp_path):
    """--poisson_blend through the command line: every frame passes the check with only its boxes changed, the
    report keeps the setting, and the boxes differ from a plain paste of the same draws."""
    assert run(demo_frames, tmp_path / "plain", *gan_flags(tiny_run)) == 0
    assert run(demo_frames, tmp_path / "blended", *gan_flags(tiny_run, "--poisson_blend")) == 0
    assert "gan" in {p["method"] for p in check_frames(tmp_path / "blended")}
    assert report(tmp_path / "blended")["options"]["poisson_blend"] is True
    pairs = zip(sorted((tmp_path / "plain").rglob("*.png")), sorted((tmp_path / "blended").rglob("*.png")),
                strict=True)
    assert any(plain.read_bytes() != blended.read_bytes() for plain, blended in pairs)


def test_instance_ids_refusals_and_missing_maps(demo_frames, tiny_shape_run, tmp_path, capsys, monkeypatch):
    maps = demo_frames / "gtFine"
    # A two-stage model and a folder without maps: one clear error each.
    two_stage = WindowGenerator(random_model({"model": "progan", "netG": "unet_64", "netG2": "unet_128", "ngf": 8,
                                              "crop_size": 128, "load_size": 128, "bbox_noise": "none"}))
    with monkeypatch.context() as patch:
        patch.setattr(cli, "build_generator", lambda args: two_stage)
        assert run(demo_frames, tmp_path / "a", "--method", "gan", "--instance_ids", str(maps)) == 2
    assert "paints in two stages, and a person's shape is painted in one" in capsys.readouterr().err
    assert run(demo_frames, tmp_path / "c", *gan_flags(tiny_shape_run, "--instance_ids", str(tmp_path))) == 2
    assert "no *_gtFine_instanceIds.png files under it" in capsys.readouterr().err
    # One frame's map missing: that frame gets whole boxes, with a warning; a broken map fails its frame alone.
    partial = tmp_path / "partial"
    shutil.copytree(maps, partial)
    files = sorted(partial.rglob("*_gtFine_instanceIds.png"))
    files[0].unlink()
    cv2.imwrite(str(files[1]), np.zeros((256, 512), np.uint8))  # 8-bit: no instance ids
    assert run(demo_frames, tmp_path / "d", *gan_flags(tiny_shape_run, "--instance_ids", str(partial))) == 1
    frames = {Path(f["image"]).name.replace("_leftImg8bit.png", ""): f for f in report(tmp_path / "d")["frames"]}
    missing = frames[files[0].name.replace("_gtFine_instanceIds.png", "")]
    assert missing["status"] == "written" and "no instance-id map for this frame" in missing["warning"]
    assert all("painted_fraction" not in p for p in missing["persons"])
    broken = frames[files[1].name.replace("_gtFine_instanceIds.png", "")]
    assert broken["status"] == "failed" and "expected a 16-bit single-channel instance-id map" in broken["error"]
    assert not Path(broken["output"]).exists()
