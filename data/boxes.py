"""Box I/O and exact integer box arithmetic.

A box is ``(x1, y1, x2, y2)`` in integer pixel corners, inclusive at x1/y1 and exclusive at x2/y2: it covers
columns x1..x2-1 and rows y1..y2-1. Every geometric step is done in exact integer arithmetic so a box never
drifts (the original warped a bicubic mask and grew boxes by 1-2 px).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import torch

from data.errors import DatasetError

Box = tuple[int, int, int, int]
Size = tuple[int, int]  # (width, height), PIL order

BOX_KEYS = ("x1", "y1", "x2", "y2")
# The sample data of the original code names the exclusive corners "w" and "h"; they are NOT a width/height.
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
    """Write ``{"x1","y1","x2","y2"}`` atomically (temp file in the same folder, then os.replace)."""
    values = [int(v) for v in box]
    if len(values) != 4 or any(v != orig for v, orig in zip(values, box, strict=True)):
        raise ValueError(f"box must be four integers, got {box!r}")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(zip(BOX_KEYS, values, strict=True)), handle)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def validate_box(box: Box, width: int, height: int, path: str | os.PathLike[str]) -> Box:
    """Require a non-empty box inside a width x height image: 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H."""
    x1, y1, x2, y2 = box
    if x1 >= x2 or y1 >= y2:
        raise DatasetError(path, f"empty box {list(box)} (need x1 < x2 and y1 < y2)", kind="empty box")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        problem = f"box outside the image: {list(box)} not within {width}x{height}"
        raise DatasetError(path, problem, kind="box outside the image")
    return box


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


def box_mask(box: Box, height: int, width: int) -> torch.Tensor:
    """A 1 x H x W float mask, 1 inside the box and 0 elsewhere (the box is clipped first)."""
    x1, y1, x2, y2 = clip_box(box, width, height)
    mask = torch.zeros(1, height, width)
    mask[:, y1:y2, x1:x2] = 1.0
    return mask


def iou(a: Box, b: Box, inclusive: bool = False) -> float:
    """Intersection over union. ``inclusive=True`` adds 1 to widths/heights, as the original notebooks did."""
    extra = 1 if inclusive else 0

    def area(box: Box) -> int:
        return max(0, box[2] - box[0] + extra) * max(0, box[3] - box[1] + extra)

    inter_w = max(0, min(a[2], b[2]) - max(a[0], b[0]) + extra)
    inter_h = max(0, min(a[3], b[3]) - max(a[1], b[1]) + extra)
    inter = inter_w * inter_h
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0
