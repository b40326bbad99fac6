"""Box geometry and I/O, the one home of boxes (data/boxes.py)."""

from __future__ import annotations

import json
import math
import pickle
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from data.boxes import (
    box_mask,
    box_masks,
    box_size,
    box_to_xywh,
    boxes_overlap,
    clip_box,
    crop_box,
    flip_box,
    iou,
    is_empty,
    load_box,
    outward_box,
    save_box,
    scale_box,
    shift_box,
    validate_box,
    xywh_to_box,
)
from data.errors import DatasetError

SETTINGS = settings(max_examples=80, deadline=None)


@st.composite
def boxes_in(draw: st.DrawFn, max_side: int = 80) -> tuple[tuple[int, int, int, int], int, int]:
    """(box, width, height) with a non-empty box inside the image."""
    width = draw(st.integers(1, max_side))
    height = draw(st.integers(1, max_side))
    x1 = draw(st.integers(0, width - 1))
    y1 = draw(st.integers(0, height - 1))
    x2 = draw(st.integers(x1 + 1, width))
    y2 = draw(st.integers(y1 + 1, height))
    return (x1, y1, x2, y2), width, height


# ---- loading -------------------------------------------------------------------------------------
def test_both_schemas_load_identically(tmp_path):
    new, legacy = tmp_path / "new.json", tmp_path / "legacy.json"
    new.write_text(json.dumps({"x1": 3, "y1": 4, "x2": 30, "y2": 60}))
    legacy.write_text(json.dumps({"x": 3, "y": 4, "w": 30, "h": 60}))  # w/h hold the exclusive corners
    assert load_box(new) == load_box(legacy) == (3, 4, 30, 60)


def test_integral_floats_and_extra_keys_are_accepted(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"x1": 3.0, "y1": 4, "x2": 30.0, "y2": 60, "label": "pedestrian"}))
    assert load_box(path) == (3, 4, 30, 60)
    assert all(type(v) is int for v in load_box(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "malformed JSON"),
        ("", "malformed JSON"),
        ("[1, 2, 3, 4]", "expected a JSON object"),
        ('{"left": 1, "top": 2, "right": 3, "bottom": 4}', "expected keys"),
        ('{"x1": 1, "y1": 2, "x2": 3}', "expected keys"),
        ('{"x1": 1.5, "y1": 2, "x2": 3, "y2": 4}', "not an integer"),
        ('{"x1": "1", "y1": 2, "x2": 3, "y2": 4}', "not an integer"),
        ('{"x1": true, "y1": 2, "x2": 3, "y2": 4}', "not an integer"),
        ('{"x1": NaN, "y1": 2, "x2": 3, "y2": 4}', "not an integer"),
    ],
)
def test_bad_json_names_the_file(tmp_path, content, problem):
    path = tmp_path / "person_7.json"
    path.write_text(content)
    with pytest.raises(DatasetError) as info:
        load_box(path)
    assert str(info.value).startswith(str(path))
    assert problem in str(info.value)


def test_missing_json_names_the_file(tmp_path):
    with pytest.raises(DatasetError, match="person_8.json: box file not found") as info:
        load_box(tmp_path / "person_8.json")
    assert info.value.kind == "missing JSON"


def test_dataset_error_survives_pickling():
    err = DatasetError("/x/a.json", "empty box", kind="empty box")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.path, copy.kind) == ("/x/a.json: empty box", "/x/a.json", "empty box")
    assert isinstance(copy, ValueError)


# ---- saving --------------------------------------------------------------------------------------
def test_save_box_round_trips_atomically(tmp_path):
    path = tmp_path / "a.json"
    save_box(path, (1, 2, 3, 4))
    save_box(path, (5, 6, 7, 8))  # overwrite
    assert json.loads(path.read_text()) == {"x1": 5, "y1": 6, "x2": 7, "y2": 8}
    assert load_box(path) == (5, 6, 7, 8)
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_save_box_rejects_non_integers(tmp_path):
    with pytest.raises(ValueError):
        save_box(tmp_path / "a.json", (1.5, 2, 3, 4))  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


