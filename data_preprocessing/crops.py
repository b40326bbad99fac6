"""The rules that cut person crops: annotation fix, overlap, size filter, fill region, crop window
(docs/differences_from_original.md#preprocessing-command, #inclusive-boxes).

The box arithmetic is ``data.boxes`` (boxes ``(x1, y1, x2, y2)``, annotations ``XYWH``), so the training crops and
the full-frame anonymizer agree to the pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.boxes import XYWH, Box, clip_box, fill_box_pixels, xywh_to_box

CONVENTIONS = ("inclusive", "exact")


def edge_fix(box: XYWH, frame_w: int, frame_h: int) -> XYWH:
    """Move a box that runs past the right or bottom border back inside, as the original did.

    The shift is the excess plus one pixel, so the inclusive box (last column x + w) ends on the last column.
    """
    x, y, w, h = box
    if x + w > frame_w:
        x -= x + w - frame_w + 1
    if y + h > frame_h:
        y -= y + h - frame_h + 1
    return x, y, w, h


def starts_outside(raw: XYWH, fixed: XYWH, frame_w: int, frame_h: int) -> bool:
    """True for a box the edge fix cannot place: partly left of / above the frame, or starting beyond it."""
    return raw[0] >= frame_w or raw[1] >= frame_h or fixed[0] < 0 or fixed[1] < 0


@dataclass(frozen=True)
class SizeLimits:
    """Accepted visible-box size in frame pixels, inclusive (thesis: 40 <= w <= 100, 120 <= h <= 250)."""

    min_width: int = 40
    max_width: int = 100
    min_height: int = 120
    max_height: int = 250

    def reason(self, w: int, h: int) -> str | None:
        """``"too_small"``, ``"too_large"`` or None; a box failing both ways counts as too small."""
        if w < self.min_width or h < self.min_height:
            return "too_small"
        if w > self.max_width or h > self.max_height:
            return "too_large"
        return None


def fill_region(box: XYWH, convention: str, frame_w: int, frame_h: int) -> Box:
    """The pixels to fill, clipped to the frame: ``inclusive`` (the thesis) covers (w+1)×(h+1) pixels, ``exact``
    w×h. Clipping only matters for an inclusive box ending exactly on the border; the original clipped it silently.
    """
    return clip_box(xywh_to_box(box, inclusive=convention == "inclusive"), frame_w, frame_h)


def _window_start(centre: int, length: int, crop_size: int) -> int:
    return min(max(centre - crop_size // 2, 0), length - crop_size)


def crop_window(box: XYWH, frame_w: int, frame_h: int, crop_size: int) -> tuple[int, int] | None:
    """Top-left corner of the crop_size window centred on the box, clamped at the borders (the original's).

    Centre cx = x + w//2; the window [cx - crop//2, cx - crop//2 + crop) starts at 0 if it would start before
    the frame and ends at the border if it would end past it. None when the frame is smaller than the window.
    """
    if frame_w < crop_size or frame_h < crop_size:
        return None
    x, y, w, h = box
    return _window_start(x + w // 2, frame_w, crop_size), _window_start(y + h // 2, frame_h, crop_size)


def region_in_window(region: Box, window: tuple[int, int], crop_size: int) -> Box | None:
    """The region in crop coordinates, or None if it is empty or does not lie entirely inside the window."""
    left, top = window
    x1, y1, x2, y2 = region[0] - left, region[1] - top, region[2] - left, region[3] - top
    if 0 <= x1 < x2 <= crop_size and 0 <= y1 < y2 <= crop_size:
        return x1, y1, x2, y2
    return None


def make_pair(
    frame: np.ndarray,
    window: tuple[int, int],
    local_region: Box,
    crop_size: int,
    fill: str,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The training image: clean crop | the same crop with the box filled, side by side (crop × 2·crop)."""
    left, top = window
    clean = frame[top : top + crop_size, left : left + crop_size]
    filled = clean.copy()
    fill_box_pixels(filled, local_region, fill, rng)
    return np.concatenate([clean, filled], axis=1)
