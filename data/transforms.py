"""Paired image transforms that carry a box exactly.

Parameters are sampled once per sample (``sample_params``) and then applied identically to the input image,
the target image and the box. The geometric steps are one list of operations (``plan``) that both the image
and the box fold over, so the two cannot drift apart. Order (docs/differences_from_original.md#exact-boxes,
#colour-jitter):

    resize (or scale_width) -> crop -> colour (train phase only) -> 'none' rounding to x4 -> hflip -> [-1, 1]

Colour factors follow PIL ImageEnhance (which torchvision used on PIL images): brightness multiplies,
contrast blends with the mean of the grayscale image. Brightness is applied before contrast (torchvision's
ColorJitter used a random order; we fix one so A and B and reruns agree).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image, ImageEnhance

from data.boxes import Box, Size, box_size, crop_box, flip_box, scale_box
from data.errors import DatasetError

MAX_ATTEMPTS = 5
MIN_BOX_SIDE_AT_256 = 32  # the SPP person discriminator breaks on smaller boxes
BRIGHTNESS_RANGE = (0.9, 1.2)
CONTRAST_RANGE = (1.0, 1.2)
ROUND_BASE = 4  # the 'none' token rounds sizes to a multiple of this


@dataclass(frozen=True)
class TransformConfig:
    """What the options ask for; fixed for a dataset. Tokens are substrings of ``--preprocess``."""

    resize: bool = False
    scale_width: bool = False
    crop: bool = False
    color: bool = False
    contrast: bool = False
    round_to_base: bool = False  # the 'none' token
    load_size: int = 256
    crop_size: int = 256
    flip: bool = True
    jitter: bool = False  # colour only in the train phase

    @classmethod
    def parse(
        cls, preprocess: str, load_size: int, crop_size: int, flip: bool, jitter: bool
    ) -> TransformConfig:
        return cls(
            resize="resize" in preprocess,
            scale_width="scale_width" in preprocess,
            crop="crop" in preprocess,
            color="color" in preprocess,
            contrast="contrast" in preprocess,
            round_to_base="none" in preprocess,
            load_size=int(load_size),
            crop_size=int(crop_size),
            flip=flip,
            jitter=jitter,
        )

    @classmethod
    def from_opt(cls, opt: Any) -> TransformConfig:
        return cls.parse(
            opt.preprocess,
            opt.load_size,
            opt.crop_size,
            flip=not opt.no_flip,
            jitter=bool(opt.isTrain) and opt.phase == "train",
        )


@dataclass(frozen=True)
class TransformParams:
    """Everything random about one sample's transform."""

    size: Size  # working (width, height) after resize / scale_width
    crop_pos: tuple[int, int] | None  # top-left (x, y) of the crop in the working image; None = no crop
    flip: bool
    brightness: float = 1.0
    contrast: float = 1.0


class _Op(Protocol):
    def box(self, box: Box, size: Size) -> tuple[Box, Size]: ...

    def image(self, img: Image.Image) -> Image.Image: ...


@dataclass(frozen=True)
class _Resize:
    size: Size

    def box(self, box: Box, size: Size) -> tuple[Box, Size]:
        return scale_box(box, size, self.size), self.size

    def image(self, img: Image.Image) -> Image.Image:
        return img.resize(self.size, Image.Resampling.BICUBIC)


@dataclass(frozen=True)
class _Crop:
    left: int
    top: int
    size: Size

    def box(self, box: Box, size: Size) -> tuple[Box, Size]:
        return crop_box(box, self.left, self.top, *self.size), self.size

    def image(self, img: Image.Image) -> Image.Image:
        return img.crop((self.left, self.top, self.left + self.size[0], self.top + self.size[1]))


@dataclass(frozen=True)
class _Colour:
    brightness: float
    contrast: float

    def box(self, box: Box, size: Size) -> tuple[Box, Size]:
        return box, size

    def image(self, img: Image.Image) -> Image.Image:
        if self.brightness != 1.0:
            img = ImageEnhance.Brightness(img).enhance(self.brightness)
        if self.contrast != 1.0:
            img = ImageEnhance.Contrast(img).enhance(self.contrast)
        return img


