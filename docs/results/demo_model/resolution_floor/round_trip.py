"""Rewrite the boxes the GAN painted in an anonymize.py output folder, to see what the model's resolution costs.

    python docs/results/demo_model/resolution_floor/round_trip.py --anonymized DIR --out DIR --mode MODE

The folder's report.jsonl gives each frame's original image and, per person, the box and the square frame window
the generator read. Only boxes whose method is ``gan`` change (fallbacks stay as they are). MODE:
- ``roundtrip``: the *original* person instead of the painted one, sent through the model's resolution: the
  window is resized to ``--model_side`` pixels (area) and back to its side (bicubic), as anonymize.py resizes a
  painted window, and its box pasted. A generator that painted the person exactly at that resolution would score
  this: the floor the resolution sets.
- ``roundtrip_sharpen``: the same, then an unsharp mask inside the box.
- ``grain``: the painted box plus Gaussian noise of ``--sigma`` grey levels, the sensor noise the synthetic frames
  are rendered with (synthetic/frame.py, ``_finish``).
- ``sharpen``: the painted box through an unsharp mask (``--radius`` px Gaussian, ``--amount``).
Frames are written as PNG under ``--out`` with the folder's own layout; score them with ``python -m
evaluation.evaluate`` against the original frames.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from synthetic.make_demo_data import png_bytes  # noqa: E402
from util.fileio import atomic_write_bytes  # noqa: E402
from util.image_files import read_rgb  # noqa: E402

MODES = ("roundtrip", "roundtrip_sharpen", "grain", "sharpen")


def round_trip(original: np.ndarray, window: list[int], model_side: int) -> np.ndarray:
    """The frame window through ``model_side`` pixels and back to its own side."""
    x1, y1, x2, y2 = window
    side = x2 - x1
    small = cv2.resize(original[y1:y2, x1:x2], (model_side, model_side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)


def unsharp(region: np.ndarray, radius: float, amount: float) -> np.ndarray:
    soft = cv2.GaussianBlur(region, (0, 0), radius, borderType=cv2.BORDER_REFLECT)
    return region + amount * (region - soft)


def rewrite(frame: np.ndarray, original: np.ndarray, person: dict, args: argparse.Namespace,
            rng: np.random.Generator) -> None:
    """Change one painted box of ``frame`` (float32, in place) as ``args.mode`` says."""
    x1, y1, x2, y2 = person["box_in_frame"]
    if args.mode.startswith("roundtrip"):
        wx1, wy1 = person["window"][:2]
        window = round_trip(original, person["window"], args.model_side)
        frame[y1:y2, x1:x2] = window[y1 - wy1:y2 - wy1, x1 - wx1:x2 - wx1]
    if args.mode.endswith("sharpen"):
        frame[y1:y2, x1:x2] = unsharp(frame[y1:y2, x1:x2], args.radius, args.amount)
    if args.mode == "grain":
        frame[y1:y2, x1:x2] += rng.normal(0.0, args.sigma, (y2 - y1, x2 - x1)).astype(np.float32)[..., None]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anonymized", type=Path, required=True, help="an anonymize.py output folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--model_side", type=int, default=64, help="roundtrip: the model's side in pixels")
    parser.add_argument("--sigma", type=float, default=1.6, help="grain: noise sd in grey levels")
    parser.add_argument("--radius", type=float, default=1.5, help="sharpen: the unsharp mask's Gaussian sigma")
    parser.add_argument("--amount", type=float, default=1.0, help="sharpen: the unsharp mask's strength")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    boxes = 0
    for line in (args.anonymized / "report.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "output" not in record:
            continue
        output = Path(record["output"])
        frame = read_rgb(output).astype(np.float32)
        original = read_rgb(record["image"]).astype(np.float32)
        for person in record["persons"]:
            if person.get("method") == "gan":
                rewrite(frame, original, person, args, rng)
                boxes += 1
        target = args.out / output.relative_to(args.anonymized)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, png_bytes(np.clip(frame + 0.5, 0, 255).astype(np.uint8)))
    print(f"{boxes} boxes rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
