"""Paired transforms that carry a box exactly (data/transforms.py)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from data.boxes import box_mask, box_size, fill_box, flip_box
from data.errors import DatasetError
from data.transforms import (
    TransformConfig,
    TransformParams,
    check_box_feasible,
    crop_position,
    downscale,
    min_box_side,
    sample_params,
    to_tensor,
    transform_box,
    transform_image,
    working_size,
)

SETTINGS = settings(max_examples=60, deadline=None)
BACKGROUND, INK = 200, 10
PREPROCESS_CHOICES = ("resize", "resize_crop", "scale_width", "scale_width_crop", "crop", "none",
                      "resize_none")


def config(preprocess: str = "resize_crop", load: int = 72, crop: int = 64, **kw: bool) -> TransformConfig:
    kw.setdefault("flip", True)
    kw.setdefault("jitter", False)
    return TransformConfig.parse(preprocess, load, crop, **kw)


def two_tone(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """Grey background with the box painted dark: the box is visible in the pixels."""
    width, height = size
    pixels = np.full((height, width), BACKGROUND, np.uint8)
    x1, y1, x2, y2 = box
    pixels[y1:y2, x1:x2] = INK
    return Image.fromarray(pixels)


@st.composite
def box_cases(draw: st.DrawFn, min_side: int = 1) -> tuple[tuple[int, int, int, int], int]:
    """(box, image side) for a square crop like the dataset's."""
    side = draw(st.integers(16, 80))
    w = draw(st.integers(min_side, side))
    h = draw(st.integers(min_side, side))
    x1 = draw(st.integers(0, side - w))
    y1 = draw(st.integers(0, side - h))
    return (x1, y1, x1 + w, y1 + h), side


# ---- configuration -------------------------------------------------------------------------------
def test_tokens_are_substrings():
    cfg = TransformConfig.parse("resize_crop_contrast", 286, 256, flip=True, jitter=True)
    assert (cfg.resize, cfg.crop, cfg.contrast, cfg.color, cfg.scale_width, cfg.round_to_base) == (
        True, True, True, False, False, False,
    )
    assert TransformConfig.parse("none", 1, 1, flip=True, jitter=False).round_to_base


def test_from_opt_jitters_only_in_the_train_phase(opt_factory, tmp_path):
    assert TransformConfig.from_opt(opt_factory(tmp_path)).jitter
    assert not TransformConfig.from_opt(opt_factory(tmp_path, phase="val")).jitter
    assert not TransformConfig.from_opt(opt_factory(tmp_path, isTrain=False)).jitter
    assert not TransformConfig.from_opt(opt_factory(tmp_path, no_flip=True)).flip


def test_working_sizes():
    assert working_size((64, 64), config("resize_crop", 72)) == (72, 72)
    assert working_size((64, 32), config("scale_width", 96)) == (96, 48)
    assert working_size((64, 32), config("scale_width_crop", 96)) == (96, 64)  # height kept >= crop
    assert working_size((64, 48), config("crop")) == (64, 48)


def test_min_box_side_scales_with_crop():
    assert min_box_side(256) == 32 and min_box_side(64) == 8 and min_box_side(128) == 16


def test_crop_positions_per_attempt():
    size, crop = (72, 80), 64
    for attempt, check in [
        (1, lambda x, y: x == 0),
        (2, lambda x, y: x == 8),  # flush right: W - crop, not W - crop - 1
        (3, lambda x, y: y == 0),
        (4, lambda x, y: y == 16),
    ]:
        x, y = crop_position(np.random.default_rng(attempt), attempt, size, crop)
        assert check(x, y) and 0 <= x <= 8 and 0 <= y <= 16


