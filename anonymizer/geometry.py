"""Where each person is generated: the training-time window, the large-box path, or a fallback.

The window arithmetic is ``data_preprocessing.crops`` (the same code that cut the training crops): a square
window centred on the box (centre ``x + w//2`` of the inclusive box), clamped at the frame borders. Its side in
frame pixels is ``window_side``: the square that the training transforms turned into one ``crop_size`` model
input (``data.transforms.source_window_side``: 256 px crops trained at ``--load_size 143 --crop_size 128`` make
229 px windows), so people reach the generator at the scale it learned them; without a recorded training scale
it is ``crop_size``. ``margin`` is in model pixels. Three paths:

- ``window``: the box fits with ``margin`` to spare — the window is cut like a training crop (and resized to
  ``crop_size`` when ``window_side`` differs from it);
- ``scaled``: a box too large for that (or a frame smaller than the window) gets a square window of side
  ``max(w, h) + 2·margin`` (at most the frame's short side), centred and clamped the same way, resized to
  ``crop_size`` for the generator and back for the paste;
- ``fallback``: a box whose side in model pixels is below the dataset's minimum (``min_box_side``, 32 px at
  256: the model never saw such people) or that no square window can hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from data.boxes import Box, box_to_xywh, scale_box
from data.transforms import min_box_side
from data_preprocessing import crops


@dataclass(frozen=True)
class Placement:
    path: str  # "window", "scaled" or "fallback"
    window: Box | None = None  # frame pixels the generator reads (x1, y1, x2, y2)
    local_box: Box | None = None  # the box in model pixels (crop_size × crop_size)
    reason: str | None = None  # why a fallback

    @property
    def side(self) -> int:
        return self.window[2] - self.window[0] if self.window else 0


def default_margin(crop_size: int) -> int:
    return max(crop_size // 32, 1)  # 8 px at 256: the thesis kept boxes up to 251 px tall in 256 crops


def _window_at(region: Box, side: int, width: int, height: int) -> tuple[Box, Box] | None:
    corner = crops.crop_window(box_to_xywh(region, inclusive=True), width, height, side)
    if corner is None:
        return None
    local = crops.region_in_window(region, corner, side)
    if local is None:
        return None
    left, top = corner
    return (left, top, left + side, top + side), local


def place(region: Box, width: int, height: int, crop_size: int, margin: int,
          window_side: int | None = None) -> Placement:
    """Decide the path for one (clipped) box in a width × height frame (see the module docstring)."""
    window_side = window_side or crop_size
    w, h = region[2] - region[0], region[3] - region[1]
    frame_margin = math.ceil(margin * window_side / crop_size)
    limit = window_side - 2 * frame_margin
    if w <= limit and h <= limit:
        fitted = _window_at(region, window_side, width, height)
        if fitted is not None:
            return _in_model_pixels("window", *fitted, crop_size)
    side = min(max(w, h) + 2 * frame_margin, width, height)
    fitted = _window_at(region, side, width, height) if side >= max(w, h) else None
    if fitted is None:
        return Placement("fallback", reason=f"cannot be windowed: {w}x{h} px box in a {width}x{height} frame")
    return _in_model_pixels("scaled", *fitted, crop_size)


def _in_model_pixels(path: str, window: Box, local: Box, crop_size: int) -> Placement:
    """The placement with its box in model pixels, or a fallback when the model never saw people that small."""
    side = window[2] - window[0]
    scaled = scale_box(local, (side, side), (crop_size, crop_size))
    sw, sh = scaled[2] - scaled[0], scaled[3] - scaled[1]
    minimum = min_box_side(crop_size)
    if sw < minimum or sh < minimum:
        size = f"{local[2] - local[0]}x{local[3] - local[1]} px" + (f" ({sw}x{sh} in the model)" if side != crop_size
                                                                   else "")
        return Placement("fallback", reason=f"too small: {size}, the model needs >= {minimum:g} px")
    return Placement(path, window, scaled)
