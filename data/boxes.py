"""Box geometry for the whole project: one box type, its conversions, arithmetic, masks, fills and file I/O.

A box (``Box``) is ``(x1, y1, x2, y2)`` in integer pixel corners, inclusive at x1/y1 and exclusive at x2/y2: it
covers columns x1..x2-1 and rows y1..y2-1. Every geometric step is done in exact integer arithmetic so a box never
drifts (the original warped a bicubic mask and grew boxes by 1-2 px). Annotations store ``(x, y, w, h)``
(``XYWH``); the thesis read a CityPersons ``w`` as inclusive (columns x..x+w, w+1 pixels), which
``xywh_to_box(..., inclusive=True)`` and ``iou(..., inclusive=True)`` reproduce
(docs/differences_from_original.md#inclusive-boxes).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import torch

from data.errors import DatasetError
from util.fileio import atomic_write_text

Box = tuple[int, int, int, int]
XYWH = tuple[int, int, int, int]  # (x, y, w, h) as annotations store a box
Size = tuple[int, int]  # (width, height), PIL order

# Box fills of a network input in [-1, 1] (--bbox_noise): solid grey 0, fresh -1/0/+1 noise, or the fill the
# crop PNG already holds.
FILL_MODES = ("none", "random", "original")
# Box fills of 8-bit crop pixels (the preprocessing's --fill): noise from NOISE_VALUES, or solid GREY.
PIXEL_FILLS = ("noise", "grey")
NOISE_VALUES = np.array([0, 127, 255], dtype=np.uint8)
GREY = 127  # the middle noise value; 127/255 maps to about 0 in [-1, 1]

BOX_KEYS = ("x1", "y1", "x2", "y2")
# The sample data of the original code names the exclusive corners "w" and "h"; they are NOT a width/height
# (docs/differences_from_original.md#box-schemas).
LEGACY_BOX_KEYS = ("x", "y", "w", "h")


def _as_int(value: object, key: str, path: str | os.PathLike[str]) -> int:
    """Accept ints and integral floats (JSON writers sometimes emit 12.0); reject everything else."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise DatasetError(path, f"box value {key}={value!r} is not an integer", kind="bad box values")


def parse_box(data: object, path: str | os.PathLike[str]) -> Box:
    """Read a box from decoded JSON in either schema (``x1,y1,x2,y2`` or legacy ``x,y,w,h`` = corners)."""
    if not isinstance(data, dict):
        raise DatasetError(path, f"expected a JSON object, got {type(data).__name__}", kind="bad JSON keys")
    if all(key in data for key in BOX_KEYS):
        keys = BOX_KEYS
    elif all(key in data for key in LEGACY_BOX_KEYS):
        keys = LEGACY_BOX_KEYS
    else:
        raise DatasetError(
            path,
            f"expected keys x1,y1,x2,y2 (or legacy x,y,w,h holding x1,y1,x2,y2), found {sorted(data)}",
            kind="bad JSON keys",
        )
    x1, y1, x2, y2 = (_as_int(data[key], key, path) for key in keys)
    return x1, y1, x2, y2


def load_box(path: str | os.PathLike[str]) -> Box:
    """Load a box JSON file; any problem raises DatasetError naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, "box file not found", kind="missing JSON") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, f"cannot read box file: {exc}", kind="malformed JSON") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(path, f"malformed JSON: {exc}", kind="malformed JSON") from None
    return parse_box(data, path)


def save_box(path: str | os.PathLike[str], box: Box) -> None:
    """Write ``{"x1","y1","x2","y2"}`` atomically."""
    values = [int(v) for v in box]
    if len(values) != 4 or any(v != orig for v, orig in zip(values, box, strict=True)):
        raise ValueError(f"box must be four integers, got {box!r}")
    atomic_write_text(path, json.dumps(dict(zip(BOX_KEYS, values, strict=True))) + "\n")


def validate_box(box: Box, width: int, height: int, path: str | os.PathLike[str]) -> Box:
    """Require a non-empty box inside a width x height image: 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H."""
    x1, y1, x2, y2 = box
    if x1 >= x2 or y1 >= y2:
        raise DatasetError(path, f"empty box {list(box)} (need x1 < x2 and y1 < y2)", kind="empty box")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        problem = f"box outside the image: {list(box)} not within {width}x{height}"
        raise DatasetError(path, problem, kind="box outside the image")
    return box


def xywh_to_box(xywh: XYWH, inclusive: bool) -> Box:
    """The box of an ``(x, y, w, h)`` annotation: ``inclusive`` covers columns x..x+w and rows y..y+h ((w+1)×(h+1)
    pixels, the thesis's reading of CityPersons); otherwise w×h pixels."""
    extra = 1 if inclusive else 0
    x, y, w, h = xywh
    return x, y, x + w + extra, y + h + extra


def box_to_xywh(box: Box, inclusive: bool) -> XYWH:
    """The inverse of ``xywh_to_box``."""
    extra = 1 if inclusive else 0
    x1, y1, x2, y2 = box
    return x1, y1, x2 - x1 - extra, y2 - y1 - extra


def outward_box(x1: float, y1: float, x2: float, y2: float) -> Box:
    """The smallest integer box covering real-valued corners (floor x1/y1, ceil x2/y2)."""
    return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)


def is_empty(box: Box) -> bool:
    return box[0] >= box[2] or box[1] >= box[3]


