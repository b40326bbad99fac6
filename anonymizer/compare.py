"""Before | after picture of one frame: ``python -m anonymizer.compare BEFORE AFTER OUT.png [--width 900]``.

Frames are stacked vertically (street frames are wide), each labelled, and the picture is downscaled
(antialiased) to ``--width`` so it stays small enough for a README.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from util.cli import number, os_error_text
from util.fileio import atomic_write
from util.image_files import read_rgb

LABEL_HEIGHT = 28


def _labelled(image: np.ndarray, text: str) -> np.ndarray:
    band = np.full((LABEL_HEIGHT, image.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(band, text, (8, LABEL_HEIGHT - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def comparison(before: np.ndarray, after: np.ndarray, width: int, labels: tuple[str, str]) -> np.ndarray:
    """The two BGR frames, resized to ``width`` (never enlarged), labelled and stacked vertically."""
    if before.shape != after.shape:
        raise ValueError(f"before and after differ in size: {before.shape[1::-1]} vs {after.shape[1::-1]}")
    scale = min(1.0, width / before.shape[1])
    size = (round(before.shape[1] * scale), round(before.shape[0] * scale))
    parts = [_labelled(cv2.resize(img, size, interpolation=cv2.INTER_AREA), text)
             for img, text in zip((before, after), labels, strict=True)]
    return np.concatenate(parts, axis=0)


def save_comparison(before: str | Path, after: str | Path, target: str | Path, width: int = 900,
                    labels: tuple[str, str] = ("before", "after (anonymized)")) -> Path:
    images = [cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2BGR) for path in (before, after)]
    ok, encoded = cv2.imencode(".png", comparison(images[0], images[1], width, labels),
                               [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise OSError(f"{target}: PNG encoding failed")
    return atomic_write(target, lambda tmp: tmp.write_bytes(encoded.tobytes()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m anonymizer.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the original frame")
    parser.add_argument("after", help="the anonymized frame")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--width", type=number(int, minimum=16), default=900, help="width of the picture in pixels")
    parser.add_argument("--label", nargs=2, default=["before", "after (anonymized)"], metavar=("BEFORE", "AFTER"),
                        help="captions")
    args = parser.parse_args(argv)
    try:
        save_comparison(args.before, args.after, args.out, args.width, tuple(args.label))
    except ValueError as error:  # ImageReadError, or frames of different sizes
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
