"""COCO-style average precision of a one-class (pedestrian) detector, with size bins by box height.

The rules are those of the COCO detection evaluation (cocodataset.org/#detection-eval), so the numbers are
comparable with ``pycocotools`` (the tests check them against it on the same inputs):

- per image, detections are taken highest score first (at most ``max_detections``, 100 as COCO) and each is matched
  to the unmatched ground-truth box of highest IoU at or above the threshold, a real box before an ignored one;
- *ignore regions* (CityPersons ``ignore`` and ``person group`` boxes, and every person-like box that is not the
  evaluated class: riders, sitting people, ``person (other)``) behave like COCO crowd boxes: their overlap is the
  intersection over the *detection's* area, any number of detections may fall on one, and a detection matched to
  one counts neither as true nor as false positive;
- precision is made monotone and read at 101 recall points 0, 0.01, …, 1 (COCO's interpolation); AP is their mean,
  AP@[.5:.95] the mean over the IoU thresholds 0.50, 0.55, …, 0.95;
- size bins by box HEIGHT in frame pixels, not by area: ``small`` ≤ 50, ``medium`` 50–150, ``large`` ≥ 150 (a
  boundary belongs to both bins, as in COCO). These are
  COCO's area limits 32² and 96² for a pedestrian of CityPersons' aspect ratio 0.41 (√(0.41·h²) = 32 at h = 50,
  = 96 at h ≈ 150), and 50 px is CityPersons' "reasonable" minimum. A ground-truth box outside the bin is ignored,
  and so is an unmatched detection outside it.
- recall: the share of non-ignored ground-truth boxes matched by any of the kept detections (COCO's AR at 100 for
  one IoU), and ``recall_at_score``: the same counting only detections scoring at least an operating threshold.

A bin or set with no non-ignored ground truth has no AP (``None``), as COCO's −1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
HEIGHT_BINS = {"all": (0.0, float("inf")), "small": (0.0, 50.0), "medium": (50.0, 150.0),
               "large": (150.0, float("inf"))}
MAX_DETECTIONS = 100


@dataclass
class ImageBoxes:
    """One image: ground truth (``gt`` N×4 ``[x1, y1, x2, y2]``, ``gt_ignore`` N bools: ignore regions) and
    detections (``boxes`` M×4, ``scores`` M), all in the same frame pixels."""

    gt: np.ndarray
    gt_ignore: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self.gt = np.asarray(self.gt, dtype=np.float64).reshape(-1, 4)
        self.gt_ignore = np.asarray(self.gt_ignore, dtype=bool).reshape(-1)
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if len(self.gt_ignore) != len(self.gt) or len(self.scores) != len(self.boxes):
            raise ValueError(f"{self.name or 'image'}: {len(self.gt)} ground-truth boxes with {len(self.gt_ignore)} "
                             f"ignore flags, {len(self.boxes)} detections with {len(self.scores)} scores")


@dataclass
class Matches:
    """Per detection (all images, descending score): its score, and per IoU threshold whether it is a true
    positive or ignored; ``positives`` counts the non-ignored ground truth."""

    scores: np.ndarray
    true: np.ndarray  # T×D
    ignored: np.ndarray  # T×D
    positives: int


def overlaps(boxes: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """D×G: IoU of each detection with each ground-truth box; for crowd (ignore) boxes the intersection over the
    detection's area."""
    w = np.clip(np.minimum(boxes[:, None, 2], gt[None, :, 2]) - np.maximum(boxes[:, None, 0], gt[None, :, 0]), 0, None)
    h = np.clip(np.minimum(boxes[:, None, 3], gt[None, :, 3]) - np.maximum(boxes[:, None, 1], gt[None, :, 1]), 0, None)
    inter = w * h
    area_d = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[:, None]
    area_g = ((gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]))[None, :]
    union = np.where(crowd[None, :], area_d, area_d + area_g - inter)
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _in_bin(boxes: np.ndarray, heights: tuple[float, float]) -> np.ndarray:
    height = boxes[:, 3] - boxes[:, 1]
    return (height >= heights[0]) & (height <= heights[1]) if np.isfinite(heights[1]) else height >= heights[0]


