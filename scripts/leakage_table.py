"""What the leakage check (anonymizer/verify.py) measures for each way of replacing a person, on demo frames.

    python scripts/leakage_table.py [--frames 3] [--size 2048x1024] [--seed 7] [--model_file FILE] [--out TABLE.md]

Makes synthetic street frames (``synthetic.make_demo_data``) and, for every annotated person whose clipped full
box is at least 12 px on each side, measures ``verify.measure`` — the detail correlation ρ with the original and
the kept-detail fraction — of: the four traditional methods at their defaults, weaker blurs and pixelations, three
near-copies of the original (+1 grey level, + N(0, 2²) noise, the original in 45 % of the pixels), the generator's
own output (anonymize.py's windows; the shipped demo model unless ``--model_file``), and that output pasted with a
``--blend_px`` feather of half the box (what the old, unbounded flag allowed) and with the feather anonymize.py
now uses (at most 1/16 of the box's shorter side). Persons too small for the model, or whose generated box the
check rejected, have no generator row. Prints a Markdown table: the range of ρ and of the kept fraction over the
boxes, and how many boxes pass the check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymizer import verify  # noqa: E402
from anonymizer.annotations import load_annotations  # noqa: E402
from anonymizer.frame import Settings, anonymize_frame, blend_alpha  # noqa: E402
from anonymizer.generator import WindowGenerator, load_model_file  # noqa: E402
from anonymizer.methods import anonymize_region  # noqa: E402
from synthetic import make_demo_data  # noqa: E402
from util.fileio import atomic_write_text  # noqa: E402
from util.image_files import read_rgb  # noqa: E402

MIN_SIDE = 12
SHIPPED = ROOT / "models" / "shipped" / "demo_psgan.pth"
Method = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def feathered(original: np.ndarray, generated: np.ndarray, depth_px: int | None) -> np.ndarray:
    """``generated`` pasted over ``original`` with a feather of ``depth_px`` border pixels (None: as anonymize.py
    bounds --blend_px)."""
    height, width = original.shape[:2]
    if depth_px is None:
        alpha = blend_alpha(height, width, 10**6)
        if alpha is None:
            return generated
    else:
        rows = np.minimum(np.arange(height), np.arange(height)[::-1])
        cols = np.minimum(np.arange(width), np.arange(width)[::-1])
        alpha = np.minimum((np.minimum.outer(rows, cols) + 1.0) / (depth_px + 1.0), 1.0)[..., None]
    return np.rint(alpha * generated + (1.0 - alpha) * original).astype(np.uint8)


METHODS: dict[str, Method] = {
    "blur (default σ 8)": lambda r, rng: anonymize_region(r, "blur", None, rng),
    "pixelate (default 8 px)": lambda r, rng: anonymize_region(r, "pixelate", None, rng),
    "mask (default)": lambda r, rng: anonymize_region(r, "mask", None, rng),
    "noise (default)": lambda r, rng: anonymize_region(r, "noise", None, rng),
    "blur σ 4": lambda r, rng: anonymize_region(r, "blur", 4.0, rng),
    "blur σ 2": lambda r, rng: anonymize_region(r, "blur", 2.0, rng),
    "blur σ 1": lambda r, rng: anonymize_region(r, "blur", 1.0, rng),
    "pixelate 4 px": lambda r, rng: anonymize_region(r, "pixelate", 4.0, rng),
    "pixelate 2 px": lambda r, rng: anonymize_region(r, "pixelate", 2.0, rng),
    "original + 1": lambda r, rng: np.clip(r.astype(int) + 1, 0, 255).astype(np.uint8),
    "original + N(0, 2²)": lambda r, rng: np.clip(np.rint(r + rng.normal(0, 2, r.shape)), 0, 255).astype(np.uint8),
    "original in 45 % of the pixels": lambda r, rng: np.where(rng.random(r.shape[:2])[..., None] < 0.45, r,
                                                              rng.integers(0, 256, r.shape).astype(np.uint8)),
}
GENERATED = ("generator output", "generator output, feather of half the box",
             "generator output, feather bounded to 1/16 of the box")


def measure_frames(root: Path, model_file: Path) -> dict[str, list[verify.Leakage]]:
    index = load_annotations(root / "gtBboxCityPersons")
    generator = WindowGenerator(load_model_file(model_file))
    rows: dict[str, list[verify.Leakage]] = {name: [] for name in [*METHODS, *GENERATED]}
    rng = np.random.default_rng(0)
    for path in sorted((root / "leftImg8bit").rglob("*.png")):
        image = read_rgb(path)
        persons = list(enumerate(index.lookup(PurePosixPath(path.name)).persons))
        result, records = anonymize_frame(image, persons, Settings(method="gan"), generator, path.name)
        for record in records:
            x1, y1, x2, y2 = record["box_in_frame"]
            if min(x2 - x1, y2 - y1) < MIN_SIDE:
                continue
            original = image[y1:y2, x1:x2]
            for name, method in METHODS.items():
                rows[name].append(verify.measure(original, method(original, rng)))
            if "generated_leakage" in record:  # rejected by the check (the frame got the fallback there)
                rows[GENERATED[0]].append(verify.Leakage(**record["generated_leakage"]))
            elif record["method"] == "gan":
                generated = result[y1:y2, x1:x2]
                for name, depth in zip(GENERATED, (0, min(y2 - y1, x2 - x1) // 2, None), strict=True):
                    rows[name].append(verify.measure(original, feathered(original, generated, depth)))
    return rows


def table(rows: dict[str, list[verify.Leakage]], command: str) -> str:
    lines = [f"`{command}`", "",
             "| result | boxes | detail correlation ρ (min – max) | kept detail (min – max) | pass the check |",
             "| --- | --- | --- | --- | --- |"]
    for name, values in rows.items():
        rho = [v.detail_correlation for v in values]
        kept = [v.kept_detail for v in values]
        passed = sum(v.problem() is None for v in values)
        lines.append(f"| {name} | {len(values)} | {min(rho):.2f} – {max(rho):.2f} | {min(kept):.2f} – {max(kept):.2f} "
                     f"| {passed} / {len(values)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/leakage_table.py", description=__doc__.split("\n")[0])
    parser.add_argument("--frames", default="3", help="demo frames to make (%(default)s)")
    parser.add_argument("--size", default="2048x1024", help="frame size WxH (%(default)s)")
    parser.add_argument("--seed", default="7", help="demo data seed (%(default)s)")
    parser.add_argument("--model_file", type=Path, default=SHIPPED, help="generator file (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        code = make_demo_data.main(["--out", tmp, "--frames", args.frames, "--size", args.size, "--seed", args.seed,
                                    "--quiet"])
        if code:
            return code
        rows = measure_frames(Path(tmp), args.model_file)
    command = " ".join(["python scripts/leakage_table.py", *(argv if argv is not None else sys.argv[1:])])
    text = table(rows, command.strip())
    print(text, end="")
    if args.out is not None:
        atomic_write_text(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
