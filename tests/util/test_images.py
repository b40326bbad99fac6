"""tensor <-> image conversion: rounding rule, clipping, diff maps, PNG writing, grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from util.images import diff_map_to_image, image_to_tensor, make_grid, save_image, tensor_to_image


def test_exact_values_round_half_to_even_and_clip():
    t = torch.tensor([-1.0, 1.0, 0.0, -2.0, 3.0, 1.0001, -1.0001]).view(1, 1, 7)
    px = tensor_to_image(t)
    assert px.shape == (1, 7, 3) and px.dtype == np.uint8
    # 0 -> (0 + 1) * 127.5 = 127.5 -> rint (half to even) = 128; out of range is clipped, never wrapped.
    assert px[0, :, 0].tolist() == [0, 255, 128, 0, 255, 255, 0]
    assert (px[..., 0] == px[..., 1]).all() and (px[..., 0] == px[..., 2]).all()


def test_rounds_instead_of_truncating():
    # 254.9 would be truncated to 254 by a plain cast.
    x = 254.9 / 127.5 - 1
    assert tensor_to_image(torch.full((3, 1, 1), x))[0, 0].tolist() == [255, 255, 255]


def test_batch_takes_first_sample_and_layout_is_hwc():
    t = torch.zeros(2, 3, 4, 5)
    t[0, 0] = 1.0
    t[1] = -1.0
    px = tensor_to_image(t)
    assert px.shape == (4, 5, 3)
    assert (px[..., 0] == 255).all() and (px[..., 1] == 128).all()


def test_bad_shapes_rejected():
    with pytest.raises(ValueError):
        tensor_to_image(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError):
        tensor_to_image(torch.zeros(4, 4))


@settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3))))
def test_image_tensor_round_trip(image):
    t = image_to_tensor(image)
    assert t.dtype == torch.float32 and t.shape == (3, *image.shape[:2])
    assert float(t.min()) >= -1 and float(t.max()) <= 1
    np.testing.assert_array_equal(tensor_to_image(t), image)


def test_diff_map_symmetric_scaling_without_wraparound():
    d = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0]).view(1, 1, 5)
    px = diff_map_to_image(d)[0, :, 0].tolist()
    # 127.5 + 127.5 * d / 4: -2 -> 63.75 -> 64, 0 -> 127.5 -> 128, 2 -> 191.25 -> 191.
    assert px == [0, 64, 128, 191, 255]


def test_diff_map_fixed_range_clips_and_zero_map_is_grey():
    d = torch.tensor([-10.0, -1.0, 0.0, 1.0, 10.0]).view(1, 1, 5)
    assert diff_map_to_image(d, value_range=1.0)[0, :, 0].tolist() == [0, 0, 128, 255, 255]
    assert (diff_map_to_image(torch.zeros(3, 2, 2)) == 128).all()
    # Large values that a uint8 cast would wrap (e.g. 300 -> 44) stay at the top.
    assert diff_map_to_image(torch.tensor([0.0, 300.0]).view(1, 1, 2))[0, 1, 0] == 255


def test_save_image_writes_png_and_aspect_ratio(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (8, 10, 3), dtype=np.uint8)
    path = save_image(image, tmp_path / "sub" / "a.png")
    assert path == tmp_path / "sub" / "a.png"
    np.testing.assert_array_equal(np.asarray(Image.open(path)), image)
    assert Image.open(save_image(image, tmp_path / "wide.png", aspect_ratio=2.0)).size == (20, 8)
    assert Image.open(save_image(image, tmp_path / "tall.png", aspect_ratio=0.5)).size == (10, 16)
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "sub").glob(".*.tmp"))


def test_make_grid_layout_with_variable_sizes():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((2, 3, 3), 7, np.uint8)
    grid = make_grid([a, b, a], ncols=2, padding=1)
    assert grid.shape == (1 + 4 + 1 + 4 + 1, 1 + 4 + 1 + 4 + 1, 3)
    assert (grid[1:5, 1:5] == 0).all()
    assert (grid[1:3, 6:9] == 7).all() and (grid[3:5, 6:10] == 255).all()
    assert (grid[6:10, 1:5] == 0).all() and (grid[6:10, 6:10] == 255).all()
    with pytest.raises(ValueError):
        make_grid([], 2)
