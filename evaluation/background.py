"""Background preservation: PSNR and SSIM of a generated crop against the real one OUTSIDE the person's box.

An anonymizer should change the person and nothing else, so both numbers are computed only over the pixels
outside ``box = [x1, y1, x2, y2)``. Identical backgrounds give PSNR = inf and SSIM = 1.0 whatever the box holds.

SSIM is the standard one of Wang et al. (2004): an 11×11 Gaussian window with sigma 1.5, K1 = 0.01,
K2 = 0.03, data range 255, computed per RGB channel on the "valid" part of the image (no padding), and
averaged over channels. The masked SSIM first copies the real box into the generated image (so the box's content
cannot leak into windows that straddle its edge), then averages the SSIM map over the window centres outside
the box: only the background is measured, and an identical background gives exactly 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import correlate1d

from data.boxes import Box

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
DATA_RANGE = 255.0


def outside_mask(height: int, width: int, box: Box) -> np.ndarray:
    """Boolean H×W mask, True outside the box (the box is clipped to the image)."""
    x1, y1, x2, y2 = (int(v) for v in box)
    mask = np.ones((height, width), dtype=bool)
    mask[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = False
    return mask


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"images must be H×W×C of one shape, got {a.shape} and {b.shape}")
    return a.astype(np.float64), b.astype(np.float64)


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB, peak 255) over the True pixels of ``mask``; inf when they are identical, nan when none."""
    x, y = _check_pair(a, b)
    if not mask.any():
        return math.nan
    mse = float(((x - y) ** 2)[mask].mean())
    return math.inf if mse == 0.0 else 10.0 * math.log10(DATA_RANGE**2 / mse)


def _gaussian_kernel() -> np.ndarray:
    offsets = np.arange(SSIM_WINDOW) - SSIM_WINDOW // 2
    kernel = np.exp(-(offsets**2) / (2.0 * SSIM_SIGMA**2))
    return kernel / kernel.sum()


def _filter_valid(x: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter of H×W×C, keeping only the centres whose window fits in the image."""
    kernel = _gaussian_kernel()
    out = correlate1d(correlate1d(x, kernel, axis=0, mode="constant"), kernel, axis=1, mode="constant")
    half = SSIM_WINDOW // 2
    return out[half:x.shape[0] - half, half:x.shape[1] - half]


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM map (H−10)×(W−10) averaged over channels; entry (i, j) is the window centred at (i+5, j+5)."""
    x, y = _check_pair(a, b)
    if min(x.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}×{SSIM_WINDOW}, got {x.shape[:2]}")
    c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
    mu_x, mu_y = _filter_valid(x), _filter_valid(y)
    # Unbiased-weight-free (population) local moments, as in the reference implementation.
    var_x = _filter_valid(x * x) - mu_x**2
    var_y = _filter_valid(y * y) - mu_y**2
    cov = _filter_valid(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return (numerator / denominator).mean(axis=2)


def masked_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean SSIM over the window centres where ``mask`` is True, ``a``'s masked-out pixels taken from ``b``."""
    a = np.where(mask[..., None], a, b)
    values = ssim_map(a, b)
    half = SSIM_WINDOW // 2
    centres = mask[half:mask.shape[0] - half, half:mask.shape[1] - half]
    if not centres.any():
        return math.nan
    return float(values[centres].mean())


def background_metrics(fakes: Sequence[np.ndarray], reals: Sequence[np.ndarray], boxes: Sequence[Box]) -> dict:
    """Mean PSNR/SSIM outside the boxes over a set; PSNR averages finite values and counts identical images."""
    if not (len(fakes) == len(reals) == len(boxes)) or not fakes:
        raise ValueError(f"need equally many fakes, reals and boxes (> 0), got {len(fakes)}, {len(reals)}, "
                         f"{len(boxes)}")
    psnrs, ssims = [], []
    for fake, real, box in zip(fakes, reals, boxes, strict=True):
        mask = outside_mask(real.shape[0], real.shape[1], box)
        psnrs.append(masked_psnr(fake, real, mask))
        ssims.append(masked_ssim(fake, real, mask))
    psnr = np.asarray(psnrs)
    finite = psnr[np.isfinite(psnr)]
    return {
        # inf means "identical outside the box"; the mean over the others stays finite and comparable.
        "psnr_outside_box": float(finite.mean()) if finite.size else math.inf,
        "psnr_identical_count": int(np.isinf(psnr).sum()),
        "ssim_outside_box": float(np.nanmean(ssims)),
        "n": len(fakes),
        "ssim": {"window": SSIM_WINDOW, "sigma": SSIM_SIGMA, "k1": SSIM_K1, "k2": SSIM_K2, "data_range": 255},
    }