# ---- box tracking: properties --------------------------------------------------------------------
@SETTINGS
@given(
    box_cases(),
    st.sampled_from(PREPROCESS_CHOICES),
    st.integers(0, 2**32 - 1),
)
def test_box_stays_inside_the_transformed_image(case, preprocess, seed):
    box, side = case
    crop = min(side, 48)
    cfg = config(preprocess, load=side + 8, crop=crop)
    params = sample_params_unchecked(np.random.default_rng(seed), (side, side), cfg)
    new_box = transform_box(box, (side, side), params, cfg)
    out = transform_image(two_tone((side, side), box), params, cfg)
    height, width = out.shape[1:]
    assert 0 <= new_box[0] <= new_box[2] <= width and 0 <= new_box[1] <= new_box[3] <= height


def sample_params_unchecked(
    rng: np.random.Generator, size: tuple[int, int], cfg: TransformConfig
) -> TransformParams:
    """Random params without the minimum-box retry (the properties hold for any params)."""
    work = working_size(size, cfg)
    crop_pos = crop_position(rng, int(rng.integers(0, 5)), work, cfg.crop_size) if cfg.crop else None
    return TransformParams(work, crop_pos, bool(rng.integers(0, 2)) and cfg.flip)


@SETTINGS
@given(box_cases(), st.integers(0, 2**32 - 1), st.booleans())
def test_crop_and_flip_move_pixels_and_box_together(case, seed, with_crop):
    """Without scaling pixels move exactly, so the painted region must equal the box mask."""
    box, side = case
    crop = max(1, side - 7) if with_crop else side
    cfg = config("crop" if with_crop else "resize", load=side, crop=crop)
    params = sample_params_unchecked(np.random.default_rng(seed), (side, side), cfg)
    new_box = transform_box(box, (side, side), params, cfg)
    out = transform_image(two_tone((side, side), box), params, cfg)
    painted = (out < 0).float()  # INK maps below 0, BACKGROUND above
    assert torch.equal(painted, box_mask(new_box, *out.shape[1:]))


@SETTINGS
@given(box_cases(min_side=3), st.integers(24, 120), st.integers(0, 2**32 - 1), st.booleans())
def test_box_covers_the_resized_content(case, load, seed, with_crop):
    """After a bicubic resize (and crop/flip), every pixel that is mostly ink lies inside the tracked box."""
    box, side = case
    crop = min(load, side)
    cfg = config("resize_crop" if with_crop else "resize", load=load, crop=crop)
    params = sample_params_unchecked(np.random.default_rng(seed), (side, side), cfg)
    new_box = transform_box(box, (side, side), params, cfg)
    out = transform_image(two_tone((side, side), box), params, cfg)
    ink = to_tensor(Image.new("L", (1, 1), INK)).item()
    background = to_tensor(Image.new("L", (1, 1), BACKGROUND)).item()
    mostly_ink = (out - ink).abs() < 0.25 * (background - ink)
    assert not (mostly_ink & (box_mask(new_box, *out.shape[1:]) == 0)).any()


@SETTINGS
@given(box_cases(), st.integers(16, 120), st.integers(0, 2**32 - 1))
def test_resize_crop_box_equals_direct_computation(case, load, seed):
    box, side = case
    crop = min(load, 16)
    cfg = config("resize_crop", load=load, crop=crop, flip=False)
    params = sample_params_unchecked(np.random.default_rng(seed), (side, side), cfg)
    assert params.crop_pos is not None
    cx, cy = params.crop_pos
    s = Fraction(load, side)

    def axis(lo: int, hi: int, offset: int) -> tuple[int, int]:
        a, b = math.floor(lo * s) - offset, math.ceil(hi * s) - offset
        return min(max(a, 0), crop), min(max(b, 0), crop)

    (x1, x2), (y1, y2) = axis(box[0], box[2], cx), axis(box[1], box[3], cy)
    assert transform_box(box, (side, side), params, cfg) == (x1, y1, x2, y2)


@SETTINGS
@given(box_cases(), st.integers(0, 2**32 - 1))
def test_flip_param_mirrors_the_box(case, seed):
    box, side = case
    cfg = config("resize_crop", load=side + 4, crop=side)
    params = sample_params_unchecked(np.random.default_rng(seed), (side, side), cfg)
    plain = TransformParams(params.size, params.crop_pos, False)
    flipped = TransformParams(params.size, params.crop_pos, True)
    expected = flip_box(transform_box(box, (side, side), plain, cfg), side)
    assert transform_box(box, (side, side), flipped, cfg) == expected


