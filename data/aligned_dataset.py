"""The crop dataset: AB images (clean | box filled) plus one JSON box per image, paired by stem.

On disk (the original's layout)::

    <dataroot>/images/<phase>/<stem>.png  W = 2 H: left half clean, right half with the person's box filled
    <dataroot>/bbox/<phase>/<stem>.json   {"x1","y1","x2","y2"} (x2, y2 exclusive) or legacy {"x","y","w","h"}
    <dataroot>/person_mask/<phase>/<stem>.png  optional: 8-bit, 255 on the people of the clean half (written by
                                               data_preprocessing.cityscapes from gtFine instance ids)

Each item is a ``data.batch.Batch`` of one sample, with ``--direction`` applied: ``A`` is the generator input
(box filled per ``--bbox_noise``), ``B`` the target; with ``BtoA`` (the default) A comes from the right half. When
the model asks for a small input (``opt.small_input_size``, progan's stage 1) the item also has its small part;
when it asks for person masks (``needs_person_masks``) the item has the mask, transformed with the crop. With
``--person_hole_fraction F`` every training item has a ``hole``: for a fraction F of them (drawn per item) the
person's shape (``data.holes.person_hole``), with ``A`` the target with that hole filled, for the others the box.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from data.base_dataset import BaseDataset
from data.batch import Batch, make_batch
from data.boxes import FILL_MODES, Box, Size, box_mask, fill_box, load_box, validate_box
from data.errors import DatasetError
from data.holes import fill_hole, person_hole
from data.transforms import (
    TransformConfig,
    check_box_feasible,
    sample_params,
    transform_box,
    transform_image,
    transform_mask,
)
from util.image_files import ImageReadError, image_size, read_rgb

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")
DIRECTIONS = ("AtoB", "BtoA")


@dataclass(frozen=True)
class Sample:
    stem: str
    path: str
    box: Box  # in the coordinates of one half (the crop)
    side: int  # the crop's side (the AB image's height)


def person_hole_fraction(opt: Any) -> float:
    """The fraction of training crops whose painted region is the person, not the box (--person_hole_fraction)."""
    return float(getattr(opt, "person_hole_fraction", 0.0)) if getattr(opt, "isTrain", False) else 0.0


def needs_person_masks(opt: Any) -> bool:
    """Whether each crop's person mask is read: always for a generator told where the person is
    (``--netG_silhouette_input``, validation and test too); in training also when the L1 weight of the background
    inside the box is set or some crops are painted in the person's shape."""
    if getattr(opt, "netG_silhouette_input", False):
        return True
    background_weight = getattr(opt, "L1_box_background_weight", None) is not None
    return getattr(opt, "isTrain", False) and (background_weight or person_hole_fraction(opt) > 0)


def image_stem(path: Path) -> str:
    """File name up to its first dot: ``a_0.png`` and ``a_0.noisy.png`` both pair with ``a_0.json``."""
    return path.name.split(".", 1)[0]


def find_images(folder: Path) -> list[Path]:
    """All image files under folder (recursive), sorted by stem then path."""
    if not folder.is_dir():
        raise DatasetError(folder, "image folder not found", kind="missing folder")
    files = [p for p in folder.rglob("*") if p.suffix.lower() in IMG_EXTENSIONS and p.is_file()]
    if not files:
        extensions = ", ".join(IMG_EXTENSIONS)
        raise DatasetError(folder, f"no images found (extensions {extensions})", kind="empty folder")
    return sorted(files, key=lambda p: (image_stem(p), str(p)))


def read_image_size(path: Path, full_decode: bool) -> Size:
    """The image size from its header; with full_decode also decode all pixels to catch truncated files."""
    try:
        return image_size(path) if not full_decode else read_rgb(path).shape[1::-1]
    except ImageReadError as exc:
        raise DatasetError(path, f"cannot read image: {exc.problem}", kind="unreadable image") from None


def load_rgb(path: str) -> Image.Image:
    """The AB image as 8-bit RGB (util.image_files: any bit depth and channel layout)."""
    try:
        return Image.fromarray(read_rgb(path))
    except ImageReadError as exc:
        raise DatasetError(path, f"cannot read image: {exc.problem}", kind="unreadable image") from None


