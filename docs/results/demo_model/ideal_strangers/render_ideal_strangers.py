"""Render held-out synthetic frames again with every person dressed as someone else: an ideal anonymizer.

    python docs/results/demo_model/ideal_strangers/render_ideal_strangers.py --out DIR --frames 48 --seed 1502

The frames of ``--seed`` are drawn again from the same frame generator and the same per-frame random streams, so
street, poses and places stay; only each identity's appearance (outfit, hair, skin, bag) is drawn from the pools of
``--outfit_seed``, with its height and build kept so that its box stays where it was. The result is what a perfect
anonymizer would paint: a real (synthetic) stranger in each person's place. With ``--keep_palette`` each stranger
wears the original person's colours (skin, hair, clothes, shoes, bag; rule_palette.md). Only ``DIR/leftImg8bit``
is written; its frames are scored against the original frames and their boxes with ``python -m evaluation.evaluate``.
With ``--originals DIR`` (the held-out set as ``make_demo_data`` wrote it) it also prints how far the pedestrian
boxes moved: a hat, hair or a bag can change a person's extent.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from data.citypersons import CityPersonsFrame, read_citypersons  # noqa: E402
from synthetic.make_demo_data import (  # noqa: E402
    annotation_path,
    frame_specs,
    identity_pools,
    image_path,
    make_frame,
    png_bytes,
    split_counts,
)
from util.fileio import atomic_write_bytes  # noqa: E402

# The colours of an appearance (synthetic.person.Appearance); --keep_palette keeps these of the original person.
PALETTE_FIELDS = ("skin", "hair_name", "top_name", "accent_name", "bottom_name", "shoe_name", "bag_name")


def stranger_pools(frames: int, seed: int, outfit_seed: int, keep_palette: bool = False) -> dict:
    """The identity pools of ``seed`` with every appearance but height and build taken from ``outfit_seed``'s
    (and, with ``keep_palette``, every colour kept too: the stranger's garments, pattern, hair style and bag)."""
    counts = split_counts(frames)
    own, other = identity_pools(seed, counts), identity_pools(outfit_seed, counts)
    kept = ("height_m", "build", *(PALETTE_FIELDS if keep_palette else ()))
    return {split: [dataclasses.replace(stranger, identity=person.identity,
                                        **{name: getattr(person, name) for name in kept})
                    for person, stranger in zip(own[split], other[split], strict=True)]
            for split in own}


def pedestrian_boxes(frame: CityPersonsFrame) -> list:
    return [person.bbox for person in frame.objects if person.label == "pedestrian"]


def box_shifts(rendered: CityPersonsFrame, original: CityPersonsFrame) -> list[int]:
    """Per pedestrian box, the largest coordinate change in pixels (boxes paired left to right)."""
    new, old = pedestrian_boxes(rendered), pedestrian_boxes(original)
    if len(new) != len(old):
        raise ValueError(f"{len(new)} pedestrian boxes rendered, {len(old)} in the original frame")
    pairs = zip(new, old, strict=True)
    return [max(abs(a - b) for a, b in zip(box_new, box_old, strict=True)) for box_new, box_old in pairs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for leftImg8bit/")
    parser.add_argument("--frames", type=int, default=48, help="frames of the held-out set (%(default)s)")
    parser.add_argument("--seed", type=int, default=1502, help="the held-out set's seed (%(default)s)")
    parser.add_argument("--outfit_seed", type=int, default=91502,
                        help="seed of the strangers' appearances (%(default)s; used by no other data)")
    parser.add_argument("--originals", type=Path, help="the held-out set's folder: report how far boxes moved")
    parser.add_argument("--keep_palette", action="store_true",
                        help="keep each person's colours (skin, hair, clothes, shoes, bag); redraw the rest")
    args = parser.parse_args()
    pools = stranger_pools(args.frames, args.seed, args.outfit_seed, args.keep_palette)
    shifts: list[int] = []
    for spec in frame_specs(args.frames):
        image, annotation, _, _ = make_frame(spec, args.seed, (2048, 1024), pools[spec["split"]])
        atomic_write_bytes(image_path(args.out, spec), png_bytes(image))
        if args.originals:
            shifts += box_shifts(annotation, read_citypersons(annotation_path(args.originals, spec)))
    print(f"wrote {args.frames} frames to {args.out / 'leftImg8bit'}")
    if shifts:
        unmoved = sum(shift == 0 for shift in shifts) / len(shifts)
        print(f"{len(shifts)} pedestrian boxes: {unmoved:.0%} unmoved, median shift {statistics.median(shifts)} px, "
              f"largest {max(shifts)} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