# ---- validation ----------------------------------------------------------------------------------
def test_validate_box_accepts_boxes_touching_the_border():
    assert validate_box((0, 0, 64, 64), 64, 64, "b.json") == (0, 0, 64, 64)


@pytest.mark.parametrize("box", [(10, 10, 10, 20), (10, 10, 20, 10), (30, 5, 20, 9)])
def test_validate_box_rejects_empty(box):
    with pytest.raises(DatasetError, match=r"^b\.json: empty box") as info:
        validate_box(box, 64, 64, "b.json")
    assert info.value.kind == "empty box"


@pytest.mark.parametrize("box", [(-1, 0, 10, 10), (0, -2, 10, 10), (0, 0, 65, 10), (0, 0, 10, 70)])
def test_validate_box_rejects_outside(box):
    with pytest.raises(DatasetError, match=r"^b\.json: box outside the image.*64x64"):
        validate_box(box, 64, 64, "b.json")


# ---- arithmetic ----------------------------------------------------------------------------------
@SETTINGS
@given(boxes_in())
def test_mask_matches_box(case):
    box, width, height = case
    mask = box_mask(box, height, width)
    assert mask.shape == (1, height, width) and mask.dtype == torch.float32
    w, h = box_size(box)
    assert mask.sum().item() == w * h
    ys, xs = torch.nonzero(mask[0], as_tuple=True)
    assert (xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1) == box


def test_mask_of_a_box_beyond_the_image_is_clipped_not_wrapped():
    mask = box_mask((-5, -5, 3, 2), 8, 8)
    assert mask.sum().item() == 3 * 2 and mask[0, :2, :3].all()


@SETTINGS
@given(boxes_in())
def test_flip_twice_is_identity_and_keeps_size(case):
    box, width, _ = case
    flipped = flip_box(box, width)
    assert flip_box(flipped, width) == box
    assert box_size(flipped) == box_size(box)
    assert clip_box(flipped, width, 10**6)[0::2] == flipped[0::2]  # still inside horizontally


def test_flip_formula():
    assert flip_box((10, 3, 30, 9), 64) == (34, 3, 54, 9)


@SETTINGS
@given(boxes_in(), st.integers(1, 300), st.integers(1, 300))
def test_scale_covers_the_real_box_tightly(case, new_w, new_h):
    box, width, height = case
    scaled = scale_box(box, (width, height), (new_w, new_h))
    sx, sy = Fraction(new_w, width), Fraction(new_h, height)
    exact = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    assert scaled == (math.floor(exact[0]), math.floor(exact[1]), math.ceil(exact[2]), math.ceil(exact[3]))
    assert scaled[0] <= exact[0] and scaled[1] <= exact[1] and scaled[2] >= exact[2] and scaled[3] >= exact[3]
    assert 0 <= scaled[0] < scaled[2] <= new_w and 0 <= scaled[1] < scaled[3] <= new_h


@SETTINGS
@given(boxes_in(), st.integers(0, 80), st.integers(0, 80), st.integers(1, 80), st.integers(1, 80))
def test_crop_equals_direct_computation(case, left, top, crop_w, crop_h):
    box, _, _ = case
    cropped = crop_box(box, left, top, crop_w, crop_h)
    direct = (
        min(max(box[0] - left, 0), crop_w),
        min(max(box[1] - top, 0), crop_h),
        min(max(box[2] - left, 0), crop_w),
        min(max(box[3] - top, 0), crop_h),
    )
    assert cropped == direct
    assert 0 <= cropped[0] <= cropped[2] <= crop_w and 0 <= cropped[1] <= cropped[3] <= crop_h
    # The cropped box's mask is the crop of the original mask.
    big = box_mask(box, top + crop_h + 80, left + crop_w + 80)
    window = big[:, top : top + crop_h, left : left + crop_w]
    assert torch.equal(window, box_mask(cropped, crop_h, crop_w))


