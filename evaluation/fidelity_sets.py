"""FID / KID / IS of image sets against a real set whose Inception features are cached by content hash.

The cache key is the SHA-256 over the sorted real files (names and bytes), the Inception weights' SHA-256 and
the resize mode, so a changed image, file or network can never hit a stale entry. The cache folder is
``$AGAN_CACHE`` when set, else ``<out>/.cache``; entries are ``inception_<key>.npz`` (features, and logits when
the network has them), written atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from evaluation.fidelity import feature_statistics, frechet_distance, kernel_inception_distance, to_image_batch
from evaluation.inception import inception_score
from util.fileio import atomic_write_bytes
from util.progress import progress_bar

IS_NOT_AVAILABLE = "not available (TorchScript FID network has no logits)"
IS_SPLITS = 10


def cache_dir(out: Path) -> Path:
    return Path(os.environ["AGAN_CACHE"]) if os.environ.get("AGAN_CACHE") else out / ".cache"


def weights_sha(extractor: nn.Module) -> str | None:
    found = getattr(extractor, "weights_file", None)
    return getattr(found, "sha256", None) or getattr(extractor, "weights_sha256", None)


def content_key(files: Sequence[Path], extractor: nn.Module) -> str:
    digest = hashlib.sha256()
    digest.update(f"{weights_sha(extractor)}|{getattr(extractor, 'resize', '')}|{type(extractor).__name__}".encode())
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def has_logits(extractor: nn.Module) -> bool:
    return bool(getattr(extractor, "has_logits", False)) and hasattr(extractor, "features_and_logits")


def run_inception(extractor: nn.Module, images: Sequence[Any], batch_size: int = 16, desc: str = "inception",
                  quiet: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(N×D features float64, N×1008 logits or None) of uint8 H×W×3 arrays (or anything to_image_batch takes)."""
    feats, logits = [], []
    starts = range(0, len(images), batch_size)
    with torch.inference_mode():
        for start in progress_bar(starts, desc=desc, quiet=quiet, unit="batch"):
            batch = torch.cat([to_image_batch(item) for item in images[start:start + batch_size]])
            if has_logits(extractor):
                f, z = extractor.features_and_logits(batch)
                logits.append(z.double().cpu().numpy())
            else:
                f = extractor(batch)
            feats.append(f.reshape(f.shape[0], -1).double().cpu().numpy())
    return np.concatenate(feats), (np.concatenate(logits) if logits else None)


class RealFeatureCache:
    """Real-set features computed once per content; ``computed`` counts actual computations (tests watch it)."""

    def __init__(self, folder: Path, quiet: bool = False) -> None:
        self.folder = folder
        self.quiet = quiet
        self.computed = 0

    def features(self, files: Sequence[Path], images: Sequence[np.ndarray],
                 extractor: nn.Module) -> tuple[np.ndarray, str, bool]:
        """(features, key, hit) for the real set given as files (for the key) and their decoded images."""
        key = content_key(files, extractor)
        path = self.folder / f"inception_{key}.npz"
        if path.is_file():
            with np.load(path) as data:
                return data["features"], key, True
        features, _ = run_inception(extractor, images, desc="inception real", quiet=self.quiet)
        self.computed += 1
        buffer = io.BytesIO()
        np.savez(buffer, features=features)
        atomic_write_bytes(path, buffer.getvalue())
        return features, key, False


def fidelity_scores(fake: np.ndarray, real: np.ndarray, logits: np.ndarray | None, seed: int,
                    kid_subset_size: int = 1000, kid_subsets: int = 100) -> dict:
    """FID (eigh), KID mean ± std and IS (or why not) of fake features against real features."""
    if fake.shape[0] < 2 or real.shape[0] < 2:
        raise ValueError(f"FID needs at least 2 images per set, got {fake.shape[0]} and {real.shape[0]}")
    fid = frechet_distance(*feature_statistics(fake), *feature_statistics(real), method="eigh")
    kid_mean, kid_std = kernel_inception_distance(fake, real, kid_subset_size, kid_subsets, seed)
    result: dict[str, Any] = {
        "fid": fid, "kid_mean": kid_mean, "kid_std": kid_std, "n_fake": int(fake.shape[0]),
        "n_real": int(real.shape[0]), "kid_subset_size": int(min(kid_subset_size, fake.shape[0], real.shape[0])),
        "kid_subsets": kid_subsets, "kid_seed": seed,
    }
    if logits is None:
        result["inception_score"] = IS_NOT_AVAILABLE
    elif logits.shape[0] < IS_SPLITS:
        result["inception_score"] = f"not available (needs at least {IS_SPLITS} images, got {logits.shape[0]})"
    else:
        mean, std = inception_score(logits, IS_SPLITS)
        result["inception_score"] = {"mean": mean, "std": std, "splits": IS_SPLITS,
                                     "logits": "pool3 @ fc.weight (no bias), as the TF original"}
    return result
