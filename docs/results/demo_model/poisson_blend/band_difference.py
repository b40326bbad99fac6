"""The rule's diagnostic: per GAN-painted box, the mean colour difference (anonymized − original) in a band 4–10
pixels inside the box (beyond the 4-pixel feather), for boxes at least 24 pixels on each side.
    python docs/results/demo_model/poisson_blend/band_difference.py ANONYMIZED_DIR
ANONYMIZED_DIR is an anonymize.py output folder (its report.json names each frame's input and output)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np


def band(height: int, width: int) -> np.ndarray:
    inside = np.zeros((height, width), dtype=bool)
    inside[4:-4, 4:-4] = True
    inside[10:-10, 10:-10] = False
    return inside


def main(anonymized: Path) -> None:
    report = json.loads((anonymized / "report.json").read_text(encoding="utf-8"))
    per_box = []
    for frame in report["frames"]:
        result = cv2.imread(frame["output"]).astype(np.float32)
        original = cv2.imread(frame["image"]).astype(np.float32)
        for person in frame["persons"]:
            x1, y1, x2, y2 = person["box_in_frame"]
            if person.get("method") != "gan" or min(x2 - x1, y2 - y1) < 24:
                continue
            difference = (result[y1:y2, x1:x2] - original[y1:y2, x1:x2])[band(y2 - y1, x2 - x1)]
            per_box.append(difference.mean(axis=0)[::-1])  # RGB
    per_box = np.array(per_box)
    print(f"{anonymized}: {len(per_box)} boxes; mean signed difference (RGB) {per_box.mean(axis=0).round(2)}; "
          f"mean over boxes of |per-box mean| {np.abs(per_box).mean():.2f} grey levels")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
