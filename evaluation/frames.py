"""Full-frame evaluation (issue 7): anonymized frames vs the originals, matched by relative path.

FID/KID of the anonymized frames against the original frames (each frame resized to 299×299 by the Inception
wrapper), FID/KID of the anonymized *person crops* against the original person crops (the 1:2 re-ID window
around each box: the generated or obscured person in its real context, a composite), and the anonymity metrics
on those crops (the CityPersons pedestrian boxes of each frame: ``<stem>_gtBboxCityPersons.json`` found anywhere
under --annotations, where the frame file is ``<stem>_leftImg8bit.png`` or ``<stem>.png``). With
``--second_sample DIR`` (the same frames anonymized again with another seed) LPIPS-diversity inside the boxes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from data.boxes import Box, xywh_to_box
from data.citypersons import ANNOTATION_SUFFIX, CityPersonsError, frame_key, read_citypersons
from evaluation import anonymity
from evaluation.columns import FRAME_COLUMNS, markdown_table
from evaluation.crops import EvaluationInputError
from evaluation.fidelity_sets import fidelity_scores, run_inception
from evaluation.pipeline import _jsonable, choose_threshold, describe_reid, describe_weights, person_crops
from evaluation.reid import extract_features as reid_features
from evaluation.runner import build_tools
from util.fileio import atomic_write_json, atomic_write_text
from util.image_files import read_rgb

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def frame_pairs(anon_dir: Path, orig_dir: Path) -> list[tuple[Path, Path]]:
    if not anon_dir.is_dir():
        raise EvaluationInputError(f"--frames_dir: folder not found: {anon_dir}")
    if not orig_dir.is_dir():
        raise EvaluationInputError(f"--original_frames: folder not found: {orig_dir}")
    pairs = []
    for anon in sorted(p for p in anon_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        orig = orig_dir / anon.relative_to(anon_dir)
        if not orig.is_file():
            raise EvaluationInputError(f"--original_frames: no original for {anon} (expected {orig})")
        pairs.append((anon, orig))
    if len(pairs) < 2:
        raise EvaluationInputError(f"--frames_dir: {len(pairs)} frames found in {anon_dir}; at least 2 are needed")
    return pairs


def frame_boxes(annotations: Path, frame: Path, labels: tuple[str, ...] = ("pedestrian",)) -> list[Box]:
    """The full-body boxes of the frame's persons with these labels (w×h pixels; none without an annotation)."""
    matches = list(annotations.rglob(f"{frame_key(frame.name)}{ANNOTATION_SUFFIX}"))
    if not matches:
        return []
    try:
        objects = read_citypersons(matches[0]).objects
    except CityPersonsError as error:
        raise EvaluationInputError(f"--annotations: {error}") from None
    boxes = []
    for obj in objects:
        if obj.label in labels and obj.bbox is not None:
            x, y, w, h = (int(v) for v in obj.bbox)
            if w > 0 and h > 0:
                boxes.append(xywh_to_box((x, y, w, h), inclusive=False))
    return boxes


