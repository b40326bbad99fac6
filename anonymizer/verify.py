"""The fail-closed check run before a frame is written.

Three conditions, all required:

1. **coverage** — every pixel of every selected box was overwritten by a replacement (a provenance mask kept
   by the paste code, so it is exact and independent of pixel values);
2. **no kept detail** — among the box's *informative* original pixels (those differing from at least one
   4-neighbour inside the box, i.e. carrying an edge or texture), at most ``MAX_KEPT_DETAIL`` may still hold
   their exact original RGB value. Pixels inside a constant patch are not informative: a blur, a pixelation or
   a grey mask legitimately leaves a flat wall as it was, and there is nothing to hide in it, so identical
   constant regions neither fail the check nor can hide a leak (an untouched box keeps 100 % of its detail; a
   box with fewer than ``MIN_DETAIL_PIXELS`` informative pixels holds no detail to leak and passes on coverage
   alone). The GAN and noise methods keep ~0 % in practice; a Gaussian blur or a pixelation of a textured
   region keeps a few percent (pixels that coincide with their local mean); the limit is loose enough for a
   ``--blend_px`` margin (whose border pixels mix with the original) and strict enough that any real leak of
   the original region fails;
3. **nothing else changed** — every pixel outside the union of the boxes is byte-identical to the input.
"""

from __future__ import annotations

import numpy as np

from data.boxes import Box

MAX_KEPT_DETAIL = 0.5
MIN_DETAIL_PIXELS = 16


def informative_pixels(region: np.ndarray) -> np.ndarray:
    """H×W bool: the pixel differs (in any channel) from its left, right, upper or lower neighbour."""
    out = np.zeros(region.shape[:2], dtype=bool)
    dx = np.any(region[:, 1:] != region[:, :-1], axis=-1)
    dy = np.any(region[1:] != region[:-1], axis=-1)
    out[:, 1:] |= dx
    out[:, :-1] |= dx
    out[1:] |= dy
    out[:-1] |= dy
    return out


def kept_detail(original: np.ndarray, result: np.ndarray) -> float:
    """Fraction of the informative original pixels whose exact RGB value survives (0 when there are too few)."""
    detail = informative_pixels(original)
    count = int(detail.sum())
    if count < MIN_DETAIL_PIXELS:
        return 0.0
    kept = np.all(original == result, axis=-1) & detail
    return float(kept.sum()) / count


def box_problem(original: np.ndarray, result: np.ndarray) -> str | None:
    """Why a replaced box region does not count as anonymized, or None (condition 2)."""
    fraction = kept_detail(original, result)
    if fraction > MAX_KEPT_DETAIL:
        return f"{fraction:.0%} of its detail pixels keep their original value (limit {MAX_KEPT_DETAIL:.0%})"
    return None


def frame_problems(original: np.ndarray, result: np.ndarray, regions: list[Box],
                   written: np.ndarray) -> list[str]:
    """Every reason not to write ``result`` (empty when it passes conditions 1-3)."""
    problems = []
    inside = np.zeros(original.shape[:2], dtype=bool)
    for k, (x1, y1, x2, y2) in enumerate(regions):
        inside[y1:y2, x1:x2] = True
        missing = int((~written[y1:y2, x1:x2]).sum())
        if missing:
            problems.append(f"box {k} {[x1, y1, x2, y2]}: {missing} pixels were never replaced")
        problem = box_problem(original[y1:y2, x1:x2], result[y1:y2, x1:x2])
        if problem:
            problems.append(f"box {k} {[x1, y1, x2, y2]}: {problem}")
    changed_outside = int(np.any(original != result, axis=-1)[~inside].sum())
    if changed_outside:
        problems.append(f"{changed_outside} pixels outside every box changed")
    return problems