@SETTINGS
@given(box_cases(min_side=16), st.integers(0, 2**32 - 1))
def test_sampled_params_keep_the_minimum_box(case, seed):
    box, side = case
    cfg = config("resize_crop", load=side + 16, crop=side)
    try:
        params = sample_params(np.random.default_rng(seed), (side, side), box, cfg, "x.json")
    except DatasetError as err:  # possible for boxes hugging a corner; must then name the file
        assert str(err).startswith("x.json: box too small after cropping")
        return
    w, h = box_size(transform_box(box, (side, side), params, cfg))
    assert min(w, h) >= min_box_side(side)


# ---- box tracking: examples ----------------------------------------------------------------------
def test_resize_at_the_same_size_is_identity_or_mirror():
    cfg = config("resize", load=64, crop=64)
    box = (10, 5, 30, 50)
    assert transform_box(box, (64, 64), TransformParams((64, 64), None, False), cfg) == box
    assert transform_box(box, (64, 64), TransformParams((64, 64), None, True), cfg) == (34, 5, 54, 50)


def test_none_rounds_to_a_multiple_of_four_and_scales_the_box():
    cfg = config("none", crop=62)
    params = TransformParams((62, 62), None, False)
    assert transform_image(Image.new("RGB", (62, 62)), params, cfg).shape == (3, 64, 64)
    assert transform_box((0, 0, 31, 62), (62, 62), params, cfg) == (0, 0, 32, 64)


def test_flush_right_crop_keeps_a_box_at_the_right_edge():
    """Attempt 2 is flush right (x = W - crop); the original's x = W - crop - 1 cut a column off this box."""
    cfg = config("crop", crop=56)
    box = (48, 0, 64, 40)  # the last 16 columns of a 64-px image
    x, _ = crop_position(np.random.default_rng(0), 2, (64, 64), 56)
    params = TransformParams((64, 64), (x, 0), False)
    assert box_size(transform_box(box, (64, 64), params, cfg)) == (16, 40)


def test_too_small_box_raises_naming_the_file():
    cfg = config("resize", load=64, crop=64)
    with pytest.raises(DatasetError, match=r"^p_3\.json: box too small after resizing: 4x40 px, minimum 8"):
        sample_params(np.random.default_rng(0), (64, 64), (10, 10, 14, 50), cfg, "p_3.json")
    with pytest.raises(DatasetError, match=r"^p_3\.json: box too small: at most 4x40 px"):
        check_box_feasible((64, 64), (10, 10, 14, 50), cfg, "p_3.json")
    check_box_feasible((64, 64), (10, 10, 18, 50), cfg, "p_3.json")


def test_box_that_no_crop_can_keep_fails_after_five_attempts():
    cfg = config("resize_crop", load=128, crop=64)  # box scales to 8 px, cropped further by most positions
    with pytest.raises(DatasetError, match="box too small"):
        check_box_feasible((64, 64), (0, 0, 3, 60), cfg, "q.json")


def test_crop_larger_than_the_image_is_reported():
    with pytest.raises(DatasetError, match="smaller than crop_size 64"):
        cfg = config("resize_crop", load=48)
        sample_params(np.random.default_rng(0), (64, 64), (0, 0, 32, 32), cfg, "r.png")


def test_no_flip_keeps_the_crop_stream():
    box = (8, 8, 56, 56)
    a = sample_params(np.random.default_rng(5), (64, 64), box, config(flip=True), "x")
    b = sample_params(np.random.default_rng(5), (64, 64), box, config(flip=False), "x")
    assert a.crop_pos == b.crop_pos and not b.flip


