"""anonymize.py end to end on tiny demo frames: every method, fail-closed fallbacks, reruns, inputs, skipping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from anonymizer import cli
from anonymizer.verify import kept_detail


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
            assert kept_detail(region_before, region_after) <= 0.5
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
    assert run(demo_frames, outs[2], *gan_flags(tiny_run, "--eval", "--batch_size", "1")) == 0
    assert run(demo_frames, outs[3], *gan_flags(tiny_run, "--eval", "--batch_size", "8")) == 0
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


def test_bad_command_lines_and_inputs_give_one_clear_error(demo_frames, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["-i", "x", "-a", "y", "-o", str(tmp_path), "--method", "gan", "--name", "run",
                  "--model_file", "m.pth"])
    assert "either --name" in capsys.readouterr().err
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