@dataclass(frozen=True)
class _Flip:
    def box(self, box: Box, size: Size) -> tuple[Box, Size]:
        return flip_box(box, size[0]), size

    def image(self, img: Image.Image) -> Image.Image:
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def min_box_side(crop_size: int) -> float:
    """Smallest accepted box side after transforms: 32 px at crop 256, scaled with the crop size."""
    return MIN_BOX_SIDE_AT_256 * crop_size / 256


def working_size(image_size: Size, config: TransformConfig) -> Size:
    """Size after the resize step: load x load, or scale_width (height keeps the aspect, floored)."""
    width, height = image_size
    if config.resize:
        return config.load_size, config.load_size
    if config.scale_width:
        new_height = config.load_size * height // width
        if config.crop:  # the crop must still fit vertically
            new_height = max(new_height, config.crop_size)
        return config.load_size, max(1, new_height)
    return width, height


def source_window_side(source_side: int, config: TransformConfig) -> int:
    """Side, in source pixels, of the square that the transforms turn into one ``crop_size`` model window.

    Training crops of ``source_side`` px resized to ``load_size`` show people at ``load_size / source_side`` of
    their frame size; a frame window of this side, resized to ``crop_size``, shows them at that same scale."""
    scaled_width = working_size((source_side, source_side), config)[0]
    return max(1, round(config.crop_size * source_side / scaled_width))


def _round_side(side: int) -> int:
    return max(ROUND_BASE, round(side / ROUND_BASE) * ROUND_BASE)


def _round_size(size: Size) -> Size:
    return _round_side(size[0]), _round_side(size[1])


def plan(image_size: Size, params: TransformParams, config: TransformConfig) -> list[_Op]:
    """The ordered operations for one sample; the image and its box both fold over this list."""
    ops: list[_Op] = []
    size = image_size
    if params.size != size:
        ops.append(_Resize(params.size))
        size = params.size
    if params.crop_pos is not None:
        size = (config.crop_size, config.crop_size)
        ops.append(_Crop(params.crop_pos[0], params.crop_pos[1], size))
    if params.brightness != 1.0 or params.contrast != 1.0:
        ops.append(_Colour(params.brightness, params.contrast))
    if config.round_to_base and _round_size(size) != size:
        ops.append(_Resize(_round_size(size)))
    if params.flip:
        ops.append(_Flip())
    return ops


def transform_box(box: Box, image_size: Size, params: TransformParams, config: TransformConfig) -> Box:
    """The box after every geometric step, by exact integer arithmetic."""
    size = image_size
    for op in plan(image_size, params, config):
        box, size = op.box(box, size)
    return box


