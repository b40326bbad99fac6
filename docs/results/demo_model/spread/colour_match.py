"""Section 9: would matching the painted pixels' colours to the real persons' lower a run's person FID?

    python docs/results/demo_model/spread/colour_match.py ORIGINAL_FRAMES ANONYMIZED_FRAMES OUT

An upper bound, not a method: it reads the statistics from the held-out originals themselves. The painted pixels are
those where the anonymized frame differs from the original (summed absolute RGB difference above 6). Each colour
channel of all of them together gets one gain and offset, so that their mean and standard deviation equal those of
the original pixels at the same places. The corrected frames go to OUT, with the same relative paths, to be scored
with ``python -m evaluation.evaluate``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from synthetic.make_demo_data import png_bytes  # noqa: E402
from util.fileio import atomic_write_bytes  # noqa: E402
from util.image_files import read_rgb  # noqa: E402

CHANGED = 6  # summed |RGB| difference that counts a pixel as painted (the PNGs are lossless)


def main() -> int:
    originals, anonymized, out = (Path(arg) for arg in sys.argv[1:4])
    frames = []
    for path in sorted(anonymized.rglob("*.png")):
        original = originals / path.relative_to(anonymized)
        if original.is_file():
            painted_frame, original_frame = (read_rgb(p).astype(np.float32) for p in (path, original))
            frames.append((path, painted_frame, np.abs(painted_frame - original_frame).sum(-1) > CHANGED,
                           original_frame))
    painted = np.concatenate([frame[changed] for _, frame, changed, _ in frames])
    real = np.concatenate([original[changed] for _, _, changed, original in frames])
    gain = real.std(0) / painted.std(0)
    offset = real.mean(0) - gain * painted.mean(0)
    print(f"{len(frames)} frames, {len(painted)} painted pixels; gain {gain.round(3)}, offset {offset.round(1)}")
    for path, frame, changed, _ in frames:
        frame[changed] = np.clip(frame[changed] * gain + offset, 0, 255)
        atomic_write_bytes(out / path.relative_to(anonymized), png_bytes(np.rint(frame).astype(np.uint8)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
