"""anonymize.py without annotations: the built-in detector, a YOLO-format ONNX file, a COCO results file; the
fail-closed thresholds, --show_detections and --cache, as a user sees them (output pictures and report.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from skimage import data as skimage_data

from anonymizer import cli
from anonymizer.verify import measure

from .test_anonymize_cli import citypersons_frames, gan_flags, report, rgb

# Candidate boxes of the tiny ONNX model, (cx, cy, w, h) in its 64 px input.
CANDIDATES = [(32, 32, 16, 40), (10, 10, 8, 8)]


def tiny_yolo(path: Path, transposed: bool = False, batch: int | str = "N") -> Path:
    """A YOLO-format model: fixed candidate boxes; class 0 scores the mean red, class 1 the mean green."""
    from onnx import TensorProto, helper

    # As in real exports there are more candidates than values per candidate: the rest score 0.
    padded = CANDIDATES + [(0, 0, 1, 1)] * 8
    boxes = np.array(padded, dtype=np.float32).T[None]  # 1 x 4 x A
    count = boxes.shape[2]
    weights = [1.0] * len(CANDIDATES) + [0.0] * 8
    nodes = [
        helper.make_node("Split", ["images", "split"], ["r", "g", "b"], axis=1),
        helper.make_node("ReduceMean", ["r"], ["r_mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("ReduceMean", ["g"], ["g_mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["r_mean", "flat"], ["r_flat"]),
        helper.make_node("Reshape", ["g_mean", "flat"], ["g_flat"]),
        helper.make_node("Expand", ["r_flat", "row"], ["r_row"]),
        helper.make_node("Expand", ["g_flat", "row"], ["g_row"]),
        helper.make_node("Mul", ["r_row", "weights"], ["person"]),
        helper.make_node("Mul", ["g_row", "weights"], ["other"]),
        helper.make_node("Mul", ["person", "zero"], ["zeros"]),
        helper.make_node("Add", ["boxes", "zeros"], ["batch_boxes"]),
        helper.make_node("Concat", ["batch_boxes", "person", "other"], ["raw"], axis=1),
        helper.make_node("Transpose", ["raw"], ["output0"], perm=[0, 2, 1]) if transposed
        else helper.make_node("Identity", ["raw"], ["output0"]),
    ]
    initializers = [
        helper.make_tensor("split", TensorProto.INT64, [3], [1, 1, 1]),
        helper.make_tensor("flat", TensorProto.INT64, [3], [-1, 1, 1]),
        helper.make_tensor("row", TensorProto.INT64, [3], [1, 1, count]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("weights", TensorProto.FLOAT, [count], weights),
        helper.make_tensor("boxes", TensorProto.FLOAT, boxes.shape, boxes.flatten().tolist()),
    ]
    out_shape = [batch, count, 6] if transposed else [batch, 6, count]
    graph = helper.make_graph(nodes, "tiny_yolo",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, 64, 64])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, out_shape)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def street(path: Path, red: int, green: int) -> Path:
    """A 64×64 textured picture whose mean red and green (as fractions of 255) are about red/255, green/255."""
    rng = np.random.default_rng(0)
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[..., 0] = np.clip(rng.normal(red, 20, (64, 64)), 0, 255)
    image[..., 1] = np.clip(rng.normal(green, 20, (64, 64)), 0, 255)
    image[..., 2] = rng.integers(0, 255, (64, 64))
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def anonymize(image: Path, out: Path, *extra: str) -> int:
    return cli.main(["-i", str(image), "-o", str(out), "--quiet", *extra])


@pytest.mark.parametrize("transposed,batch", [(False, "N"), (True, 1)], ids=["4+C x N", "N x 4+C, batch 1"])
def test_onnx_yolo_detector_masks_the_model_boxes(tmp_path, transposed, batch):
    model = tiny_yolo(tmp_path / "tiny.onnx", transposed, batch)
    image = street(tmp_path / "red.png", red=230, green=10)
    assert anonymize(image, tmp_path / "out", "--detector", f"onnx:{model}", "--method", "mask") == 0
    (frame,) = report(tmp_path / "out")["frames"]
    persons = sorted(frame["persons"], key=lambda p: p["box"])
    # Model boxes (+5 % margin on each side), rounded outward; the score is the mean red.
    assert [p["box"] for p in persons] == [[5, 5, 15, 15], [23, 10, 41, 54]]
    assert all(p["method"] == "mask" and 0.85 < p["score"] < 0.95 for p in persons)
    before, after = rgb(image), rgb(tmp_path / "out" / "red.png")
    inside = np.zeros((64, 64), dtype=bool)
    for x1, y1, x2, y2 in (p["box"] for p in persons):
        inside[y1:y2, x1:x2] = True
    assert (after[inside] == 0).all() and np.array_equal(after[~inside], before[~inside])


def test_person_class_and_thresholds_fail_closed(tmp_path, tiny_run):
    model = tiny_yolo(tmp_path / "tiny.onnx")
    # Class 1 (mean green ~0.4) is between --fallback_threshold 0.3 and --detection_threshold 0.5: not trusted
    # enough for the GAN, but covered by the traditional fallback instead of being left as it is.
    image = street(tmp_path / "green.png", red=230, green=100)
    flags = ["--detector", f"onnx:{model}", *gan_flags(tiny_run)]
    assert anonymize(image, tmp_path / "uncertain", *flags, "--person_class", "1") == 0
    persons = report(tmp_path / "uncertain")["frames"][0]["persons"]
    assert {p["method"] for p in persons} == {"pixelate"}
    assert all("uncertain detection" in p["fallback_reason"] and 0.3 <= p["score"] < 0.5 for p in persons)
    assert anonymize(image, tmp_path / "confident", *flags) == 0  # class 0: mean red ~0.9
    persons = report(tmp_path / "confident")["frames"][0]["persons"]
    assert [(p["method"], p["score"] > 0.85) for p in sorted(persons, key=lambda p: -p["box"][3])][0] == ("gan", True)
    assert anonymize(image, tmp_path / "ignored", *flags, "--person_class", "1", "--fallback_threshold", "0.45") == 0
    assert report(tmp_path / "ignored")["frames"][0]["persons"] == []
    assert rgb(tmp_path / "ignored" / "green.png").tobytes() == rgb(image).tobytes()


def test_bad_detector_files_and_flags_give_one_clear_error(tmp_path, capsys):
    model = tiny_yolo(tmp_path / "tiny.onnx")
    image = street(tmp_path / "red.png", red=230, green=10)
    assert anonymize(image, tmp_path / "a", "--detector", f"onnx:{model}", "--person_class", "5") == 2
    assert "--person_class 5 but the model has 2 classes" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    assert anonymize(image, tmp_path / "b", "--detector", f"onnx:{tmp_path / 'junk.onnx'}") == 2
    assert "junk.onnx: cannot be loaded by onnxruntime" in capsys.readouterr().err
    for flags, message in ((["--detector", "yolo.onnx"], "--detector must be annotations, builtin, onnx:FILE"),
                           (["--targets", "people"], "--targets must be persons, faces or persons,faces"),
                           (["-a", str(model), "--detector", "builtin"], "-a/--annotations is only read with"),
                           (["--fallback_threshold", "0.6"], "need --fallback_threshold <= --detection_threshold"),
                           (["--detection_threshold", "1.5"], "argument --detection_threshold: expected a finite"),
                           (["--start", "3", "--end", "2"], "--end (2) must be after --start (3)")):
        with pytest.raises(SystemExit):
            anonymize(image, tmp_path / "c", *flags)
        assert message in capsys.readouterr().err


def test_cache_skips_detection_on_the_second_run_with_identical_output(tmp_path):
    model = tiny_yolo(tmp_path / "tiny.onnx")
    image = street(tmp_path / "red.png", red=230, green=10)
    flags = ["--detector", f"onnx:{model}", "--method", "pixelate", "--cache", str(tmp_path / "cache")]
    assert anonymize(image, tmp_path / "first", *flags) == 0
    assert anonymize(image, tmp_path / "second", *flags) == 0
    (first,), (second,) = (report(tmp_path / name)["detectors"] for name in ("first", "second"))
    assert (first["cache_hits"], second["cache_hits"]) == (0, 1)
    assert (tmp_path / "first" / "red.png").read_bytes() == (tmp_path / "second" / "red.png").read_bytes()
    assert anonymize(image, tmp_path / "third", *flags, "--fallback_threshold", "0.2") == 0  # another key
    assert report(tmp_path / "third")["detectors"][0]["cache_hits"] == 0


def coco_results(frames: Path, score: float, by_id: bool = False) -> list[dict]:
    """The CityPersons person boxes of the demo frames as a detector's COCO results."""
    results = []
    for k, (image, objects) in enumerate(citypersons_frames(frames)):
        for x, y, w, h in (o["bbox"] for o in objects if o["label"] in cli.DEFAULT_LABELS):
            key = {"image_id": k} if by_id else {"file_name": image.relative_to(frames / "leftImg8bit").as_posix()}
            results.append({**key, "category_id": 1, "bbox": [x, y, w + 1, h + 1], "score": score})
    return results


