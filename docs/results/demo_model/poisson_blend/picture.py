"""eight_persons.jpg: the first eight persons at least 60 pixels tall of the seed-0 outputs, each as original |
plain paste | --poisson_blend, in a window a third of the box height wider on each side.
    python docs/results/demo_model/poisson_blend/picture.py BLENDED_DIR PLAIN_DIR OUT.jpg"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

TILE = (96, 160)  # width, height of each picture


def main(blended: Path, plain: Path, out: Path) -> None:
    report = json.loads((blended / "report.json").read_text(encoding="utf-8"))
    plain_outputs = {Path(f["image"]).name: f["output"]
                     for f in json.loads((plain / "report.json").read_text(encoding="utf-8"))["frames"]}
    rows = []
    for frame in report["frames"]:
        images = [cv2.imread(path) for path in (frame["image"], plain_outputs[Path(frame["image"]).name],
                                                frame["output"])]
        height, width = images[0].shape[:2]
        for person in frame["persons"]:
            x1, y1, x2, y2 = person["box_in_frame"]
            if y2 - y1 < 60:
                continue
            pad = (y2 - y1) // 3
            u1, v1, u2, v2 = max(0, x1 - pad), max(0, y1 - pad), min(width, x2 + pad), min(height, y2 + pad)
            rows.append(np.concatenate([cv2.resize(image[v1:v2, u1:u2], TILE, interpolation=cv2.INTER_NEAREST)
                                        for image in images], axis=1))
            if len(rows) == 8:
                grid = np.concatenate([np.concatenate(rows[:4], axis=1), np.concatenate(rows[4:], axis=1)], axis=0)
                cv2.imwrite(str(out), grid, [cv2.IMWRITE_JPEG_QUALITY, 85])
                return
            break  # one person per frame
    raise SystemExit(f"fewer than 8 persons at least 60 px tall in {blended}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
