"""Conversions between model tensors in [-1, 1] and 8-bit images, and PNG writing.

Rounding rule (used by every conversion to uint8 here): ``np.rint`` on the exact float64 value, i.e. round
half to even, then clip to [0, 255].  So -1 -> 0, 1 -> 255, 0 -> rint(127.5) = 128.  The original cast without
rounding (truncating 254.99 to 254) and without clipping (so values outside [-1, 1] wrapped around); both are
fixed here (docs/differences_from_original.md#image-rounding).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from util.fileio import atomic_write


def _as_chw_array(t: torch.Tensor | np.ndarray) -> np.ndarray:
    """C×H×W float64 array from a C×H×W or N×C×H×W tensor (first sample of a batch is taken)."""
    x = t.detach().cpu().double().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)
    if x.ndim == 4:
        x = x[0]
    if x.ndim != 3:
        raise ValueError(f"expected a C×H×W or N×C×H×W tensor, got shape {tuple(x.shape)}")
    if x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)
    if x.shape[0] != 3:
        raise ValueError(f"expected 1 or 3 channels, got {x.shape[0]}")
    return x


def _to_uint8_hwc(scaled: np.ndarray) -> np.ndarray:
    """C×H×W values on the [0, 255] scale -> H×W×C uint8, rounding half to even and clipping (NaN -> 0)."""
    rounded = np.clip(np.rint(np.nan_to_num(scaled, nan=0.0)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rounded.transpose(1, 2, 0))


def tensor_to_image(t: torch.Tensor | np.ndarray) -> np.ndarray:
    """A C×H×W (or N×C×H×W, first sample) tensor in [-1, 1] -> H×W×3 uint8: rint((x + 1) / 2 · 255), clipped.

    One channel is repeated to three.  float64 keeps (x + 1) · 127.5 exact for float32 inputs, so the rounding
    of exact halves (x = 0 -> 127.5 -> 128) does not depend on float32 error.
    """
    return _to_uint8_hwc((_as_chw_array(t) + 1.0) * 127.5)


def diff_map_to_image(d: torch.Tensor | np.ndarray, value_range: float | None = None) -> np.ndarray:
    """A difference map with unbounded values -> H×W×3 uint8 for display, 0 -> mid-grey (128).

    Symmetric linear scaling: ``value_range`` (or, when None, the map's own max |d|) maps to 255 and its
    negative to 0; anything beyond a fixed range is clipped, never wrapped.  An all-zero map is plain grey.
    """
    x = _as_chw_array(d)
    finite = np.abs(x[np.isfinite(x)])
    scale = float(value_range) if value_range is not None else (float(finite.max()) if finite.size else 0.0)
    if scale <= 0:
        return _to_uint8_hwc(np.full_like(x, 127.5))
    return _to_uint8_hwc(127.5 + 127.5 * x / scale)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """H×W×3 (or H×W) uint8 -> 3×H×W float32 in [-1, 1]; the inverse of :func:`tensor_to_image`."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3:
        raise ValueError(f"expected H×W×C, got shape {arr.shape}")
    return torch.from_numpy(arr.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0)


def save_image(image: np.ndarray, path: str | Path, aspect_ratio: float = 1.0) -> Path:
    """Write an H×W×3 uint8 array as PNG atomically.

    As in pix2pix, ``aspect_ratio`` > 1 stretches the width to w·ratio and < 1 stretches the height to h/ratio
    (bicubic), so an image stored square can be shown at the data's real aspect ratio.
    """
    pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
    w, h = pil.size
    if aspect_ratio > 1.0:
        pil = pil.resize((int(w * aspect_ratio), h), Image.Resampling.BICUBIC)
    elif aspect_ratio < 1.0:
        pil = pil.resize((w, int(h / aspect_ratio)), Image.Resampling.BICUBIC)
    # The temporary file has no .png suffix, so the format must be explicit.
    return atomic_write(path, lambda tmp: pil.save(tmp, format="PNG"))


def make_grid(images: list[np.ndarray], ncols: int, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile H×W×3 uint8 images row by row, ``ncols`` per row, into one H×W×3 uint8 array.

    Images may differ in size (person crops): each cell is as large as the largest image, the image sits in
    the cell's top-left corner, and the rest of the cell and the ``padding`` between cells is ``pad_value``.
    """
    if not images:
        raise ValueError("make_grid needs at least one image")
    if ncols < 1:
        raise ValueError(f"ncols must be positive, got {ncols}")
    cell_h = max(im.shape[0] for im in images)
    cell_w = max(im.shape[1] for im in images)
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    grid = np.full(
        (nrows * cell_h + (nrows + 1) * padding, ncols * cell_w + (ncols + 1) * padding, 3),
        pad_value,
        dtype=np.uint8,
    )
    for i, im in enumerate(images):
        top = padding + (i // ncols) * (cell_h + padding)
        left = padding + (i % ncols) * (cell_w + padding)
        rgb = im if im.ndim == 3 else im[:, :, None]
        grid[top : top + im.shape[0], left : left + im.shape[1]] = rgb
    return grid
