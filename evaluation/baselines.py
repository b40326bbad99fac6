"""Traditional anonymization baselines on the dataset crops: blur, pixelation, solid mask and noise.

Each baseline is ``anonymizer.methods.anonymize_box`` (the code the full-frame tool uses) applied to the clean
half of every crop with the dataset's box, so a baseline row in the report differs from the model row only in
what fills the box. Noise is random: its ``k``-th sample uses the generator seeded with ``[seed, k, index]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anonymizer.methods import DEFAULT_STRENGTH, STRENGTH_MEANING, TRADITIONAL_METHODS, anonymize_box
from data.boxes import Box

STOCHASTIC = frozenset({"noise"})  # the only baseline whose output depends on the random stream


def parse_baselines(text: str) -> list[str]:
    """``"blur,pixelate"`` → ["blur", "pixelate"]; "" or "none" → []; an unknown name is an error."""
    if text.strip().lower() in ("", "none"):
        return []
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TRADITIONAL_METHODS]
    if unknown:
        raise ValueError(f"--baselines: unknown method(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(TRADITIONAL_METHODS)}")
    return list(dict.fromkeys(names))


def apply_baseline(images: Sequence[np.ndarray], boxes: Sequence[Box], method: str, seed: int = 0,
                   sample: int = 0, strength: float | None = None) -> list[np.ndarray]:
    """Anonymize the box of every image with ``method``; everything outside the box is left untouched."""
    return [
        anonymize_box(image, box, method, strength, np.random.default_rng([seed, sample, index]))
        for index, (image, box) in enumerate(zip(images, boxes, strict=True))
    ]


def describe(method: str, strength: float | None = None) -> dict:
    """The settings of a baseline, for metrics.json."""
    value = DEFAULT_STRENGTH[method] if strength is None else strength
    return {"method": method, "strength": value, "strength_meaning": STRENGTH_MEANING[method],
            "stochastic": method in STOCHASTIC, "code": "anonymizer.methods.anonymize_box"}
