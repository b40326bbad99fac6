"""Traditional anonymization of a box: Gaussian blur, pixelation, solid mask and noise.

One interface for every method — ``anonymize_box(image, box, method, strength, rng)`` returns a copy of the image
with only the pixels of ``box = [x1, y1, x2, y2)`` replaced — so the evaluation baselines and the full-frame tool
share the same code, as they share the same boxes.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from data.boxes import Box

# Strength of each method when none is given, and what the number means.
DEFAULT_STRENGTH = {
    "blur": 8.0,  # Gaussian sigma in pixels
    "pixelate": 8.0,  # block side in pixels
    "mask": 0.0,  # grey level 0..255 of the solid fill
    "noise": 1.0,  # fraction of the full 0..255 range the uniform noise spans around mid-grey
}
STRENGTH_MEANING = {
    "blur": "Gaussian sigma in pixels",
    "pixelate": "block side in pixels",
    "mask": "grey level 0-255 of the fill",
    "noise": "noise amplitude as a fraction of 0-255",
}
# The range each strength is accepted in (the command line refuses others): a blur below 0.5 px or a block
# below 2 px would do nothing, a sigma above 1024 px only makes the kernel huge.
STRENGTH_RANGE = {"blur": (0.5, 1024.0), "pixelate": (2.0, 65536.0), "mask": (0.0, 255.0), "noise": (0.0, 1.0)}
TRADITIONAL_METHODS = tuple(DEFAULT_STRENGTH)


def _blur(region: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    # Kernel wide enough (±3 sigma) to wash out faces; the region's own border is mirrored, so no background
    # from outside the box is pulled in.
    sigma = max(float(sigma), 0.5)
    return cv2.GaussianBlur(region, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def _pixelate(region: np.ndarray, block: float, rng: np.random.Generator) -> np.ndarray:
    height, width = region.shape[:2]
    block = max(int(round(block)), 2)
    small = cv2.resize(region, (max(1, -(-width // block)), max(1, -(-height // block))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def _mask(region: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    return np.full_like(region, int(np.clip(round(level), 0, 255)))


def _noise(region: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    half = 127.5 * float(np.clip(amplitude, 0.0, 1.0))
    values = rng.uniform(127.5 - half, 127.5 + half, size=region.shape)
    return np.clip(np.rint(values), 0, 255).astype(region.dtype)


_METHODS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "blur": _blur, "pixelate": _pixelate, "mask": _mask, "noise": _noise,
}


def anonymize_box(image: np.ndarray, box: Box, method: str, strength: float | None = None,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """A copy of ``image`` (H×W×C uint8) whose ``box`` region is replaced by ``method``; nothing else changes."""
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(TRADITIONAL_METHODS)}")
    x1, y1, x2, y2 = (int(v) for v in box)
    height, width = image.shape[:2]
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"box {box} is empty or outside the {width}x{height} image")
    out = image.copy()
    out[y1:y2, x1:x2] = anonymize_region(image[y1:y2, x1:x2], method, strength, rng)
    return out


def anonymize_region(region: np.ndarray, method: str, strength: float | None = None,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """The replacement for one box's pixels (h×w×C uint8), a new array; no frame copy (the full-frame tool
    calls this once per person on 2048×1024 frames)."""
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(TRADITIONAL_METHODS)}")
    if region.size == 0:
        raise ValueError("cannot anonymize an empty region")
    strength = DEFAULT_STRENGTH[method] if strength is None else strength
    rng = np.random.default_rng(0) if rng is None else rng
    return _METHODS[method](np.ascontiguousarray(region), strength, rng)