class AlignedDataset(BaseDataset):
    """AB crops with their boxes; see the module docstring for the layout and the returned keys."""

    def __init__(self, opt: Any) -> None:
        super().__init__(opt)
        if opt.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {opt.direction!r}")
        if opt.bbox_noise not in FILL_MODES:
            raise ValueError(f"bbox_noise must be one of {FILL_MODES}, got {opt.bbox_noise!r}")
        self.phase = opt.phase
        self.image_dir = Path(opt.dataroot) / "images" / opt.phase
        self.box_dir = Path(opt.dataroot) / "bbox" / opt.phase
        self.mask_dir = Path(opt.dataroot) / "person_mask" / opt.phase if needs_person_masks(opt) else None
        self.hole_fraction = person_hole_fraction(opt)
        self.seed = int(opt.seed)
        self.config = TransformConfig.from_opt(opt)
        self.skip_bad = bool(getattr(opt, "skip_bad_samples", False))
        self.skipped: Counter[str] = Counter()
        self.small_size = getattr(opt, "small_input_size", None)
        self.samples = self._scan(opt.max_dataset_size)
        # The side of the training crops (one half of an AB image) when they all share it: the scale at which
        # the model saw people, which anonymize.py reproduces (data.transforms.source_window_side).
        sides = {sample.side for sample in self.samples}
        self.source_side: int | None = sides.pop() if len(sides) == 1 else None

    # ---- construction ----------------------------------------------------------------------------
    def _scan(self, max_size: float) -> list[Sample]:
        """Validate images in stem order until max_size good samples are found."""
        images = find_images(self.image_dir)
        if not self.box_dir.is_dir():
            raise DatasetError(self.box_dir, "box folder not found", kind="missing folder")
        if self.mask_dir is not None and not self.mask_dir.is_dir():
            raise DatasetError(self.mask_dir, "person mask folder not found (--L1_box_background_weight, "
                                              "--person_hole_fraction and --netG_silhouette_input need one mask "
                                              "per crop: "
                                              "data_preprocessing.cityscapes writes them from gtFine instance ids)",
                               kind="missing folder")
        samples: list[Sample] = []
        seen: dict[str, Path] = {}
        for path in images:
            if len(samples) >= max_size:
                break
            try:
                samples.append(self._check(path, seen))
            except DatasetError as err:
                if not self.skip_bad:
                    raise
                print(f"[dataset] skipping {err}", file=sys.stderr)
                self.skipped[err.kind] += 1
        if not samples:
            problem = f"no usable samples ({self._skipped_text()})"
            raise DatasetError(self.image_dir, problem, kind="empty folder")
        return samples

    def _check(self, path: Path, seen: dict[str, Path]) -> Sample:
        """Cheap checks of one sample; raises DatasetError naming the offending file."""
        stem = image_stem(path)
        if stem in seen:
            raise DatasetError(path, f"duplicate stem {stem!r} (also {seen[stem]})", kind="duplicate stem")
        seen[stem] = path
        width, height = read_image_size(path, full_decode=self.skip_bad)
        if width != 2 * height:
            raise DatasetError(
                path, f"AB image must be twice as wide as tall, got {width}x{height}", kind="bad image size"
            )
        json_path = self.box_dir / f"{stem}.json"
        if not json_path.is_file():
            raise DatasetError(json_path, f"missing box file for image {path}", kind="missing JSON")
        box = validate_box(load_box(json_path), width // 2, height, json_path)
        check_box_feasible((width // 2, height), box, self.config, json_path)
        if self.mask_dir is not None:
            self._check_mask(self.mask_dir / f"{stem}.png", (width // 2, height))
        return Sample(stem, str(path), box, height)

    def _check_mask(self, path: Path, size: Size) -> None:
        if not path.is_file():
            raise DatasetError(path, "missing person mask", kind="missing mask")
        mask_size = read_image_size(path, full_decode=self.skip_bad)
        if mask_size != size:
            raise DatasetError(path, f"person mask is {mask_size[0]}x{mask_size[1]}, its crop {size[0]}x{size[1]}",
                               kind="bad mask size")

    def _skipped_text(self) -> str:
        total = sum(self.skipped.values())
        if not total:
            return "0 skipped"
        return f"{total} skipped ({', '.join(f'{n} {kind}' for kind, n in self.skipped.items())})"

    @property
    def summary(self) -> str:
        """One line for the log, e.g. ``[dataset] train: 118 samples, 2 skipped (1 missing JSON, ...)``."""
        text = f"[dataset] {self.phase}: {len(self.samples)} samples"
        return f"{text}, {self._skipped_text()}" if self.skipped else text

    # ---- items -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Batch:
        sample = self.samples[index]
        # One private stream per (seed, epoch, index): identical for any worker count and on resume.
        rng = np.random.default_rng([self.seed, self.epoch, index])
        source, target = self._load_halves(sample.path)
        params = sample_params(rng, source.size, sample.box, self.config, sample.path)
        box = transform_box(sample.box, source.size, params, self.config)
        real_a = fill_box(transform_image(source, params, self.config), box, self.opt.bbox_noise, rng)
        real_b = transform_image(target, params, self.config)
        person_mask = hole = None
        if self.mask_dir is not None:
            mask = load_rgb(str(self.mask_dir / f"{sample.stem}.png")).getchannel(0)
            person_mask = transform_mask(mask, params, self.config)[None]
        if self.hole_fraction > 0:
            # Drawn only when the flag is set, so that the thesis's random streams are unchanged.
            if rng.random() < self.hole_fraction:
                hole = torch.from_numpy(person_hole(person_mask[0, 0].numpy(), box)).float()[None, None]
                real_a = fill_hole(real_b.clone(), hole[0], self.opt.bbox_noise, rng)
            else:
                hole = box_mask(box, *real_b.shape[-2:])[None]
        return make_batch(real_a[None], real_b[None], [box], [sample.path], small_size=self.small_size,
                          crop_size=self.config.crop_size, fill_mode=self.opt.bbox_noise, rngs=[rng],
                          person_mask=person_mask, hole=hole)

    def _load_halves(self, path: str) -> tuple[Image.Image, Image.Image]:
        """(input, target) halves of the AB image, after --direction and the channel counts."""
        ab = load_rgb(path)
        half, height = ab.width // 2, ab.height
        left, right = ab.crop((0, 0, half, height)), ab.crop((half, 0, 2 * half, height))
        source, target = (right, left) if self.opt.direction == "BtoA" else (left, right)
        if self.opt.input_nc == 1:
            source = source.convert("L")
        if self.opt.output_nc == 1:
            target = target.convert("L")
        return source, target
