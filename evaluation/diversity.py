"""Sample diversity: mean pairwise LPIPS inside the person box over K generations of the same input.

The original project measured diversity only through re-ID distances between generated crops (
:func:`evaluation.anonymity.shared_identity_rate`). This adds the usual conditional-GAN measure: for every
input, the generator is run K times (different noise; the caller's job) and LPIPS is averaged over the
K·(K−1)/2 sample pairs, **inside the person box** (the context outside is mostly copied from the input and
would only dilute the score).

Small boxes: the AlexNet LPIPS stack needs at least 32×32 px. A box crop whose shorter side is below
``min_side`` (32) is upscaled bilinearly, aspect ratio kept, so that its shorter side becomes ``min_side``;
the same resize is applied to all K samples of an input, so the pairs stay comparable. Upscaling rather
than padding because LPIPS averages over space: constant padding would pull every distance towards 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from data.boxes import clip_box, outward_box
from evaluation.lpips import MIN_SIDE

Box = Sequence[float] | Mapping[str, float] | None


def crop_box(samples: Tensor, box: Box, min_side: int = MIN_SIDE) -> Tensor:
    """K×3×H×W samples cut to ``box`` (x1, y1, x2, y2 pixels, clipped to the image; None = whole image) and,
    when the shorter side is below ``min_side``, upscaled to it (bilinear, aspect kept)."""
    if samples.dim() != 4 or samples.shape[1] != 3:
        raise ValueError(f"expected K×3×H×W samples, got shape {tuple(samples.shape)}")
    height, width = samples.shape[-2:]
    if box is None:
        x1, y1, x2, y2 = 0, 0, width, height
    else:
        if isinstance(box, Mapping):
            box = (box["x1"], box["y1"], box["x2"], box["y2"])
        # Outward rounding keeps every pixel the box touches.
        x1, y1, x2, y2 = clip_box(outward_box(*box), width, height)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {box} is empty inside a {width}×{height} image")
    crop = samples[:, :, y1:y2, x1:x2]
    short = min(crop.shape[-2:])
    if short < min_side:
        scale = min_side / short
        size = (max(min_side, round(crop.shape[-2] * scale)), max(min_side, round(crop.shape[-1] * scale)))
        crop = F.interpolate(crop, size=size, mode="bilinear", align_corners=False)
    return crop


def pairwise_lpips(crops: Tensor, lpips: nn.Module) -> Tensor:
    """LPIPS of every unordered pair (i < j) of the K crops: a K·(K−1)/2 vector."""
    k = crops.shape[0]
    i, j = torch.triu_indices(k, k, offset=1)
    if i.numel() == 0:
        return crops.new_zeros(0)
    return lpips(crops[i], crops[j]).flatten()


@torch.no_grad()
def lpips_diversity(samples: Sequence[Tensor], boxes: Sequence[Box], lpips: nn.Module,
                    min_side: int = MIN_SIDE) -> dict[str, object]:
    """Mean pairwise in-box LPIPS over the K samples of each input (images in [-1, 1]).

    ``samples[n]``: K×3×H×W generations of input n; ``boxes[n]``: its person box. Inputs with fewer than two
    samples are skipped (counted in ``n_skipped``). Returns ``{"mean", "std"}`` over all pairs,
    ``"mean_of_input_means"``, ``"per_input"`` (mean per input, NaN when skipped), ``n_inputs``, ``n_pairs``,
    ``n_skipped`` and ``min_side``.
    """
    if len(samples) != len(boxes):
        raise ValueError(f"{len(samples)} sample sets but {len(boxes)} boxes")
    lpips.eval()
    all_pairs: list[np.ndarray] = []
    per_input: list[float] = []
    for stack, box in zip(samples, boxes, strict=True):
        if stack.shape[0] < 2:
            per_input.append(float("nan"))
            continue
        dists = pairwise_lpips(crop_box(stack.float(), box, min_side), lpips).cpu().double().numpy()
        all_pairs.append(dists)
        per_input.append(float(dists.mean()))
    pairs = np.concatenate(all_pairs) if all_pairs else np.zeros(0)
    used = [m for m in per_input if not math.isnan(m)]
    return {
        "mean": float(pairs.mean()) if pairs.size else float("nan"),
        "std": float(pairs.std()) if pairs.size else float("nan"),
        "mean_of_input_means": float(np.mean(used)) if used else float("nan"),
        "per_input": per_input,
        "n_inputs": len(used),
        "n_pairs": int(pairs.size),
        "n_skipped": len(per_input) - len(used),
        "min_side": min_side,
    }