def to_tensor(img: Image.Image) -> torch.Tensor:
    """uint8 PIL image -> C x H x W float tensor in [-1, 1], as ((x / 255) - 0.5) / 0.5."""
    array = np.asarray(img, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(array.transpose(2, 0, 1).copy())
    return (tensor / 255.0 - 0.5) / 0.5


def transform_image(img: Image.Image, params: TransformParams, config: TransformConfig) -> torch.Tensor:
    """Apply the sample's transform to one image and return the normalised tensor."""
    for op in plan(img.size, params, config):
        img = op.image(img)
    return to_tensor(img)


def transform_mask(mask: Image.Image, params: TransformParams, config: TransformConfig) -> torch.Tensor:
    """The sample's geometric steps applied to its 8-bit person mask: 1×H×W of 0/1 floats (resized bilinearly
    and thresholded at one half, so a thin limb survives a downscale; no colour change)."""
    for op in plan(mask.size, params, config):
        if isinstance(op, _Resize):
            mask = mask.resize(op.size, Image.Resampling.BILINEAR)
        elif not isinstance(op, _Colour):
            mask = op.image(mask)
    return torch.from_numpy(np.asarray(mask) >= 128).float()[None]


def _colour_factors(rng: np.random.Generator, config: TransformConfig) -> tuple[float, float]:
    if not config.jitter:
        return 1.0, 1.0
    brightness = float(rng.uniform(*BRIGHTNESS_RANGE)) if config.color else 1.0
    contrast = float(rng.uniform(*CONTRAST_RANGE)) if config.contrast else 1.0
    return brightness, contrast


def crop_position(rng: np.random.Generator, attempt: int, size: Size, crop: int) -> tuple[int, int]:
    """Attempt 0: random; 1: left edge; 2: flush right; 3: top edge; 4: flush bottom (other axis random)."""
    max_x, max_y = size[0] - crop, size[1] - crop
    x, y = int(rng.integers(0, max_x + 1)), int(rng.integers(0, max_y + 1))
    if attempt == 1:
        x = 0
    elif attempt == 2:
        x = max_x  # flush right; the original stopped one pixel short
    elif attempt == 3:
        y = 0
    elif attempt == 4:
        y = max_y
    return x, y


def _check_crop_fits(size: Size, config: TransformConfig, path: str | os.PathLike[str]) -> None:
    if config.crop and (size[0] < config.crop_size or size[1] < config.crop_size):
        raise DatasetError(
            path,
            f"image is {size[0]}x{size[1]} after resizing, smaller than crop_size {config.crop_size}",
            kind="image too small",
        )


def _big_enough(box: Box, minimum: float) -> bool:
    width, height = box_size(box)
    return width >= minimum and height >= minimum


def sample_params(
    rng: np.random.Generator,
    image_size: Size,
    box: Box,
    config: TransformConfig,
    path: str | os.PathLike[str],
) -> TransformParams:
    """Draw one sample's parameters, retrying crop positions until the box keeps the minimum size.

    Colour factors are drawn first (once per sample, shared by input and target); then up to 5 crop
    attempts, each with a fresh flip coin (drawn even with --no_flip so the crop stream does not change).
    """
    brightness, contrast = _colour_factors(rng, config)
    size = working_size(image_size, config)
    _check_crop_fits(size, config, path)
    minimum = min_box_side(config.crop_size)
    attempts = MAX_ATTEMPTS if config.crop else 1  # without a crop every attempt gives the same box size
    for attempt in range(attempts):
        crop_pos = crop_position(rng, attempt, size, config.crop_size) if config.crop else None
        flip = bool(rng.integers(0, 2)) and config.flip
        params = TransformParams(size, crop_pos, flip, brightness, contrast)
        new_box = transform_box(box, image_size, params, config)
        if _big_enough(new_box, minimum):
            return params
    width, height = box_size(new_box)
    step = f"cropping ({attempts} attempts)" if config.crop else "resizing"
    raise DatasetError(
        path,
        f"box too small after {step}: {width}x{height} px, minimum {minimum:g} px (box {list(box)})",
        kind="box too small",
    )


def check_box_feasible(
    image_size: Size, box: Box, config: TransformConfig, path: str | os.PathLike[str]
) -> None:
    """Fail early when even the best crop leaves the box below the minimum (cheap, used at construction)."""
    size = working_size(image_size, config)
    _check_crop_fits(size, config, path)
    crop_pos = None
    if config.crop:
        # A crop starting at the box's corner (pushed back inside the image) keeps as much of it as possible.
        scaled = scale_box(box, image_size, size)
        crop_pos = (
            min(max(scaled[0], 0), size[0] - config.crop_size),
            min(max(scaled[1], 0), size[1] - config.crop_size),
        )
    best = transform_box(box, image_size, TransformParams(size, crop_pos, False), config)
    minimum = min_box_side(config.crop_size)
    if not _big_enough(best, minimum):
        width, height = box_size(best)
        raise DatasetError(
            path,
            f"box too small: at most {width}x{height} px after preprocessing, minimum {minimum:g} px "
            f"(box {list(box)})",
            kind="box too small",
        )


def downscale(image: torch.Tensor, size: Size) -> torch.Tensor:
    """Antialiased bicubic downscale of a C x H x W tensor to (width, height), clamped to [-1, 1]."""
    out = torch.nn.functional.interpolate(
        image[None], size=(size[1], size[0]), mode="bicubic", antialias=True, align_corners=False
    )[0]
    return out.clamp_(-1.0, 1.0)

