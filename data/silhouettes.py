"""Person silhouettes for a generator that is told where in the box the person is (psgan
``--netG_silhouette_input``).

In training the silhouette is the crop's own person mask inside the box (``data.holes.person_silhouette``). To
paint a whole box at anonymization time the person's own outline must not be used (it identifies: pose, height,
build), so ``anonymize.py`` draws a stranger's silhouette from the run's bank: the person masks of the training
crops inside their boxes, each stored box-normalised on a fixed grid with its box's aspect ratio. A draw picks
one of the ``NEAREST`` silhouettes whose box aspect is closest to the target box's, mirrors it at random and
stretches it to the box.

The bank is one ``.npz`` file: ``silhouettes.npz`` in a run folder (train.py writes it from the training crops),
``<stem>_silhouettes.npz`` beside a model file (scripts/export_model.py copies it). It holds outlines only, at
``GRID`` resolution, no pixels of anyone.

    python -m data.silhouettes --dataroot CROPS --out checkpoints/RUN/silhouettes.npz   # a run trained before
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from data.boxes import load_box, validate_box
from util.cli import os_error_text
from util.fileio import atomic_write_bytes
from util.image_files import ImageReadError, read_rgb

GRID = (64, 32)  # rows × columns of a stored, box-normalised silhouette
NEAREST = 32  # a draw picks among this many silhouettes of the closest box aspect ratios
MIN_SILHOUETTES = 1
BANK_FILE = "silhouettes.npz"
FORMAT_VERSION = 1


class SilhouetteError(ValueError):
    """A silhouette bank that cannot be built or read; the message names the file or folder."""


@dataclass(frozen=True)
class SilhouetteBank:
    masks: np.ndarray  # N × GRID bool, each the person pixels of one box stretched to the grid
    aspects: np.ndarray  # N float64: that box's height / width

    def __len__(self) -> int:
        return len(self.masks)

    def draw(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """height × width bool: a silhouette of a box of about this shape, mirrored at random, stretched to it
        (never empty: a box too small to keep any of it is filled)."""
        if height < 1 or width < 1:
            raise ValueError(f"a silhouette needs a box of at least 1×1 pixels, got {height}×{width}")
        distance = np.abs(np.log(self.aspects) - np.log(height / width))
        candidates = np.argsort(distance, kind="stable")[:NEAREST]
        grid = self.masks[candidates[rng.integers(len(candidates))]]
        if rng.random() < 0.5:
            grid = grid[:, ::-1]
        stretched = cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5
        return stretched if stretched.any() else np.ones((height, width), dtype=bool)

    def save(self, path: str | Path) -> Path:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, version=np.int64(FORMAT_VERSION), grid=np.array(GRID, dtype=np.int64),
                            bits=np.packbits(self.masks.reshape(len(self), -1), axis=1), aspects=self.aspects)
        return atomic_write_bytes(path, buffer.getvalue())


def load_bank(path: str | Path) -> SilhouetteBank:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            version, grid = int(data["version"]), tuple(int(v) for v in data["grid"])
            bits, aspects = data["bits"], data["aspects"].astype(np.float64)
    except FileNotFoundError:
        raise SilhouetteError(f"{path}: silhouette bank not found") from None
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise SilhouetteError(f"{path}: not a silhouette bank ({error})") from None
    cells = grid[0] * grid[1] if len(grid) == 2 else 0
    if version != FORMAT_VERSION or grid != GRID or bits.ndim != 2 or bits.shape[1] != -(-cells // 8):
        raise SilhouetteError(f"{path}: silhouette bank of version {version}, grid {grid}; expected version "
                              f"{FORMAT_VERSION}, grid {GRID}")
    if len(bits) < MIN_SILHOUETTES or aspects.shape != (len(bits),) or not np.all(np.isfinite(aspects) & (aspects > 0)):
        raise SilhouetteError(f"{path}: {len(bits)} silhouettes with {aspects.shape} aspect ratios; expected at "
                              f"least {MIN_SILHOUETTES} and one positive aspect ratio each")
    masks = np.unpackbits(bits, axis=1, count=cells).astype(bool).reshape(len(bits), *GRID)
    return SilhouetteBank(masks, aspects)


def bank_path(source: str | Path) -> Path:
    """Where a model's bank lies: ``silhouettes.npz`` in a run folder, ``<stem>_silhouettes.npz`` beside a model
    file."""
    source = Path(source)
    return source / BANK_FILE if source.is_dir() else source.with_name(f"{source.stem}_{BANK_FILE}")


def box_silhouette(person_mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The person pixels (mask nonzero) inside ``box`` stretched to ``GRID``; None when the box holds none."""
    x1, y1, x2, y2 = box
    inside = person_mask[y1:y2, x1:x2] != 0
    if not inside.any():
        return None
    rows, cols = GRID
    return cv2.resize(inside.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA) >= 0.5


def bank_from_crops(dataroot: str | Path, phase: str = "train") -> SilhouetteBank:
    """The silhouettes of every crop of ``<dataroot>/images/<phase>`` (the layout of data.aligned_dataset) whose
    box holds person pixels in its ``person_mask/<phase>`` mask."""
    root = Path(dataroot)
    image_dir, box_dir, mask_dir = (root / part / phase for part in ("images", "bbox", "person_mask"))
    for folder in (image_dir, box_dir, mask_dir):
        if not folder.is_dir():
            raise SilhouetteError(f"{folder}: folder not found (a silhouette bank needs the crops' images, boxes "
                                  "and person masks: data_preprocessing.cityscapes writes them)")
    masks, aspects = [], []
    for image in sorted(image_dir.glob("*.png")):
        box_file, mask_file = box_dir / f"{image.stem}.json", mask_dir / f"{image.stem}.png"
        try:
            mask = read_rgb(mask_file)[..., 0]
        except ImageReadError as error:
            raise SilhouetteError(f"person mask of {image.name}: {error}") from None
        box = validate_box(load_box(box_file), mask.shape[1], mask.shape[0], box_file)
        silhouette = box_silhouette(mask, box)
        if silhouette is not None:
            masks.append(silhouette)
            aspects.append((box[3] - box[1]) / (box[2] - box[0]))
    if len(masks) < MIN_SILHOUETTES:
        raise SilhouetteError(f"{mask_dir}: no crop's box holds person pixels; no silhouette bank can be built")
    return SilhouetteBank(np.stack(masks), np.array(aspects, dtype=np.float64))


def ensure_run_bank(run_dir: str | Path, dataroot: str | Path, phase: str = "train") -> Path:
    """The run folder's bank, built from the training crops unless the run already has one (a resumed run)."""
    path = bank_path(Path(run_dir))
    if not path.is_file():
        bank = bank_from_crops(dataroot, phase)
        bank.save(path)
        print(f"[silhouettes] {len(bank)} training silhouettes -> {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the silhouette bank of a run's training crops.")
    parser.add_argument("--dataroot", required=True, help="the crops (images/, bbox/, person_mask/)")
    parser.add_argument("--phase", default="train", help="the split whose crops give the silhouettes")
    parser.add_argument("--out", required=True, help=f"the bank file (a run folder's {BANK_FILE})")
    args = parser.parse_args(argv)
    try:
        bank = bank_from_crops(args.dataroot, args.phase)
        out = bank.save(args.out)
    except ValueError as error:  # SilhouetteError, and a crop's box or mask file that is wrong (DatasetError)
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: --out {args.out}: {os_error_text(error)}", file=sys.stderr)
        return 1
    print(f"{out}: {len(bank)} silhouettes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
