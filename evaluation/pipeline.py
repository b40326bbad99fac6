"""The crop evaluation: one row of metrics per method (the model, each baseline), computed by the same code.

Every row has ``fidelity`` (FID/KID/IS of the raw output and of the composite against real_B), ``background``
(PSNR/SSIM outside the box of the raw output vs real_B), ``anonymity`` (thesis rates, rank-k and mAP of the
composite's person crops against the originals) and ``diversity`` (LPIPS inside the box and the re-ID shared
identity rate between K samples of one input, or why not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from evaluation import anonymity
from evaluation.background import background_metrics
from evaluation.crops import CropSet
from evaluation.fidelity_sets import RealFeatureCache, fidelity_scores, run_inception, weights_sha
from evaluation.reid import extract_features as reid_features
from evaluation.reid import reid_crop

THESIS_THRESHOLD = 0.22
GENERIC_LABEL = "generic appearance features, not a re-ID model"


@dataclass
class Tools:
    """The networks; each is injectable so tests can swap in tiny ones."""

    inception: nn.Module
    reid: nn.Module
    lpips: nn.Module | None
    cache: RealFeatureCache
    seed: int = 0
    quiet: bool = False


@dataclass
class Reference:
    """What every row is compared with, computed once."""

    test: CropSet
    real_files: list[Path]
    real_images: list[np.ndarray] = field(repr=False)
    real_features: np.ndarray = field(repr=False)
    real_cache: dict
    orig_features: np.ndarray = field(repr=False)
    gallery_ids: list
    train_stems: list[str]
    train_features: np.ndarray | None = field(repr=False)
    threshold: dict
    calibration: dict = field(default_factory=dict, repr=False)  # same/diff distances for the report
    train_dataroot: Path | None = None
    train_phase: str | None = None


def person_crops(images: list[np.ndarray], boxes: list) -> list[np.ndarray]:
    return [reid_crop(image, box) for image, box in zip(images, boxes, strict=True)]


def reid_of(tools: Tools, images: list[np.ndarray], boxes: list) -> np.ndarray:
    return reid_features(tools.reid, person_crops(images, boxes))


def describe_reid(extractor: nn.Module) -> dict:
    is_reid = bool(getattr(extractor, "is_reid_model", False))
    description = str(getattr(extractor, "description", type(extractor).__name__))
    path = getattr(extractor, "weights_file", None)
    return {
        "description": (description if is_reid or "not a re-ID model" in description
                        else f"{GENERIC_LABEL}: {description}"),
        "is_reid_model": is_reid,
        "weights": str(path) if path is not None else None,
        "weights_sha256": getattr(extractor, "weights_sha256", None),
    }


def describe_weights(module: nn.Module | None) -> dict | None:
    if module is None:
        return None
    found = getattr(module, "weights_file", None)
    files = getattr(module, "weights_files", None) or ([found] if found is not None else [])
    return {"module": type(module).__name__,
            "files": [{"path": str(getattr(f, "path", f)), "sha256": getattr(f, "sha256", None) or weights_sha(module)}
                      for f in files]}


# ----------------------------------------------------------------------------------------------------
# Threshold


def calibration_distances(features: np.ndarray, ids: list) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances of all distinct pairs (i < j) split into same-identity and different-identity."""
    dist = anonymity.cosine_distance_matrix(features, features)
    ids_arr = np.asarray([str(i) for i in ids])
    upper = np.triu(np.ones(dist.shape, dtype=bool), k=1)
    same = ids_arr[:, None] == ids_arr[None, :]
    return dist[upper & same], dist[upper & ~same]


def choose_threshold(requested: str, same: np.ndarray | None, diff: np.ndarray | None, pairs_source: str | None
                     ) -> dict:
    """The threshold and its provenance: a given number, the F1 sweep on true pairs, or the thesis's 0.22."""
    if requested not in ("calibrate", "auto"):
        return {"value": float(requested), "source": "given with --threshold"}
    if same is not None and diff is not None and same.size and diff.size:
        result = anonymity.calibrate_threshold(same, diff)
        summary = {k: v for k, v in result.items() if np.ndim(v) == 0}
        return {"value": float(result["threshold"]), "source": "calibrated: F1 sweep on same- vs different-person "
                f"pairs of original crops ({pairs_source})", **{k: _plain(v) for k, v in summary.items()
                                                                 if k != "threshold"}}
    if requested == "calibrate":
        note = "--threshold calibrate: no same-person pairs available (no identities.json and no --pairs)"
    else:
        note = "no same-person pairs available"
    return {"value": THESIS_THRESHOLD, "source": f"thesis default (calibrated on other data); {note}"}


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


