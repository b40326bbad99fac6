"""The demo model's evidence page: one table row per method from the full-frame evaluations, and a picture of
16 persons before and after (``scripts/demo_model_evidence.sh`` runs both)::

    python scripts/demo_model_report.py table --evaluations DIR --methods gan,gan_shape,blur,pixelate,mask,noise \
        --out MD
    python scripts/demo_model_report.py persons --original FRAMES --annotations ANN --rows gan=DIR,blur=DIR --out PNG
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.frames import frame_boxes  # noqa: E402
from util.fileio import atomic_write, atomic_write_text  # noqa: E402
from util.image_files import ImageReadError, read_rgb  # noqa: E402

COLUMNS = ("FID persons", "KID persons", "FID frames", "KID frames", "LPIPS-diversity", "re-ID rank-1", "re-ID mAP",
           "not anonymized", "recall@1")
TILE = (64, 128)  # width, height of one person in the picture


def row_numbers(metrics: dict) -> dict[str, float | None]:
    """One evaluation's metrics.json as the table's columns (None where the evaluation has no such number)."""
    persons, frames = metrics.get("person_fidelity") or {}, metrics["fidelity"]
    anonymity = metrics.get("anonymity", {})
    ranking, rates = anonymity.get("ranking", {}), anonymity.get("rates", {})
    diversity = metrics.get("diversity")
    values = [persons.get("fid"), persons.get("kid_mean"), frames.get("fid"), frames.get("kid_mean"),
              diversity.get("mean") if isinstance(diversity, dict) else None, ranking.get("rank_1"),
              ranking.get("mAP"), (rates.get("not_anonymized") or {}).get("rate"),
              (rates.get("recall_at_rank_1") or {}).get("rate")]
    return dict(zip(COLUMNS, values, strict=True))


def row_values(metrics: dict) -> list[str]:
    return ["n/a" if v is None else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" for v in row_numbers(metrics).values()]


def table(evaluations: Path, methods: list[str]) -> str:
    lines = ["| method | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    reid = set()
    for method in methods:
        path = evaluations / method / "metrics.json"
        if not path.is_file():
            raise SystemExit(f"error: {path}: not found (run the evaluation of {method} first)")
        metrics = json.loads(path.read_text(encoding="utf-8"))
        reid.add(metrics["weights"]["reid"]["description"])
        lines.append(f"| {method} | " + " | ".join(row_values(metrics)) + " |")
    n = metrics["anonymity"]["n"]
    lines += ["", f"{metrics['n']} held-out frames, {n} pedestrians. Re-ID features: {'; '.join(sorted(reid))}."]
    return "\n".join(lines) + "\n"


def context_window(box: tuple, shape: tuple) -> tuple[int, int, int, int]:
    """The box grown by a quarter of its height on each side, clipped to the frame."""
    x1, y1, x2, y2 = box
    pad = (y2 - y1) // 4
    return max(0, x1 - pad), max(0, y1 - pad), min(shape[1], x2 + pad), min(shape[0], y2 + pad)


def persons_picture(original: Path, annotations: Path, rows: dict[str, Path], count: int) -> Image.Image:
    frames = sorted(p for p in original.rglob("*.png"))
    picks = []
    for frame in frames:
        boxes = sorted(frame_boxes(annotations, frame), key=lambda b: -(b[3] - b[1]))
        picks += [(frame, box) for box in boxes[:2] if box[3] - box[1] >= 60]
        if len(picks) >= count:
            break
    label_width = 90
    sheet = Image.new("RGB", (label_width + TILE[0] * len(picks), TILE[1] * (len(rows) + 1)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (label, folder) in enumerate([("original", original), *rows.items()]):
        draw.text((4, r * TILE[1] + TILE[1] // 2), label, fill="black")
        for c, (frame, box) in enumerate(picks):
            image = read_rgb(folder / frame.relative_to(original))
            x1, y1, x2, y2 = context_window(box, image.shape)
            tile = Image.fromarray(np.ascontiguousarray(image[y1:y2, x1:x2])).resize(TILE, Image.BILINEAR)
            sheet.paste(tile, (label_width + c * TILE[0], r * TILE[1]))
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/demo_model_report.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table")
    t.add_argument("--evaluations", type=Path, required=True, help="folder with <method>/metrics.json")
    t.add_argument("--methods", default="gan,gan_shape,blur,pixelate,mask,noise")
    t.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("persons")
    p.add_argument("--original", type=Path, required=True)
    p.add_argument("--annotations", type=Path, required=True)
    p.add_argument("--rows", required=True, help="label=folder,... (anonymized frames mirroring --original)")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "table":
        atomic_write_text(args.out, table(args.evaluations, args.methods.split(",")))
    else:
        items = args.rows.split(",")
        if not all("=" in item for item in items):
            parser.error(f"--rows {args.rows!r}: give label=folder pairs separated by commas (no comma in a label)")
        rows = dict(item.split("=", 1) for item in items)
        try:
            picture = persons_picture(args.original, args.annotations, {k: Path(v) for k, v in rows.items()},
                                      args.count)
        except ImageReadError as error:  # e.g. a row whose method has not been run yet
            print(f"error: {error}", file=sys.stderr)
            return 2
        atomic_write(args.out, lambda tmp: picture.save(tmp, format="PNG"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