def run_frames(args) -> dict:
    start = time.perf_counter()
    if not args.annotations.is_dir():
        raise EvaluationInputError(f"--annotations: folder not found: {args.annotations}")
    pairs = frame_pairs(args.frames_dir, args.original_frames)
    tools = build_tools(args)
    anon_frames = [read_rgb(a) for a, _ in pairs]
    orig_frames = [read_rgb(o) for _, o in pairs]
    fake, logits = run_inception(tools.inception, anon_frames, batch_size=4, desc="inception anonymized",
                                 quiet=args.quiet)
    real, _ = run_inception(tools.inception, orig_frames, batch_size=4, desc="inception original",
                            quiet=args.quiet)
    fidelity = fidelity_scores(fake, real, logits, args.seed)
    anon_crops, orig_crops, frame_box_lists = [], [], []
    for (anon_path, _), anon, orig in zip(pairs, anon_frames, orig_frames, strict=True):
        boxes = [b for b in frame_boxes(args.annotations, anon_path) if b[0] < anon.shape[1] and b[1] < anon.shape[0]]
        frame_box_lists.append(boxes)
        anon_crops += person_crops([anon] * len(boxes), boxes)
        orig_crops += person_crops([orig] * len(boxes), boxes)
    person_fidelity = None
    if len(anon_crops) >= 2:
        fake_persons, person_logits = run_inception(tools.inception, anon_crops, batch_size=16,
                                                    desc="inception anonymized persons", quiet=args.quiet)
        real_persons, _ = run_inception(tools.inception, orig_crops, batch_size=16, desc="inception original persons",
                                        quiet=args.quiet)
        person_fidelity = fidelity_scores(fake_persons, real_persons, person_logits, args.seed)
    diversity = (second_sample_diversity(args, tools, pairs, anon_frames, frame_box_lists)
                 if args.second_sample is not None else "n/a (no --second_sample)")
    anon_block: dict = {"n": len(anon_crops)}
    threshold = choose_threshold(args.threshold if args.threshold != "calibrate" else "auto", None, None, None)
    if len(anon_crops) >= 2:
        fa, fo = reid_features(tools.reid, anon_crops), reid_features(tools.reid, orig_crops)
        d = anonymity.cosine_distance_matrix(fa, fo)
        anon_block["rates"] = anonymity.thesis_rates(d, None, threshold["value"],
                                                     anonymity.cosine_distance_matrix(fa, fa))
        anon_block["ranking"] = anonymity.rank_k_and_map(d, np.arange(len(fa)), np.arange(len(fo)))
    metrics = _jsonable({
        "command": "python -m evaluation.evaluate " + " ".join(args.argv), "mode": "frames",
        "frames_dir": str(args.frames_dir), "original_frames": str(args.original_frames), "n": len(pairs),
        "fidelity": fidelity, "person_fidelity": person_fidelity, "diversity": diversity,
        "anonymity": anon_block, "threshold": threshold,
        "weights": {"inception": describe_weights(tools.inception), "reid": describe_reid(tools.reid)},
        "seconds": time.perf_counter() - start,
    })
    atomic_write_json(args.out / "metrics.json", metrics)
    lines = ["# Full-frame evaluation", "", f"{len(pairs)} frames, {len(anon_crops)} persons; re-ID features: "
             f"{metrics['weights']['reid']['description']}", "", *markdown_table(FRAME_COLUMNS, [metrics]), ""]
    atomic_write_text(args.out / "metrics.md", "\n".join(lines))
    from dominate import document
    from dominate import tags as t

    doc = document(title="A-GAN full-frame evaluation")
    with doc:
        t.h1("Full-frame evaluation")
        t.pre("\n".join(lines))
    atomic_write_text(args.out / "report.html", doc.render())
    return metrics


def second_sample_diversity(args, tools, pairs: list[tuple[Path, Path]], anon_frames: list[np.ndarray],
                            frame_box_lists: list[list[tuple]]) -> dict:
    """LPIPS between the two anonymizations of every person, inside its box (evaluation.diversity)."""
    import torch

    from evaluation.diversity import lpips_diversity

    if tools.lpips is None:
        return {"error": "not available (no LPIPS weights)"}
    samples, boxes = [], []
    for (anon_path, _), anon, frame_boxes_ in zip(pairs, anon_frames, frame_box_lists, strict=True):
        other_path = args.second_sample / anon_path.relative_to(args.frames_dir)
        if not other_path.is_file():
            raise EvaluationInputError(f"--second_sample: no second sample of {anon_path} (expected {other_path})")
        other = read_rgb(other_path)
        if other.shape != anon.shape:
            raise EvaluationInputError(f"--second_sample: {other_path} is {other.shape[1]}x{other.shape[0]}, "
                                       f"its first sample {anon.shape[1]}x{anon.shape[0]}")
        for x1, y1, x2, y2 in frame_boxes_:
            x1, y1 = max(0, x1), max(0, y1)
            x2, y2 = min(anon.shape[1], x2), min(anon.shape[0], y2)
            if x2 > x1 and y2 > y1:
                pair = np.stack([anon[y1:y2, x1:x2], other[y1:y2, x1:x2]])
                samples.append(torch.from_numpy(pair).permute(0, 3, 1, 2).float() / 127.5 - 1.0)
                boxes.append(None)
    return _jsonable(lpips_diversity(samples, boxes, tools.lpips))


