"""Units of the full-frame anonymizer: geometry, waves, the fail-closed check, annotations, per-sample BatchNorm."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import numpy as np
import pytest
import torch

from anonymizer import geometry, verify
from anonymizer.annotations import AnnotationError, Person, frame_key, load_annotations
from anonymizer.frame import FrameAnonymizer, Settings, Task, blend_alpha
from anonymizer.generator import PerSampleBatchNorm, per_sample_batch_norm_
from anonymizer.methods import anonymize_box, anonymize_region
from data.boxes import box_to_xywh
from data_preprocessing import crops


def test_window_path_matches_the_training_crop_window():
    region = (300, 400, 361, 601)  # 60 x 200 inclusive box, as preprocessing fills it
    placement = geometry.place(region, 2048, 1024, 256, 8)
    corner = crops.crop_window(box_to_xywh(region, inclusive=True), 2048, 1024, 256)
    assert placement.path == "window"
    assert placement.window[:2] == corner
    assert placement.local_box == crops.region_in_window(region, corner, 256)


def test_large_boxes_are_scaled_small_ones_fall_back():
    large = geometry.place((100, 50, 400, 900), 2048, 1024, 256, 8)
    assert large.path == "scaled" and large.side == 850 + 16
    x1, y1, x2, y2 = large.local_box
    assert y2 - y1 <= 256 and x2 - x1 >= 32
    small = geometry.place((10, 10, 30, 80), 2048, 1024, 256, 8)
    assert small.path == "fallback" and "too small" in small.reason
    wide = geometry.place((0, 0, 2000, 100), 2048, 1024, 256, 8)
    assert wide.path == "fallback" and "cannot be windowed" in wide.reason


def test_waves_order_reads_after_writes():
    image = np.zeros((256, 512, 3), dtype=np.uint8)
    anonymizer = FrameAnonymizer(image, Settings(method="blur"), None, 0)
    boxes = [(10, 10, 30, 60), (25, 20, 50, 70), (200, 10, 230, 60)]  # the first two overlap
    tasks = [Task(k, Person(b, "pedestrian"), b, np.random.default_rng(k)) for k, b in enumerate(boxes)]
    waves = anonymizer.waves(tasks)
    assert [[t.index for t in wave] for wave in waves] == [[0, 2], [1]]


def test_blend_alpha_never_keeps_the_original_inside_the_box():
    alpha = blend_alpha(10, 7, 3)[..., 0]
    assert alpha.min() == pytest.approx(0.25) and alpha.max() == 1.0
    assert blend_alpha(10, 7, 0) is None


def textured(rng: np.random.Generator, h: int = 40, w: int = 20) -> np.ndarray:
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_check_flags_kept_detail_but_not_flat_regions():
    rng = np.random.default_rng(0)
    region = textured(rng)
    assert verify.box_problem(region, region) is not None
    assert verify.box_problem(region, anonymize_region(region, "noise", None, rng)) is None
    assert verify.box_problem(region, anonymize_region(region, "pixelate", 8.0, rng)) is None
    flat = np.full((40, 20, 3), 90, dtype=np.uint8)
    assert verify.box_problem(flat, flat) is None  # nothing to hide in a constant region
    for method in ("blur", "pixelate", "mask"):
        anonymize_region(flat, method, 90.0 if method == "mask" else None, rng)


def test_frame_check_requires_coverage_and_an_untouched_outside():
    rng = np.random.default_rng(1)
    original = textured(rng, 64, 64)
    result = anonymize_box(original, (10, 10, 30, 40), "noise", rng=rng)
    written = np.zeros((64, 64), dtype=bool)
    written[10:40, 10:30] = True
    assert verify.frame_problems(original, result, [(10, 10, 30, 40)], written) == []
    written[10, 10] = False
    assert "never replaced" in verify.frame_problems(original, result, [(10, 10, 30, 40)], written)[0]
    written[10, 10] = True
    result[0, 0] = original[0, 0] + 1
    assert "outside every box" in verify.frame_problems(original, result, [(10, 10, 30, 40)], written)[0]


def test_per_sample_batch_norm_equals_train_mode_batch_of_one():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(4).train()
    torch.nn.init.normal_(bn.weight)
    torch.nn.init.normal_(bn.bias)
    x = torch.randn(3, 4, 5, 6)
    expected = torch.cat([bn(x[i:i + 1]) for i in range(3)])
    net = torch.nn.Sequential(bn)
    assert per_sample_batch_norm_(net) == 1 and isinstance(net[0], PerSampleBatchNorm)
    assert torch.allclose(net(x), expected, atol=1e-5)


def test_frame_keys_and_labels(tmp_path):
    assert frame_key("aachen_000024_000019_leftImg8bit.png") == "aachen_000024_000019"
    assert frame_key("aachen_000024_000019_gtBboxCityPersons.json") == "aachen_000024_000019"
    assert frame_key("street.v2.jpg") == "street"
    objects = [{"bbox": [10, 20, 30, 60], "bboxVis": [12, 20, 20, 40], "label": "pedestrian"},
               {"bbox": [100, 20, 30, 60], "bboxVis": [100, 20, 30, 60], "label": "ignore"}]
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "x_000001_000019_gtBboxCityPersons.json"
    path.write_text(json.dumps({"imgWidth": 512, "imgHeight": 256, "objects": objects}))
    (tmp_path / "a" / "bad_000001_000019_gtBboxCityPersons.json").write_text("{broken")
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1}))
    index = load_annotations(tmp_path)
    frame = index.lookup(PurePosixPath("a/x_000001_000019_leftImg8bit.png"))
    assert frame.persons[0] == Person((10, 20, 41, 81), "pedestrian")  # inclusive: (w+1) x (h+1)
    assert load_annotations(tmp_path, "visible").lookup(PurePosixPath("x_000001_000019_leftImg8bit.png")
                                                        ).persons[0].box == (12, 20, 33, 61)
    broken = index.lookup(PurePosixPath("bad_000001_000019_leftImg8bit.png"))
    assert broken.error and "bad_000001" in broken.error  # fails only its own frame
    assert index.ignored == [str(tmp_path / "manifest.json")]
    with pytest.raises(AnnotationError, match="manifest.json"):
        load_annotations(tmp_path / "manifest.json")
