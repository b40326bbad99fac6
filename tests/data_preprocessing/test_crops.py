"""Exact crop geometry: edge fix, overlap, size filter, fill region, window, fill."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.boxes import GREY, fill_box_pixels, overlapping
from data_preprocessing import crops

W, H, C = 2048, 1024, 256


# ----- crop window: centre x + w//2, [cx-128, cx+128) clamped to the frame


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((1000, 400, 50, 150), (897, 347)),  # interior: 1025-128, 475-128
        ((1000, 400, 51, 151), (897, 347)),  # odd sizes floor the half: 1000+25, 400+75
        ((10, 400, 50, 150), (0, 347)),  # left border: cx=35 would start at -93
        ((103, 400, 50, 150), (0, 347)),  # cx=128: starts exactly at 0, no clamp needed
        ((104, 400, 50, 150), (1, 347)),  # cx=129
        ((102, 400, 50, 150), (0, 347)),  # cx=127: would start at -1
        ((2000, 400, 40, 150), (1792, 347)),  # right border: would end at 2148
        ((1895, 400, 50, 150), (1792, 347)),  # cx=1920: ends exactly at 2048
        ((1896, 400, 50, 150), (1792, 347)),  # cx=1921: would end at 2049
        ((1894, 400, 50, 150), (1791, 347)),  # cx=1919
        ((1000, 5, 50, 120), (897, 0)),  # top border
        ((1000, 900, 50, 120), (897, 768)),  # bottom border: cy=960 would end at 1088
        ((0, 0, 40, 120), (0, 0)),  # top-left corner
        ((2000, 900, 40, 120), (1792, 768)),  # bottom-right corner
        ((2000, 0, 40, 120), (1792, 0)),  # top-right corner
        ((0, 900, 40, 120), (0, 768)),  # bottom-left corner
    ],
)
def test_crop_window_at_every_border(box, expected):
    assert crops.crop_window(box, W, H, C) == expected


def test_crop_window_generalises_to_other_crop_sizes_and_small_frames():
    assert crops.crop_window((100, 50, 20, 40), 512, 256, 64) == (78, 38)  # 110-32, 70-32
    assert crops.crop_window((490, 195, 20, 60), 512, 256, 64) == (448, 192)
    assert crops.crop_window((0, 0, 10, 10), 64, 64, 64) == (0, 0)  # frame exactly the crop size
    assert crops.crop_window((0, 0, 10, 10), 63, 300, 64) is None  # frame narrower than the crop
    assert crops.crop_window((0, 0, 10, 10), 300, 63, 64) is None


# ----- annotation edge fix


def test_edge_fix_moves_boxes_past_right_and_bottom_by_excess_plus_one():
    assert crops.edge_fix((2020, 100, 40, 150), W, H) == (2007, 100, 40, 150)  # 2060 > 2048: 12 + 1
    assert crops.edge_fix((100, 900, 40, 150), W, H) == (100, 873, 40, 150)  # 1050 > 1024: 26 + 1
    assert crops.edge_fix((2020, 900, 40, 150), W, H) == (2007, 873, 40, 150)
    assert crops.edge_fix((2008, 874, 40, 150), W, H) == (2008, 874, 40, 150)  # ends exactly on the border
    assert crops.edge_fix((0, 0, 40, 150), W, H) == (0, 0, 40, 150)


def test_starts_outside_catches_left_top_and_beyond_the_frame():
    def outside(box):
        return crops.starts_outside(box, crops.edge_fix(box, W, H), W, H)

    assert outside((-1, 10, 40, 120))
    assert outside((10, -5, 40, 120))
    assert outside((W, 10, 40, 120))
    assert outside((10, H, 40, 120))
    assert outside((10, 10, W + 5, 120))  # the fix would push it past the left border
    assert not outside((0, 0, 40, 120))
    assert not outside((2020, 900, 40, 150))  # right/bottom overflow is what the edge fix is for


# ----- overlap: inclusive-pixel IoU (data/boxes.py), both members of a pair


def test_overlapping_returns_both_members_and_respects_the_threshold():
    boxes = [(0, 0, 9, 9), (100, 100, 9, 9), (5, 0, 9, 9), (300, 300, 9, 9), (108, 100, 9, 9)]
    assert overlapping(boxes, 0.1) == {0, 2, 1, 4}  # IoU 1/3 and 20/180 = 0.111
    assert overlapping(boxes, 0.2) == {0, 2}
    assert overlapping(boxes, 50 / 150) == {0, 2}  # >= is inclusive
    assert overlapping([], 0.1) == set()


def test_size_limits_are_inclusive_and_name_the_reason():
    limits = crops.SizeLimits()
    assert limits.reason(40, 120) is None
    assert limits.reason(100, 250) is None
    assert limits.reason(39, 200) == "too_small"
    assert limits.reason(60, 119) == "too_small"
    assert limits.reason(101, 200) == "too_large"
    assert limits.reason(60, 251) == "too_large"
    assert limits.reason(30, 300) == "too_small"  # fails both ways: counted once, as too small


# ----- fill region and its place in the window


def test_fill_region_conventions():
    assert crops.fill_region((10, 20, 5, 7), "inclusive", W, H) == (10, 20, 16, 28)  # (w+1)×(h+1)
    assert crops.fill_region((10, 20, 5, 7), "exact", W, H) == (10, 20, 15, 27)
    # An inclusive box ending exactly on the border (not edge-fixed) is clipped, like the original's slice.
    assert crops.fill_region((2008, 874, 40, 150), "inclusive", W, H) == (2008, 874, 2048, 1024)


def test_region_in_window():
    assert crops.region_in_window((100, 50, 121, 91), (78, 38), 64) == (22, 12, 43, 53)
    assert crops.region_in_window((490, 195, 512, 256), (448, 192), 64) == (42, 3, 64, 64)
    assert crops.region_in_window((70, 50, 121, 91), (78, 38), 64) is None  # starts left of the window
    assert crops.region_in_window((100, 50, 143, 91), (78, 38), 64) is None  # ends past it
    assert crops.region_in_window((100, 50, 100, 91), (78, 38), 64) is None  # empty


@given(
    x=st.integers(0, 2047),
    y=st.integers(0, 1023),
    w=st.integers(1, 254),
    h=st.integers(1, 254),
    convention=st.sampled_from(crops.CONVENTIONS),
)
def test_a_box_up_to_crop_minus_two_always_fits_its_window(x, y, w, h, convention):
    box = crops.edge_fix((x, y, w, h), W, H)
    if crops.starts_outside((x, y, w, h), box, W, H):
        return
    left, top = crops.crop_window(box, W, H, C)
    assert 0 <= left <= W - C and 0 <= top <= H - C
    local = crops.region_in_window(crops.fill_region(box, convention, W, H), (left, top), C)
    assert local is not None
    extra = convention == "inclusive"
    # Full size, except an inclusive box ending exactly on the border, which is clipped to the frame.
    assert local[2] - local[0] == min(w + extra, W - box[0])
    assert local[3] - local[1] == min(h + extra, H - box[1])


# ----- filling


def test_noise_fill_only_inside_the_region_with_equal_channels():
    image = np.full((64, 64, 3), 50, np.uint8)
    fill_box_pixels(image, (10, 5, 30, 45), "noise", np.random.default_rng(0))
    inside = image[5:45, 10:30]
    assert set(np.unique(inside)) == {0, 127, 255}
    assert (inside[..., 0] == inside[..., 1]).all() and (inside[..., 1] == inside[..., 2]).all()
    outside = image.copy()
    outside[5:45, 10:30] = 50
    assert (outside == 50).all()


def test_noise_is_reproducible_from_the_generator_and_grey_is_solid():
    a, b = np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20, 3), np.uint8)
    fill_box_pixels(a, (0, 0, 20, 20), "noise", np.random.default_rng([1, 2, 3]))
    fill_box_pixels(b, (0, 0, 20, 20), "noise", np.random.default_rng([1, 2, 3]))
    assert (a == b).all()
    grey = np.zeros((20, 20, 3), np.uint8)
    fill_box_pixels(grey, (2, 3, 5, 9), "grey")
    assert (grey[3:9, 2:5] == GREY).all() and grey.sum() == GREY * 3 * 6 * 3
    with pytest.raises(ValueError):
        fill_box_pixels(grey, (2, 3, 5, 9), "noise")


def test_make_pair_is_clean_left_and_filled_right():
    frame = np.random.default_rng(0).integers(0, 256, (256, 512, 3), dtype=np.uint8)
    pair = crops.make_pair(frame, (78, 38), (22, 12, 43, 53), 64, "grey")
    assert pair.shape == (64, 128, 3)
    assert (pair[:, :64] == frame[38:102, 78:142]).all()
    right = pair[:, 64:]
    assert (right[12:53, 22:43] == GREY).all()
    mask = np.ones((64, 64), bool)
    mask[12:53, 22:43] = False
    assert (right[mask] == pair[:, :64][mask]).all()