def test_shift_and_size():
    assert shift_box((1, 2, 3, 4), 10, -1) == (11, 1, 13, 3)
    assert box_size((5, 5, 3, 9)) == (0, 4)


def test_iou_values():
    a, b = (0, 0, 10, 10), (5, 5, 15, 15)
    assert iou(a, a) == 1.0
    assert iou(a, (20, 20, 30, 30)) == 0.0
    assert iou(a, b) == pytest.approx(25 / 175)
    assert iou(a, b, inclusive=True) == pytest.approx(36 / (121 + 121 - 36))
    assert iou((3, 3, 3, 3), (3, 3, 3, 3)) == 0.0  # empty boxes: no union, no overlap


def test_inclusive_iou_of_citypersons_boxes_counts_the_last_row_and_column():
    def inclusive(a, b):  # (x, y, w, h) spanning columns x..x+w, as the original notebooks read them
        return iou(xywh_to_box(a, inclusive=False), xywh_to_box(b, inclusive=False), inclusive=True)

    a = (0, 0, 9, 9)  # columns/rows 0..9: 10×10 = 100 px
    assert inclusive(a, a) == 1.0
    assert inclusive(a, (5, 0, 9, 9)) == pytest.approx(50 / 150)
    assert inclusive(a, (9, 9, 9, 9)) == pytest.approx(1 / 199)  # one shared pixel
    assert inclusive(a, (10, 0, 9, 9)) == 0.0  # adjacent, no shared pixel
    assert inclusive((200, 150, 20, 40), (205, 150, 20, 40)) == pytest.approx(656 / 1066)
    # The same numbers from the exact IoU of the boxes covering (w+1)×(h+1) pixels.
    assert iou(xywh_to_box(a, inclusive=True), xywh_to_box((5, 0, 9, 9), inclusive=True)) == pytest.approx(50 / 150)


def test_xywh_conversions_round_trip_in_both_conventions():
    assert xywh_to_box((10, 20, 5, 7), inclusive=True) == (10, 20, 16, 28)  # (w+1)×(h+1) pixels
    assert xywh_to_box((10, 20, 5, 7), inclusive=False) == (10, 20, 15, 27)
    for inclusive in (True, False):
        assert box_to_xywh(xywh_to_box((3, 4, 5, 6), inclusive), inclusive) == (3, 4, 5, 6)


def test_outward_rounding_covers_real_corners():
    assert outward_box(1.2, 2.0, 10.01, 11.0) == (1, 2, 11, 11)
    assert outward_box(-0.5, 3.9, 4.0, 5.5) == (-1, 3, 4, 6)


def test_emptiness_and_overlap():
    assert is_empty((3, 3, 3, 9)) and is_empty((5, 0, 4, 9)) and not is_empty((0, 0, 1, 1))
    assert boxes_overlap((0, 0, 10, 10), (9, 9, 20, 20))
    assert not boxes_overlap((0, 0, 10, 10), (10, 0, 20, 10))  # touching edges share no pixel
    assert is_empty(clip_box((600, 10, 700, 50), 512, 256))  # fully outside: empty after clipping


def test_batch_masks_equal_the_single_box_masks():
    boxes = [(2, 3, 10, 12), (-5, 0, 4, 30), (0, 0, 0, 5)]
    masks = box_masks(torch.tensor(boxes), 16, 16)
    assert masks.shape == (3, 1, 16, 16) and masks.dtype == torch.float32
    for mask, box in zip(masks, boxes, strict=True):
        assert torch.equal(mask, box_mask(box, 16, 16))
        x1, y1, x2, y2 = clip_box(box, 16, 16)
        assert mask.sum() == (x2 - x1) * (y2 - y1)