# ---- colour --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("preprocess", "jitter", "brightness_range", "contrast_range"),
    [
        ("resize_crop_color_contrast", True, (0.9, 1.2), (1.0, 1.2)),
        ("resize_crop_contrast", True, (1.0, 1.0), (1.0, 1.2)),
        ("resize_crop_color", True, (0.9, 1.2), (1.0, 1.0)),
        ("resize_crop_color_contrast", False, (1.0, 1.0), (1.0, 1.0)),
    ],
)
def test_colour_factors(preprocess, jitter, brightness_range, contrast_range):
    cfg = config(preprocess, jitter=jitter)
    for seed in range(20):
        params = sample_params(np.random.default_rng(seed), (64, 64), (8, 8, 56, 56), cfg, "x")
        assert brightness_range[0] <= params.brightness <= brightness_range[1]
        assert contrast_range[0] <= params.contrast <= contrast_range[1]


def test_colour_never_moves_the_box():
    cfg = config("resize_crop_color_contrast", jitter=True)
    params = sample_params(np.random.default_rng(1), (64, 64), (8, 8, 56, 56), cfg, "x")
    plain = TransformParams(params.size, params.crop_pos, params.flip)
    assert params.brightness != 1.0 and params.contrast != 1.0
    box = (8, 8, 56, 56)
    assert transform_box(box, (64, 64), params, cfg) == transform_box(box, (64, 64), plain, cfg)


def test_brightness_multiplies_and_contrast_blends_with_the_grey_mean():
    cfg = config("resize")
    flat = Image.new("RGB", (64, 64), (100, 50, 200))
    bright = transform_image(flat, TransformParams((64, 64), None, False, brightness=1.1), cfg)
    assert torch.allclose((bright + 1) * 127.5, torch.tensor([110.0, 55.0, 220.0])[:, None, None], atol=0.01)
    # A constant grey image is its own mean: contrast leaves it unchanged.
    grey = Image.new("RGB", (64, 64), (90, 90, 90))
    same = transform_image(grey, TransformParams((64, 64), None, False, contrast=1.2), cfg)
    assert torch.equal(same, to_tensor(grey))
    # Half 40 / half 160: mean 100, so contrast 1.2 gives 100 + 1.2 * (x - 100) = 28 and 172.
    row = np.array([[40] * 32 + [160] * 32], np.uint8)
    halves = Image.fromarray(np.repeat(row, 64, axis=0)).convert("RGB")
    out = (transform_image(halves, TransformParams((64, 64), None, False, contrast=1.2), cfg) + 1) * 127.5
    assert abs(out[0, 0, 0].item() - 28) <= 1 and abs(out[0, 0, -1].item() - 172) <= 1


# ---- tensors and fills ---------------------------------------------------------------------------
def test_to_tensor_range():
    img = Image.fromarray(np.array([[0, 255]], np.uint8))
    assert to_tensor(img).tolist() == [[[-1.0, 1.0]]]
    assert to_tensor(Image.new("RGB", (3, 2))).shape == (3, 2, 3)


def test_fill_modes():
    image = torch.full((3, 8, 8), 0.5)
    box = (2, 1, 6, 7)
    inside = box_mask(box, 8, 8).bool().expand(3, 8, 8)
    none = fill_box(image.clone(), box, "none", np.random.default_rng(0))
    assert (none[inside] == 0).all() and (none[~inside] == 0.5).all()
    rand = fill_box(image.clone(), box, "random", np.random.default_rng(0))
    values = rand[:, 1:7, 2:6]
    assert set(values.unique().tolist()) == {-1.0, 0.0, 1.0}
    assert torch.equal(values[0], values[1]) and torch.equal(values[0], values[2])
    assert (rand[~inside] == 0.5).all()
    assert torch.equal(fill_box(image.clone(), box, "original", np.random.default_rng(0)), image)
    with pytest.raises(ValueError, match="bbox_noise"):
        fill_box(image, box, "grey", np.random.default_rng(0))


def test_downscale_is_antialiased_and_clamped():
    checker = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(3, 32, 32)
    small = downscale(checker, (32, 32))
    assert small.shape == (3, 32, 32)
    assert small.abs().max() < 0.05  # a 2-px checkerboard averages out instead of aliasing
    assert downscale(torch.ones(3, 64, 64), (16, 16)).max() <= 1.0