# ----------------------------------------------------------------------------------------------------
# One row


def fidelity_block(tools: Tools, ref: Reference, raw: list[np.ndarray] | None, display: list[np.ndarray],
                   name: str) -> dict:
    out: dict[str, Any] = {}
    for label, images in (("composite", display), ("raw", raw)):
        if images is None:
            out[label] = "same as composite (only the box is changed)"
            continue
        feats, logits = run_inception(tools.inception, images, desc=f"inception {name} {label}", quiet=tools.quiet)
        out[label] = fidelity_scores(feats, ref.real_features, logits, tools.seed)
    out["real_set"] = ref.real_cache
    return out


def anonymity_block(tools: Tools, ref: Reference, display: list[np.ndarray]) -> tuple[dict, dict]:
    """Rates, rank-k/mAP, and the per-sample distances the report plots."""
    t = ref.threshold["value"]
    anon = reid_of(tools, display, ref.test.boxes)
    d_orig = anonymity.cosine_distance_matrix(anon, ref.orig_features)
    d_train = (anonymity.cosine_distance_matrix(anon, ref.train_features)
               if ref.train_features is not None and len(ref.train_features) else None)
    rates = anonymity.thesis_rates(d_orig, d_train, t, anonymity.cosine_distance_matrix(anon, anon))
    if d_train is None:
        rates["similar_to_train"] = "n/a (no training crops)"
    query_ids = ref.gallery_ids  # query i is the anonymized version of gallery item i
    ranking = anonymity.rank_k_and_map(d_orig, query_ids, ref.gallery_ids, ks=(1, 5))
    details = {"to_own_original": np.diagonal(d_orig).copy(),
               "nearest_train": (d_train.argmin(axis=1) if d_train is not None else None),
               "nearest_train_distance": (d_train.min(axis=1) if d_train is not None else None)}
    block = {"threshold": t, "rates": _jsonable(rates), "ranking": _jsonable(ranking),
             "mean_distance_to_own_original": float(details["to_own_original"].mean()), "n": len(anon)}
    return block, details


def diversity_block(tools: Tools, ref: Reference, samples: list[list[np.ndarray]] | None, why_not: str) -> dict:
    if samples is None:
        return {"lpips": why_not, "shared_identity_between_samples": why_not}
    from evaluation.diversity import lpips_diversity

    k = len(samples[0])
    tensors = [torch.from_numpy(np.stack(s)).permute(0, 3, 1, 2).float() / 127.5 - 1.0 for s in samples]
    out: dict[str, Any] = {"k": k}
    out["lpips"] = (_jsonable(lpips_diversity(tensors, ref.test.boxes, tools.lpips)) if tools.lpips is not None
                    else "not available (no LPIPS weights)")
    flat = [image for s in samples for image in s]
    boxes = [box for box, s in zip(ref.test.boxes, samples, strict=True) for _ in s]
    feats = reid_of(tools, flat, boxes)
    dist = anonymity.cosine_distance_matrix(feats, feats)
    owner = np.repeat(np.arange(len(samples)), k)
    dist = np.where(owner[:, None] == owner[None, :], dist, np.inf)  # only samples of the same input count
    out["shared_identity_between_samples"] = _jsonable(
        anonymity.shared_identity_rate(dist, ref.threshold["value"]))
    return out


def evaluate_row(name: str, tools: Tools, ref: Reference, display: list[np.ndarray], raw: list[np.ndarray] | None,
                 samples: list[list[np.ndarray]] | None, diversity_why_not: str = "n/a") -> tuple[dict, dict]:
    row: dict[str, Any] = {"name": name, "n": len(display)}
    row["fidelity"] = fidelity_block(tools, ref, raw, display, name)
    row["background"] = background_metrics(raw if raw is not None else display, ref.real_images, ref.test.boxes)
    row["anonymity"], details = anonymity_block(tools, ref, display)
    row["diversity"] = diversity_block(tools, ref, samples, diversity_why_not)
    return row, details


def _jsonable(value: Any) -> Any:
    """NumPy scalars/arrays → plain JSON values; non-finite floats → strings (JSON has none)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else str(v)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value
