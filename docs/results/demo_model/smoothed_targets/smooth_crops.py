"""Copy a crops folder with every crop image blurred (Gaussian, per A|B half): the smoothed-targets diagnostic.

python docs/results/demo_model/smoothed_targets/smooth_crops.py SRC DST SIGMA
Every file of SRC is copied to DST; each PNG under SRC/images/<split>/ (an A|B pair) is written with each half
blurred separately, so neither half bleeds into the other. A finished DST (its manifest.json) is left alone.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from util.fileio import atomic_write_bytes


def smoothed_pair(pair: np.ndarray, sigma: float) -> np.ndarray:
    half = pair.shape[1] // 2
    return np.concatenate([cv2.GaussianBlur(side, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
                           for side in (pair[:, :half], pair[:, half:])], axis=1)


def main(src: Path, dst: Path, sigma: float) -> None:
    if (dst / "manifest.json").is_file():
        print(f"{dst}: already made")
        return
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir() or path.name == "manifest.json":
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".png" and path.relative_to(src).parts[0] == "images":
            pair = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if pair is None:
                raise SystemExit(f"{path}: not a readable PNG crop")
            ok, encoded = cv2.imencode(".png", smoothed_pair(pair, sigma))
            if not ok:
                raise SystemExit(f"{path}: could not encode the smoothed crop")
            atomic_write_bytes(target, encoded.tobytes())
        else:
            shutil.copyfile(path, target)
    shutil.copyfile(src / "manifest.json", dst / "manifest.json")  # last: marks the copy finished
    print(f"{dst}: crops blurred with sigma {sigma} source pixels")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