def test_coco_results_give_the_same_frames_as_the_annotations(demo_frames, tmp_path):
    assert cli.main(["-i", str(demo_frames / "leftImg8bit"), "-a", str(demo_frames / "gtBboxCityPersons"),
                     "-o", str(tmp_path / "gt"), "--quiet", "--method", "mask"]) == 0
    results = tmp_path / "results.json"
    results.write_text(json.dumps(coco_results(demo_frames, 0.9) + [
        {"file_name": "nowhere.png", "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1.0},
        {"file_name": citypersons_frames(demo_frames)[0][0].name, "category_id": 3, "bbox": [0, 0, 50, 50],
         "score": 1.0}]))  # another category: not a person
    assert anonymize(demo_frames / "leftImg8bit", tmp_path / "coco", "--detector", f"coco:{results}",
                     "--method", "mask") == 0
    produced = sorted((tmp_path / "coco").rglob("*.png"))
    assert produced
    for path in produced:
        assert path.read_bytes() == (tmp_path / "gt" / path.relative_to(tmp_path / "coco")).read_bytes()


def test_coco_results_by_numeric_image_id(demo_frames, tmp_path):
    image, _ = citypersons_frames(demo_frames)[0]
    folder = tmp_path / "frames"
    folder.mkdir()
    shutil.copy(image, folder / "000000.png")
    results = tmp_path / "results.json"
    results.write_text(json.dumps([r for r in coco_results(demo_frames, 0.4, by_id=True) if r["image_id"] == 0]))
    assert anonymize(folder, tmp_path / "out", "--detector", f"coco:{results}", "--method", "noise") == 0
    persons = report(tmp_path / "out")["frames"][0]["persons"]
    assert persons and all(p["method"] == "noise" and "uncertain" in p["fallback_reason"] for p in persons)


def test_show_detections_draws_boxes_and_scores_instead_of_anonymizing(demo_frames, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(coco_results(demo_frames, 0.45)))
    assert anonymize(demo_frames / "leftImg8bit", tmp_path / "out", "--detector", f"coco:{results}",
                     "--show_detections") == 0
    frame = report(tmp_path / "out")["frames"][0]
    person = frame["persons"][0]
    assert person["would_get"] == "traditional" and person["score"] == 0.45
    drawn = rgb(frame["output"])
    x1, y1, x2, y2 = person["box"]
    assert tuple(drawn[y1 + (y2 - y1) // 2, x1]) == (255, 165, 0)  # orange: a traditional method


def test_builtin_detector_needs_no_annotations_and_reports_an_unreadable_frame(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "astronaut.png"), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert anonymize(folder, tmp_path / "out", "--method", "blur") == 1
    assert "broken.png: not an image file" in capsys.readouterr().err
    data = report(tmp_path / "out")
    entries = {Path(f["image"]).name: f for f in data["frames"]}
    assert entries["broken.png"]["status"] == "failed" and not (tmp_path / "out" / "broken.png").exists()
    astronaut = entries["astronaut.png"]
    assert astronaut["status"] == "written" and data["options"]["method"] == "blur"
    assert data["detectors"][0]["identity"].startswith("builtin:ssdlite-mobilenetv2-pedestrian")
    best = max(astronaut["persons"], key=lambda p: p["score"])
    assert best["score"] > 0.9 and best["method"] == "blur"
    x1, y1, x2, y2 = best["box"]
    assert x1 < 40 and y1 < 60 and x2 > 330 and y2 > 360
    before, after = skimage_data.astronaut(), rgb(astronaut["output"])
    assert measure(before[y1:y2, x1:x2], after[y1:y2, x1:x2]).problem() is None  # the blurred box leaks nothing


def test_a_fresh_clone_anonymizes_an_image_and_a_video_with_no_flags(tmp_path):
    """``anonymize.py -i street.png -o out/`` and ``-i clip.mp4 -o out.mp4``: built-in detector, shipped GAN."""
    import av

    from anonymizer.video import probe

    picture = cv2.resize(skimage_data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "street.png"), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        for k in range(3):  # the picture panning 4 px per frame
            frame = av.VideoFrame.from_ndarray(np.roll(picture, 4 * k, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert cli.main(["-i", str(tmp_path / "street.png"), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert cli.main(["-i", str(clip), "-o", str(tmp_path / "out.mp4"), "--quiet"]) == 0
    image_report = report(tmp_path / "out")
    video_report = json.loads((tmp_path / "out.report.json").read_text())
    for data in (image_report, video_report):
        assert data["options"]["detector"] == "builtin" and data["options"]["method"] == "gan"
        assert data["options"]["model"]["weights"] == str(cli.SHIPPED_DEMO_MODEL)
    (image_entry,) = image_report["frames"]
    (video_entry,) = video_report["frames"]
    assert probe(tmp_path / "out.mp4")["frames"] == 3 and video_entry["frames_written"] == 3
    tracks = set()
    for frame in [image_entry, *video_entry["frames"]]:
        best = max(frame["persons"], key=lambda p: p["score"])
        assert frame["status"] == "written" and best["score"] > 0.9
        assert best["method"] == "gan" or best["fallback_reason"]  # replaced either way, never left as it was
        tracks.add(best.get("track"))
    assert tracks == {None, 0}  # the image has no track; in the video the astronaut keeps track 0
    after = rgb(image_entry["output"])
    x1, y1, x2, y2 = max(image_entry["persons"], key=lambda p: p["score"])["box_in_frame"]
    assert measure(picture[y1:y2, x1:x2], after[y1:y2, x1:x2]).problem() is None
