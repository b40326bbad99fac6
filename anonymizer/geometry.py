"""Where each person is generated: the training-time window, the large-box path, or a fallback.

The window arithmetic is ``data_preprocessing.crops`` (the same code that cut the training crops):
a ``crop_size`` window centred on the box (centre ``x + w//2`` of the inclusive box), clamped at the frame
borders. Three paths:

- ``window``: the box fits with ``margin`` pixels to spare (w, h <= crop - 2·margin) — the window is cut at frame
  resolution, exactly like a training crop;
- ``scaled``: a box too large for that (or a frame smaller than the crop) gets a square window of side
  ``max(w, h) + 2·margin`` (at most the frame's short side), centred and clamped the same way, resized to
  ``crop_size`` for the generator and back for the paste;
- ``fallback``: a box whose side in model pixels is below the dataset's minimum (``min_box_side``, 32 px at
  256: the model never saw such people) or that no square window can hold.
"""

from __future__ import annotations

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


def place(region: Box, width: int, height: int, crop_size: int, margin: int) -> Placement:
    """Decide the path for one (clipped) box in a width × height frame."""
    w, h = region[2] - region[0], region[3] - region[1]
    minimum = min_box_side(crop_size)
    limit = crop_size - 2 * margin
    if w <= limit and h <= limit:
        fitted = _window_at(region, crop_size, width, height)
        if fitted is not None:
            if w < minimum or h < minimum:
                return Placement("fallback", reason=f"too small: {w}x{h} px, the model needs >= {minimum:g} px")
            return Placement("window", *fitted)
    side = min(max(w, h) + 2 * margin, width, height)
    fitted = _window_at(region, side, width, height) if side >= max(w, h) else None
    if fitted is None:
        return Placement("fallback", reason=f"cannot be windowed: {w}x{h} px box in a {width}x{height} frame")
    window, local = fitted
    scaled = scale_box(local, (side, side), (crop_size, crop_size))
    sw, sh = scaled[2] - scaled[0], scaled[3] - scaled[1]
    if sw < minimum or sh < minimum:
        return Placement("fallback", reason=f"too small after scaling to the model: {sw}x{sh} px "
                                            f"(needs >= {minimum:g} px)")
    return Placement("scaled", window, scaled)