def match_image(image: ImageBoxes, heights: tuple[float, float], iou_thresholds: Sequence[float],
                max_detections: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(scores, true T×D, ignored T×D, non-ignored ground truth) for one image, COCO's greedy matching."""
    order = np.argsort(-image.scores, kind="mergesort")[:max_detections]
    boxes, scores = image.boxes[order], image.scores[order]
    ignore = image.gt_ignore | ~_in_bin(image.gt, heights)
    gt_order = np.argsort(ignore, kind="mergesort")  # real boxes first, as COCO
    gt, ignore, crowd = image.gt[gt_order], ignore[gt_order], image.gt_ignore[gt_order]
    iou = overlaps(boxes, gt, crowd) if len(boxes) and len(gt) else np.zeros((len(boxes), len(gt)))
    true = np.zeros((len(iou_thresholds), len(boxes)), dtype=bool)
    ignored = np.zeros_like(true)
    for t, threshold in enumerate(iou_thresholds):
        taken = np.zeros(len(gt), dtype=bool)
        for d in range(len(boxes)):
            best, chosen = min(threshold, 1 - 1e-10), -1
            for g in range(len(gt)):
                if taken[g] and not crowd[g]:
                    continue
                if chosen > -1 and not ignore[chosen] and ignore[g]:
                    break  # a real match is never traded for an ignored box
                if iou[d, g] < best:
                    continue
                best, chosen = iou[d, g], g
            if chosen == -1:
                continue
            taken[chosen] = True
            true[t, d], ignored[t, d] = not ignore[chosen], ignore[chosen]
    outside = ~_in_bin(boxes, heights)
    ignored |= ~(true | ignored) & outside[None, :]
    return scores, true, ignored, int((~ignore).sum())


def match_all(images: Sequence[ImageBoxes], heights: tuple[float, float] = HEIGHT_BINS["all"],
              iou_thresholds: Sequence[float] = IOU_THRESHOLDS, max_detections: int = MAX_DETECTIONS) -> Matches:
    parts = [match_image(image, heights, iou_thresholds, max_detections) for image in images]
    scores = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    order = np.argsort(-scores, kind="mergesort")
    true = np.concatenate([p[1] for p in parts], axis=1)[:, order] if parts else np.zeros((len(iou_thresholds), 0))
    ignored = np.concatenate([p[2] for p in parts], axis=1)[:, order] if parts else np.zeros_like(true)
    return Matches(scores[order], true.astype(bool), ignored.astype(bool), sum(p[3] for p in parts))


def average_precision(true: np.ndarray, ignored: np.ndarray, positives: int) -> float | None:
    """COCO's 101-point interpolated AP of one ranked list (descending score); None without positives."""
    if positives == 0:
        return None
    keep = ~ignored
    tp = np.cumsum(true[keep])
    fp = np.cumsum(~true[keep])
    if not len(tp):
        return 0.0
    recall = tp / positives
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the best precision at this recall or beyond
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0.0)
    return float(sampled.mean())


def summarize(images: Sequence[ImageBoxes], score_threshold: float | None = None,
              max_detections: int = MAX_DETECTIONS) -> dict:
    """AP@0.5, AP@0.75, AP@[.5:.95], recall@0.5 and recall@[.5:.95] per height bin (``all``, ``small``,
    ``medium``, ``large``), plus ``recall_at_score`` (IoU 0.5, detections scoring ≥ ``score_threshold``)."""
    result: dict = {"iou_thresholds": list(IOU_THRESHOLDS), "height_bins": {k: list(v) for k, v in HEIGHT_BINS.items()},
                    "max_detections": max_detections, "images": len(images), "bins": {}}
    for name, heights in HEIGHT_BINS.items():
        m = match_all(images, heights, IOU_THRESHOLDS, max_detections)
        aps = [average_precision(m.true[t], m.ignored[t], m.positives) for t in range(len(IOU_THRESHOLDS))]
        recalls = [float(m.true[t].sum() / m.positives) if m.positives else None for t in range(len(IOU_THRESHOLDS))]
        row = {"positives": m.positives, "detections": int((~m.ignored[0]).sum()),
               "AP50": aps[0], "AP75": aps[IOU_THRESHOLDS.index(0.75)],
               "AP": None if aps[0] is None else float(np.mean(aps)),
               "recall50": recalls[0], "recall": None if recalls[0] is None else float(np.mean(recalls))}
        if score_threshold is not None:
            confident = m.scores >= score_threshold
            row["recall_at_score"] = (float((m.true[0] & confident).sum() / m.positives) if m.positives else None)
        result["bins"][name] = row
    if score_threshold is not None:
        result["score_threshold"] = score_threshold
    return result
