"""Composites for results of other methods: paste the box of each generated crop into the real crop.

    python -m evaluation.composite --generated DIR --dataroot D [--phase val] --out DIR

For every dataset sample ``<dataroot>/images/<phase>/<stem>.png`` (AB image, left half clean) the generated
image is ``<generated>/<stem>.png`` or the single ``<generated>/<stem>_*.png`` (e.g. ``<stem>_fake_B.png``).
It must be as large as the crop, or 256×256 (then it is resized to the crop). The pixels inside the dataset box
come from the generated image, all others from the clean half; the result is ``<out>/<stem>_fake_B_display.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from data.boxes import Box, load_box, validate_box
from data.errors import DatasetError
from util.cli import os_error_text
from util.fileio import atomic_write
from util.image_files import ImageReadError, read_rgb
from util.progress import progress_bar

LEGACY_SIZE = 256  # the original's generated crops were 256×256 whatever the dataset


class CompositeError(ValueError):
    """A generated file is missing, ambiguous or of the wrong size; the message names it."""


def paste_box(real: np.ndarray, generated: np.ndarray, box: Box) -> np.ndarray:
    """``real`` with the ``box`` region taken from ``generated`` (same H×W×3 shape)."""
    if real.shape != generated.shape:
        raise ValueError(f"shapes differ: real {real.shape}, generated {generated.shape}")
    x1, y1, x2, y2 = box
    out = real.copy()
    out[y1:y2, x1:x2] = generated[y1:y2, x1:x2]
    return out


def clean_half(path: Path) -> np.ndarray:
    """The left (clean) half of an AB image as H×W×3 uint8."""
    ab = read_rgb(path)
    return ab[:, : ab.shape[1] // 2]


def find_generated(folder: Path, stem: str) -> Path:
    exact = folder / f"{stem}.png"
    if exact.is_file():
        return exact
    matches = sorted(p for p in folder.glob(f"{stem}_*.png") if not p.name.endswith("_fake_B_display.png"))
    # "<stem>_1_fake_B.png" would also match "<stem>_*" for stem "<...>_1"'s sibling "<...>": keep exact stems.
    matches = [p for p in matches if _stem_of(p.name, stem)]
    if len(matches) != 1:
        what = "no file" if not matches else f"{len(matches)} files ({', '.join(p.name for p in matches)})"
        raise CompositeError(f"--generated {folder}: {what} for sample {stem!r} (want {stem}.png or {stem}_*.png)")
    return matches[0]


def _stem_of(name: str, stem: str) -> bool:
    # "<stem>_<label>.png" where the label has no digit-only first token (those are other crops' indices).
    rest = name[len(stem) + 1: -len(".png")]
    return bool(rest) and not rest.split("_")[0].isdigit()


def load_generated(path: Path, size: tuple[int, int]) -> np.ndarray:
    """The generated image as H×W×3 uint8, resized (bicubic) from 256×256 when the crop has another size."""
    image = read_rgb(path)
    found = image.shape[1::-1]
    if found == size:
        return image
    if found != (LEGACY_SIZE, LEGACY_SIZE):
        raise CompositeError(f"{path}: size {found[0]}x{found[1]} matches neither the crop "
                             f"({size[0]}x{size[1]}) nor {LEGACY_SIZE}x{LEGACY_SIZE}")
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def make_composites(generated: Path, dataroot: Path, phase: str, out: Path, quiet: bool = False) -> list[Path]:
    image_dir, box_dir = dataroot / "images" / phase, dataroot / "bbox" / phase
    if not image_dir.is_dir():
        raise CompositeError(f"--dataroot/--phase: folder not found: {image_dir}")
    if not generated.is_dir():
        raise CompositeError(f"--generated: folder not found: {generated}")
    written = []
    for path in progress_bar(sorted(image_dir.glob("*.png")), desc="composite", quiet=quiet):
        real = clean_half(path)
        box = validate_box(load_box(box_dir / f"{path.stem}.json"), real.shape[1], real.shape[0],
                           box_dir / f"{path.stem}.json")
        fake = load_generated(find_generated(generated, path.stem), (real.shape[1], real.shape[0]))
        target = out / f"{path.stem}_fake_B_display.png"
        result = paste_box(real, fake, box)
        atomic_write(target, lambda tmp, r=result: Image.fromarray(r).save(tmp, format="PNG"))
        written.append(target)
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.composite", description=__doc__.split("\n")[0])
    parser.add_argument("--generated", required=True, type=Path, help="folder of generated crops (<stem>*.png)")
    parser.add_argument("--dataroot", required=True, type=Path, help="crop dataset (images/, bbox/)")
    parser.add_argument("--phase", default="val", help="dataset split (%(default)s)")
    parser.add_argument("--out", required=True, type=Path, help="where <stem>_fake_B_display.png go")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        written = make_composites(args.generated, args.dataroot, args.phase, args.out, args.quiet)
    except (CompositeError, DatasetError, ImageReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    print(f"{len(written)} composites written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