def boxes_overlap(a: Box, b: Box) -> bool:
    """True when the boxes share at least one pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlapping(boxes: list[XYWH], threshold: float) -> set[int]:
    """Indices of every ``(x, y, w, h)`` annotation in a pair whose inclusive IoU (counting the last row and column,
    as the original notebooks did) is >= threshold; both members of a pair are returned."""
    corners = [xywh_to_box(box, inclusive=False) for box in boxes]
    hits: set[int] = set()
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if iou(corners[i], corners[j], inclusive=True) >= threshold:
                hits.update((i, j))
    return hits


def box_size(box: Box) -> Size:
    """(width, height) of a box; 0 for empty boxes."""
    x1, y1, x2, y2 = box
    return max(0, x2 - x1), max(0, y2 - y1)


def clip_box(box: Box, width: int, height: int) -> Box:
    """Clamp every corner into the image; a box fully outside becomes empty."""
    x1, y1, x2, y2 = box
    return (min(max(x1, 0), width), min(max(y1, 0), height), min(max(x2, 0), width), min(max(y2, 0), height))


def shift_box(box: Box, dx: int, dy: int) -> Box:
    """Translate a box by (dx, dy)."""
    x1, y1, x2, y2 = box
    return x1 + dx, y1 + dy, x2 + dx, y2 + dy


def crop_box(box: Box, left: int, top: int, width: int, height: int) -> Box:
    """The box in the coordinates of the crop ``[left, left+width) x [top, top+height)``, clipped to it."""
    return clip_box(shift_box(box, -left, -top), width, height)


def scale_box(box: Box, old_size: Size, new_size: Size) -> Box:
    """Scale a box from an image of old_size to new_size (both (width, height)).

    x1/y1 are floored and x2/y2 ceiled, in exact integer arithmetic, so the result always covers the
    real-valued scaled box and is the smallest integer box that does.
    """
    x1, y1, x2, y2 = box
    (old_w, old_h), (new_w, new_h) = old_size, new_size
    return (
        (x1 * new_w) // old_w,
        (y1 * new_h) // old_h,
        -((-x2 * new_w) // old_w),
        -((-y2 * new_h) // old_h),
    )


def flip_box(box: Box, width: int) -> Box:
    """Mirror a box horizontally in an image of the given width: x1' = W - x2, x2' = W - x1."""
    x1, y1, x2, y2 = box
    return width - x2, y1, width - x1, y2


def box_masks(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """B×1×H×W float mask, 1 inside each sample's box ``[x1, y1, x2, y2)``, 0 outside (on the boxes' device)."""
    boxes = boxes.long()
    rows = torch.arange(height, device=boxes.device).view(1, height, 1)
    cols = torch.arange(width, device=boxes.device).view(1, 1, width)
    x1, y1, x2, y2 = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    inside = (rows >= y1) & (rows < y2) & (cols >= x1) & (cols < x2)
    return inside.unsqueeze(1).float()


def box_mask(box: Box, height: int, width: int) -> torch.Tensor:
    """A 1 x H x W float mask, 1 inside the box and 0 elsewhere (parts outside the image are ignored)."""
    return box_masks(torch.tensor([list(box)]), height, width)[0]


def fill_box(image: torch.Tensor, box: Box, mode: str, rng: np.random.Generator) -> torch.Tensor:
    """Fill the box of a C x H x W tensor in [-1, 1] in place (``FILL_MODES``): 'none' = 0 (mid-grey), 'random' =
    per-pixel choice of -1/0/+1 shared by all channels, 'original' = leave as is. Returns the tensor."""
    x1, y1, x2, y2 = box
    width, height = box_size(box)
    if mode == "none":
        image[:, y1:y2, x1:x2] = 0.0
    elif mode == "random":
        noise = rng.integers(-1, 2, size=(height, width)).astype(np.float32)
        image[:, y1:y2, x1:x2] = torch.from_numpy(noise)
    elif mode != "original":
        raise ValueError(f"bbox_noise must be one of {FILL_MODES}, got {mode!r}")
    return image


def fill_box_pixels(image: np.ndarray, box: Box, fill: str, rng: np.random.Generator | None = None) -> None:
    """Fill the box of 8-bit pixels in place (``PIXEL_FILLS``): per-pixel noise from {0, 127, 255} equal in all
    channels, or solid grey."""
    x1, y1, x2, y2 = box
    if fill == "grey":
        image[y1:y2, x1:x2] = GREY
        return
    if rng is None:
        raise ValueError("noise fill needs a random generator")
    noise = NOISE_VALUES[rng.integers(0, len(NOISE_VALUES), size=(y2 - y1, x2 - x1))]
    image[y1:y2, x1:x2] = noise[..., None] if image.ndim == 3 else noise


def iou(a: Box, b: Box, inclusive: bool = False) -> float:
    """Intersection over union. ``inclusive=True`` counts x2/y2 as covered (adds 1 to widths and heights), as the
    original notebooks did for CityPersons boxes ``(x, y, x+w, y+h)``."""
    extra = 1 if inclusive else 0

    def area(box: Box) -> int:
        return max(0, box[2] - box[0] + extra) * max(0, box[3] - box[1] + extra)

    inter_w = max(0, min(a[2], b[2]) - max(a[0], b[0]) + extra)
    inter_h = max(0, min(a[3], b[3]) - max(a[1], b[1]) + extra)
    inter = inter_w * inter_h
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0
