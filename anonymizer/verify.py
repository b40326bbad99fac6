"""The fail-closed check: how much of a person's original box survives, measured before a frame is written.

Three conditions, all required:

1. **coverage** — every pixel of every selected box was overwritten by a replacement (a provenance mask kept
   by the paste code, so it is exact and independent of pixel values); for a person painted in its own shape
   (``anonymize.py --instance_ids``) every pixel of its hole — its mask inside the box, grown (``data.holes``);
2. **no leakage** — the box holds neither the original's fine detail nor near-copies of its pixels (below);
3. **nothing else changed** — every pixel outside the union of the boxes is byte-identical to the input.

Leakage (condition 2). What identifies a person is the box's *fine detail*: its detail layer
``D(x) = x − G_σ(x)`` per channel, with ``G_σ`` a Gaussian blur of ``DETAIL_SIGMA`` = 2 px (edges, texture,
facial features; not the colour of large areas, which a blur or a pixelation may legitimately keep). Two
measures, both required:

- **detail correlation**: the Pearson correlation of ``D(original)`` and ``D(result)`` over the box, the largest of
  the three channels, at most ``MAX_DETAIL_CORRELATION`` = 0.5 — no more than a quarter (ρ²) of the result's
  detail variance may be explained by the original's. Channels whose original detail has a standard deviation
  below 1 grey level hold nothing to leak and are not scored. This catches *near-copies*: the original plus a
  grey level or plus noise (ρ ≈ 1), a ``--blend_px`` feather reaching deep into the box (ρ 0.8–1.0);
- **kept detail**: among the original's informative pixels (detail of at least ``DETAIL_LEVEL`` = 4 grey levels
  in some channel), the fraction whose result lies within ``NEAR_COPY_TOLERANCE`` = 2 grey levels of the
  original in every channel, at most ``MAX_KEPT_DETAIL`` = 0.25. This catches *partial copies* (the original in
  45 % of the pixels keeps ~45 % of them however the rest is filled). Boxes with fewer than
  ``MIN_DETAIL_PIXELS`` informative pixels hold no detail to leak and are not scored by it.

A person painted in its own shape is measured over its hole only: the background around it is the original on
purpose (the detail layer is still computed over the whole box, so the hole's edge is measured in context).

Why a weak blur fails and the defaults pass (``python scripts/leakage_table.py``, which measures every case below
on demo frames; 170 boxes of 2048×1024 and 512×256 frames, the shipped demo generator): a Gaussian blur removes
detail only at scales below its sigma, so ``--blur_sigma 1`` keeps ρ 0.76–0.89 (fails), sigma 2 ρ 0.44–0.68 (fails
on 166 of 170 boxes), sigma 4 at most 0.48; the defaults — blur σ 8 (ρ ≤ 0.18), pixelate 8 px (ρ ≤ 0.46, kept ≤
0.15), mask and noise (ρ ≤ 0.13) — the generator's output (ρ ≤ 0.24, kept 0) and its output with a feather bounded
to 1/16 of the box (ρ ≤ 0.35) pass; original + 1 grey level (ρ = 1, kept = 1), original + N(0, 2²) noise
(ρ ≥ 0.97), the original in 45 % of the pixels (kept ≥ 0.39) and the generator's output with a feather of half the
box (ρ ≥ 0.53) fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from data.boxes import Box

DETAIL_SIGMA = 2.0
DETAIL_LEVEL = 4.0
NEAR_COPY_TOLERANCE = 2
MAX_DETAIL_CORRELATION = 0.5
MAX_KEPT_DETAIL = 0.25
MIN_DETAIL_PIXELS = 16
MIN_DETAIL_STD = 1.0


@dataclass(frozen=True)
class Leakage:
    """How much of the original box survives in the result (see the module docstring)."""

    detail_correlation: float
    kept_detail: float

    def problem(self) -> str | None:
        """Why the result does not count as anonymized, or None."""
        if self.detail_correlation > MAX_DETAIL_CORRELATION:
            return (f"its fine detail correlates {self.detail_correlation:.2f} with the original's "
                    f"(limit {MAX_DETAIL_CORRELATION})")
        if self.kept_detail > MAX_KEPT_DETAIL:
            return (f"{self.kept_detail:.0%} of the original's detail pixels survive within "
                    f"{NEAR_COPY_TOLERANCE} grey levels (limit {MAX_KEPT_DETAIL:.0%})")
        return None

    def as_record(self) -> dict[str, float]:
        return {"detail_correlation": round(self.detail_correlation, 3), "kept_detail": round(self.kept_detail, 3)}


def detail_layer(region: np.ndarray) -> np.ndarray:
    """H×W×C float32: the region minus its Gaussian blur (σ = DETAIL_SIGMA, the box's own border mirrored)."""
    values = region.astype(np.float32)
    blurred = cv2.GaussianBlur(values, (0, 0), DETAIL_SIGMA, borderType=cv2.BORDER_REFLECT)
    return values - blurred.reshape(values.shape)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 0 else 0.0


def measure(original: np.ndarray, result: np.ndarray, hole: np.ndarray | None = None) -> Leakage:
    """The leakage of ``result`` (h×w×C uint8, the replaced box) with respect to ``original`` (same shape); with
    ``hole`` (h×w bool, the person's pixels that were replaced: ``data.holes``) over those pixels only — the
    rest of the box is the background, kept on purpose."""
    detail_original, detail_result = detail_layer(original), detail_layer(result)
    if hole is not None:
        detail_original, detail_result = detail_original[hole][None], detail_result[hole][None]
        original, result = original[hole][None], result[hole][None]
    correlations = [_correlation(detail_original[..., c].ravel(), detail_result[..., c].ravel())
                    for c in range(original.shape[2]) if detail_original[..., c].std() >= MIN_DETAIL_STD]
    informative = np.abs(detail_original).max(axis=2) >= DETAIL_LEVEL
    count = int(informative.sum())
    kept = 0.0
    if count >= MIN_DETAIL_PIXELS:
        near = np.abs(result.astype(np.int16) - original.astype(np.int16)).max(axis=2) <= NEAR_COPY_TOLERANCE
        kept = float((near & informative).sum()) / count
    return Leakage(max(correlations, default=0.0), kept)


def box_problem(original: np.ndarray, result: np.ndarray, hole: np.ndarray | None = None) -> str | None:
    """Why a replaced box region (or its ``hole``, see ``measure``) does not count as anonymized, or None
    (condition 2)."""
    return measure(original, result, hole).problem()


def frame_problems(original: np.ndarray, result: np.ndarray, regions: list[Box], written: np.ndarray,
                   holes: list[np.ndarray | None] | None = None) -> list[str]:
    """Every reason not to write ``result`` (empty when it passes conditions 1-3). ``holes[k]`` (box-sized bool,
    or None for the whole box) is what of box k had to be replaced: a person painted in its own shape."""
    problems = []
    inside = np.zeros(original.shape[:2], dtype=bool)
    for k, (x1, y1, x2, y2) in enumerate(regions):
        hole = holes[k] if holes is not None else None
        inside[y1:y2, x1:x2] = True
        required = np.ones((y2 - y1, x2 - x1), dtype=bool) if hole is None else hole
        missing = int((required & ~written[y1:y2, x1:x2]).sum())
        if missing:
            problems.append(f"box {k} {[x1, y1, x2, y2]}: {missing} pixels were never replaced")
        problem = box_problem(original[y1:y2, x1:x2], result[y1:y2, x1:x2], hole)
        if problem:
            problems.append(f"box {k} {[x1, y1, x2, y2]}: {problem}")
    changed_outside = int(np.any(original != result, axis=-1)[~inside].sum())
    if changed_outside:
        problems.append(f"{changed_outside} pixels outside every box changed")
    return problems
