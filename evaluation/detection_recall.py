"""Recall of a person detector on frames with CityPersons boxes, by person height.

    python -m evaluation.detection_recall --cityscapes_root demo_data/cityscapes --split test \\
        [--detector builtin|onnx:FILE|coco:FILE] [--min_person_height 50] [--detection_threshold 0.5] \\
        [--frames 20] [--out recall.json]

Every annotated pedestrian (CityPersons label ``pedestrian``; riders, sitting people and groups are not counted
but detections on them are not false positives) is matched to at most one detection scoring at least the threshold,
greedily by score, when their IoU is at least 0.5 (``--iou``) against the full box or the visible box — a detector
may outline either. Recall is reported per height bin of the full box, for all pedestrians and for the CityPersons
"reasonable" subset (≥ 50 px tall, ≥ 65 % visible). Detections matching no person-like box and no ignore region
(IoU ≥ 0.5, or ≥ 50 % inside an ignore region) count as false positives per frame.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path, PurePosixPath

import numpy as np

from anonymizer import detectors
from anonymizer.annotations import AnnotationError, load_annotations
from anonymizer.detection import DetectionError, Frame, box_iou_matrix
from util.cli import number, os_error_text
from util.fileio import atomic_write_json
from util.image_files import ImageReadError, read_rgb

HEIGHT_BINS = (0, 50, 80, 120, 200, 10**6)
REASONABLE_HEIGHT, REASONABLE_VISIBLE = 50, 0.65


def height_bin(height: float) -> str:
    for low, high in zip(HEIGHT_BINS, HEIGHT_BINS[1:], strict=False):
        if low <= height < high:
            return f"{low}-{high}" if high < 10**6 else f">={low}"
    raise ValueError(height)


def match(people: np.ndarray, visible: np.ndarray, boxes: np.ndarray, iou: float) -> np.ndarray:
    """For each person, whether a detection (rows of ``boxes`` in descending score) is matched to it."""
    matched = np.zeros(len(people), dtype=bool)
    if not len(people) or not len(boxes):
        return matched
    overlap = np.maximum(box_iou_matrix(boxes, people), box_iou_matrix(boxes, visible))
    for row in overlap:  # highest score first
        free = np.where(~matched & (row >= iou))[0]
        if len(free):
            matched[free[np.argmax(row[free])]] = True
    return matched


def false_positives(boxes: np.ndarray, others: np.ndarray, ignore: np.ndarray) -> int:
    if not len(boxes):
        return 0
    covered = np.zeros(len(boxes), dtype=bool)
    if len(others):
        covered |= box_iou_matrix(boxes, others).max(axis=1) >= 0.5
    if len(ignore):
        inter_w = np.clip(np.minimum(boxes[:, None, 2], ignore[None, :, 2])
                          - np.maximum(boxes[:, None, 0], ignore[None, :, 0]), 0, None)
        inter_h = np.clip(np.minimum(boxes[:, None, 3], ignore[None, :, 3])
                          - np.maximum(boxes[:, None, 1], ignore[None, :, 1]), 0, None)
        area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-9)
        covered |= (inter_w * inter_h / area[:, None]).max(axis=1) >= 0.5
    return int((~covered).sum())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.detection_recall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cityscapes_root", required=True, help="folder with leftImg8bit/ and gtBboxCityPersons/")
    parser.add_argument("--split", default="test", help="leftImg8bit/<split>")
    parser.add_argument("--frames", type=number(int, minimum=0), default=0, help="use the first N frames (0: all)")
    parser.add_argument("--iou", type=number(above=0, maximum=1), default=0.5)
    parser.add_argument("--out", default=None, help="write the numbers as JSON here")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--detector", default="builtin", help="builtin | onnx:FILE | coco:FILE (as anonymize.py)")
    parser.add_argument("--detection_threshold", type=number(minimum=0, maximum=1), default=0.5,
                        help="detections counted from this score")
    parser.add_argument("--min_person_height", type=number(above=0), default=detectors.DEFAULT_MIN_PERSON_HEIGHT,
                        help="as anonymize.py: sets the tiles")
    parser.add_argument("--detection_margin", type=number(minimum=0, maximum=1),
                        default=detectors.DEFAULT_DETECTION_MARGIN, help="as anonymize.py")
    parser.add_argument("--person_class", type=number(int, minimum=0), default=None, help="as anonymize.py")
    parser.add_argument("--detection_batch", type=number(int, minimum=1), default=detectors.DEFAULT_DETECTION_BATCH,
                        help="as anonymize.py")
    return parser


def evaluate(args: argparse.Namespace) -> dict:
    root = Path(args.cityscapes_root)
    images = sorted((root / "leftImg8bit" / args.split).rglob("*_leftImg8bit.png"))
    if args.frames:
        images = images[:args.frames]
    if not images:
        raise FileNotFoundError(f"{root / 'leftImg8bit' / args.split}: no *_leftImg8bit.png frames")
    annotations = root / "gtBboxCityPersons" / args.split
    full, visible = load_annotations(annotations, "full"), load_annotations(annotations, "visible")
    # The detector exactly as anonymize.py builds it, keeping what scores at least the threshold.
    detector = detectors.person_detector(argparse.Namespace(**vars(args), fallback_threshold=args.detection_threshold))
    counts: dict[str, dict[str, list[int]]] = {"all": {}, "reasonable": {}}
    fp, seconds = 0, 0.0
    for image_path in images:
        relative = PurePosixPath(image_path.name)
        frame_full, frame_visible = full.lookup(relative), visible.lookup(relative)
        if frame_full is None or frame_visible is None:
            raise AnnotationError(f"{image_path}: no CityPersons annotation")
        image = read_rgb(image_path)
        begin = time.perf_counter()
        (found,) = detector.detect([Frame(image, image_path.name)])
        seconds += time.perf_counter() - begin
        kept = sorted((d for d in found if d.score >= args.detection_threshold), key=lambda d: -d.score)
        boxes = np.asarray([d.box for d in kept], dtype=np.float64).reshape(-1, 4)
        pairs = [(f.box, v.box) for f, v in zip(frame_full.persons, frame_visible.persons, strict=True)
                 if f.label == "pedestrian"]
        people = np.asarray([p for p, _ in pairs], dtype=np.float64).reshape(-1, 4)
        seen = np.asarray([v for _, v in pairs], dtype=np.float64).reshape(-1, 4)
        hit = match(people, seen, boxes, args.iou)
        for (box, vis), ok in zip(pairs, hit, strict=True):
            height = box[3] - box[1]
            visible_fraction = _area(vis) / max(_area(box), 1)
            subsets = ["all"] + (["reasonable"] if height >= REASONABLE_HEIGHT
                                 and visible_fraction >= REASONABLE_VISIBLE else [])
            for subset in subsets:
                cell = counts[subset].setdefault(height_bin(height), [0, 0])
                cell[0] += int(ok)
                cell[1] += 1
        others = np.asarray([p.box for p in frame_full.persons if p.label not in ("ignore",)],
                            dtype=np.float64).reshape(-1, 4)
        ignore = np.asarray([p.box for p in frame_full.persons if p.label == "ignore"], dtype=np.float64).reshape(-1, 4)
        fp += false_positives(boxes, others, ignore)
    order = [height_bin(low) for low in HEIGHT_BINS[:-1]]
    table = {subset: {b: {"found": cells[b][0], "total": cells[b][1], "recall": round(cells[b][0] / cells[b][1], 3)}
                      for b in order if b in cells} for subset, cells in counts.items()}
    for subset, cells in counts.items():
        found, total = sum(c[0] for c in cells.values()), sum(c[1] for c in cells.values())
        table[subset]["total"] = {"found": found, "total": total, "recall": round(found / max(total, 1), 3)}
    return {"detector": detector.identity, "frames": len(images), "split": args.split, "iou": args.iou,
            "detection_threshold": args.detection_threshold, "min_person_height": args.min_person_height,
            "recall_by_height": table, "false_positives_per_frame": round(fp / len(images), 3),
            "seconds_per_frame": round(seconds / len(images), 3), "command": " ".join(sys.argv)}


def _area(box: tuple[int, int, int, int]) -> int:
    return max(box[2] - box[0], 0) * max(box[3] - box[1], 0)


def markdown(result: dict) -> str:
    lines = ["| subset | height (px) | found / total | recall |", "| --- | --- | --- | --- |"]
    for subset, cells in result["recall_by_height"].items():
        for bin_name, cell in cells.items():
            lines.append(f"| {subset} | {bin_name} | {cell['found']} / {cell['total']} | {cell['recall']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.detector.startswith(("onnx:", "coco:")) and args.detector != "builtin":
        parser.error(f"--detector must be builtin, onnx:FILE or coco:FILE, got {args.detector!r}")
    try:
        result = evaluate(args)
    except (AnnotationError, DetectionError, FileNotFoundError, ImageReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    print(markdown(result))
    print(f"false positives per frame: {result['false_positives_per_frame']}; "
          f"{result['seconds_per_frame']} s per frame ({result['detector']})")
    if args.out:
        atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
