"""Fixtures for the data tests: an options namespace and tiny AB samples written to tmp_path."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CROP = 64


def make_opt(dataroot: Path | str, **overrides: object) -> argparse.Namespace:
    """The options the data package reads, at 64-px crops (what train.py would hand over)."""
    values: dict[str, object] = dict(
        dataroot=str(dataroot),
        dataset_mode="aligned",
        phase="train",
        isTrain=True,
        direction="BtoA",
        preprocess="resize_crop",
        load_size=72,
        crop_size=CROP,
        no_flip=False,
        bbox_noise="none",
        netD_person="spp",
        netG="unet_64",
        model="psgan",
        input_nc=3,
        output_nc=3,
        max_dataset_size=float("inf"),
        serial_batches=False,
        batch_size=1,
        num_threads=0,
        skip_bad_samples=False,
        seed=42,
    )
    values.update(overrides)
    return argparse.Namespace(**values)


def clean_crop(size: int, seed: int) -> np.ndarray:
    """A smooth, non-constant RGB crop (size x size x 3 uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = rng.uniform(40, 80, size=3)
    img = base[None, None, :] + 1.5 * xx[..., None] + 0.8 * yy[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def write_sample(
    root: Path,
    stem: str,
    box: tuple[int, int, int, int] = (16, 8, 40, 56),
    phase: str = "train",
    size: int = CROP,
    schema: str = "new",
    suffix: str = ".png",
    seed: int = 0,
) -> Path:
    """Write images/<phase>/<stem><suffix> (clean | box filled with 0/127/255 noise) and its JSON box."""
    image_dir, box_dir = root / "images" / phase, root / "bbox" / phase
    image_dir.mkdir(parents=True, exist_ok=True)
    box_dir.mkdir(parents=True, exist_ok=True)
    clean = clean_crop(size, seed)
    noisy = clean.copy()
    x1, y1, x2, y2 = box
    levels = np.array([0, 127, 255], np.uint8)
    noise = np.random.default_rng(seed + 1000).choice(levels, size=(y2 - y1, x2 - x1))
    noisy[y1:y2, x1:x2] = noise[..., None]
    path = image_dir / f"{stem}{suffix}"
    Image.fromarray(np.concatenate([clean, noisy], axis=1)).save(path)
    keys = ("x1", "y1", "x2", "y2") if schema == "new" else ("x", "y", "w", "h")
    (box_dir / f"{stem}.json").write_text(json.dumps(dict(zip(keys, box, strict=True))))
    return path


@pytest.fixture
def opt_factory() -> Callable[..., argparse.Namespace]:
    return make_opt


@pytest.fixture
def sample_writer() -> Callable[..., Path]:
    return write_sample
