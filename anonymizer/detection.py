"""Who is in a frame: one interface for every detector, multi-scale tiling, NMS merging, thresholds and a cache.

A detector maps a batch of frames to detections: boxes ``[x1, y1, x2, y2]`` in frame pixels (floats), a score in
[0, 1] and a label (no detector here gives masks; people are anonymized by box). Sources (``--detector``, see
``detectors/``):

- ``annotations``: the ground-truth files of ``-a`` (score 1);
- ``builtin``: the offline SSDLite-MobileNetV2 pedestrian detector (``detectors/ssdlite.py``);
- ``onnx:FILE``: a YOLO-format ONNX export run by onnxruntime (``detectors/yolo_onnx.py``);
- ``coco:FILE``: a COCO results file written by any other detector (``detectors/coco_results.py``).

Model detectors see square tiles. For an ``input_size`` model that finds objects from ``min_object_px`` model
pixels up, the finest tile side is ``min_height · input_size / min_object_px`` frame pixels (people of
``--min_person_height`` just reach the model's limit); each further level doubles the side up to the frame's short
side. Tiles of one level overlap by twice the smallest height it is responsible for, so every person it should find
lies wholly inside at least one of its tiles. All tiles of a frame run in batches; the boxes of every tile and level
are merged by score-ordered NMS (IoU ≥ 0.5, or a box lying ≥ 80 % inside a higher-scoring one).

Thresholds fail closed (``actions.forced_reason``): a detection at or above ``--detection_threshold`` gets the chosen
method; one between ``--fallback_threshold`` and it gets a traditional method (it may be a person); only below the
lower threshold is a detection dropped.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from util.cli import os_error_text
from util.fileio import atomic_write_json

Region = tuple[int, int, int, int]
NMS_IOU = 0.5
NMS_CONTAINED = 0.8


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
    score: float
    label: str = "person"
    crowd: bool = False  # an annotated crowd region (COCO iscrowd)

    def region(self) -> Region:
        """The integer box covering the detection (rounded outward), x2/y2 exclusive."""
        x1, y1, x2, y2 = self.box
        return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)

    def as_record(self) -> dict:
        return {"box": list(self.box), "score": self.score, "label": self.label}

    def rounded(self) -> Detection:
        """Box to 0.01 px, score to 1e-4: what the cache stores, so a cached rerun equals the first run."""
        return Detection(tuple(round(float(v), 2) for v in self.box), round(float(self.score), 4), self.label,
                         self.crowd)


@dataclass
class Frame:
    """What a detector is given: the pixels (H×W×3 RGB uint8) and the frame's name (the image's relative path,
    or the video's relative path) and, in a video, the frame number."""

    image: np.ndarray
    name: str
    index: int | None = None


class DetectionError(Exception):
    """A detector that cannot be built or used (bad file, bad spelling); the message names it."""


class Detector(ABC):
    """Detections for a batch of frames. ``identity`` names the detector and its weights (for the cache and the
    report); ``uses_pixels`` is False for detectors that only look frames up by name."""

    identity: str = ""
    uses_pixels: bool = True

    @abstractmethod
    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """One list of detections per frame."""

    def selects(self, detection: Detection) -> bool:
        """Whether a detection is to be anonymized (annotations filter by label; models keep everything)."""
        return True

    def note(self, detections: list[Detection]) -> str | None:
        """A warning about one frame's detections for the report (annotations: nobody selected by --labels)."""
        return None


# ------------------------------------------------------------------------------------------------ boxes


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N×4) with every box in ``b`` (M×4), ``[x1, y1, x2, y2]``."""
    inter = _intersections(a, b)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    return w * h


def nms(detections: list[Detection], iou: float = NMS_IOU, contained: float = NMS_CONTAINED) -> list[Detection]:
    """Greedy NMS per label, highest score first: a box is dropped when its IoU with a kept box is ≥ ``iou`` or
    when ≥ ``contained`` of its area lies inside a kept box (a tile-border fragment of the same person)."""
    kept: list[Detection] = []
    for label in sorted({d.label for d in detections}):
        # Equal scores: the larger box first, so that a fragment never shadows its whole.
        group = sorted((d for d in detections if d.label == label), key=lambda d: (-d.score, -_area(d.box)))
        boxes = np.asarray([d.box for d in group], dtype=np.float64).reshape(-1, 4)
        ious = box_iou_matrix(boxes, boxes)
        inter = _intersections(boxes, boxes)
        areas = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-12)
        alive = np.ones(len(group), dtype=bool)
        for i in range(len(group)):
            if not alive[i]:
                continue
            kept.append(group[i])
            later = np.arange(len(group)) > i
            alive &= ~(later & ((ious[i] >= iou) | (inter[i] / areas >= contained)))
    return sorted(kept, key=lambda d: (-d.score, d.box))


def _area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def expand(detection: Detection, margin: float) -> Detection:
    """The box grown by ``margin`` of its width/height on every side (detectors' boxes hug the person)."""
    if margin <= 0:
        return detection
    x1, y1, x2, y2 = detection.box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return Detection((x1 - dx, y1 - dy, x2 + dx, y2 + dy), detection.score, detection.label, detection.crowd)


# ------------------------------------------------------------------------------------------------ tiling


def tile_starts(length: int, side: int, stride: int) -> list[int]:
    """Starts of tiles of ``side`` covering [0, length) with at most ``stride`` between starts, the last one
    flush with the end (so the overlap is never below side - stride)."""
    if side >= length:
        return [0]
    count = math.ceil((length - side) / max(stride, 1)) + 1
    return sorted({round(k * (length - side) / (count - 1)) for k in range(count)})


def tile_plan(width: int, height: int, finest: int, min_fraction: float) -> list[Region]:
    """Square tiles for every level: sides ``finest``, 2·finest, … up to the short side (always included).
    ``min_fraction`` is the smallest object height a tile handles, as a fraction of its side; tiles overlap by
    twice that."""
    short = min(width, height)
    sides = []
    side = max(int(round(finest)), 16)
    while side < short:
        sides.append(side)
        side *= 2
    sides.append(short)
    tiles: list[Region] = []
    for side in sides:
        overlap = min(int(math.ceil(2 * min_fraction * side)), side - 1)
        if side == short:
            overlap = max(overlap, side // 2)  # the top level sees the largest people: half-tile steps
        for y in tile_starts(height, side, side - overlap):
            for x in tile_starts(width, side, side - overlap):
                tiles.append((x, y, x + side, y + side))
    return tiles


class TileModel(Protocol):
    """A detection network on square RGB tiles: ``__call__`` takes N×S×S×3 uint8 (S = ``input_size``) and gives,
    per tile, boxes (K×4, ``[x1, y1, x2, y2]`` as fractions of the tile) and scores (K)."""

    identity: str
    input_size: int
    min_object_px: float  # the smallest object (height, model pixels) the network finds reliably
    label: str

    def __call__(self, tiles: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]: ...


def resize_tile(image: np.ndarray, region: Region, size: int) -> np.ndarray:
    """The region (inside the frame) resized to size×size (area-averaged when shrinking)."""
    x1, y1, x2, y2 = region
    crop = image[y1:y2, x1:x2]
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


class TiledDetector(Detector):
    """A TileModel run on every tile of ``tile_plan`` (batched), boxes mapped to frame pixels, NMS-merged.
    Only detections with score ≥ ``keep_threshold`` are returned (the lower of the two thresholds)."""

    def __init__(self, model: TileModel, min_height: float, keep_threshold: float, batch_size: int = 8,
                 margin: float = 0.0) -> None:
        self.model = model
        self.min_height = float(min_height)
        self.keep_threshold = float(keep_threshold)
        self.batch_size = max(int(batch_size), 1)
        self.margin = float(margin)
        self.identity = (f"{model.identity} tiles(min_height={self.min_height:g}) keep>={self.keep_threshold:g} "
                         f"margin={self.margin:g}")

    def tiles(self, width: int, height: int) -> list[Region]:
        finest = self.min_height * self.model.input_size / self.model.min_object_px
        return tile_plan(width, height, finest, self.model.min_object_px / self.model.input_size)

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        jobs = [(k, region) for k, frame in enumerate(frames)
                for region in self.tiles(frame.image.shape[1], frame.image.shape[0])]
        found: list[list[Detection]] = [[] for _ in frames]
        size = self.model.input_size
        for first in range(0, len(jobs), self.batch_size):
            batch = jobs[first:first + self.batch_size]
            tiles = np.stack([resize_tile(frames[k].image, region, size) for k, region in batch])
            for (k, (x1, y1, x2, _)), (boxes, scores) in zip(batch, self.model(tiles), strict=True):
                side = x2 - x1
                keep = scores >= self.keep_threshold
                for box, score in zip(boxes[keep], scores[keep], strict=True):
                    bx1, by1, bx2, by2 = (float(v) for v in box * side)
                    found[k].append(Detection((x1 + bx1, y1 + by1, x1 + bx2, y1 + by2), float(score),
                                              self.model.label))
        return [[clip(expand(d, self.margin), frame.image.shape[1], frame.image.shape[0]).rounded()
                 for d in nms(dets)] for dets, frame in zip(found, frames, strict=True)]


def clip(detection: Detection, width: int, height: int) -> Detection:
    x1, y1, x2, y2 = detection.box
    box = (min(max(x1, 0.0), width), min(max(y1, 0.0), height), min(max(x2, 0.0), width), min(max(y2, 0.0), height))
    return Detection(box, detection.score, detection.label, detection.crowd)


# ------------------------------------------------------------------------------------------------ cache


def content_hash(image: np.ndarray) -> str:
    """SHA-256 of the decoded pixels and their shape (the same picture re-encoded hits the same entry)."""
    digest = hashlib.sha256(repr(image.shape).encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


class CachedDetector(Detector):
    """``--cache DIR``: detections stored per (pixel content, detector identity) as JSON, so reruns with other
    methods skip detection. The identity includes the weights' SHA-256, the tiling and the kept threshold."""

    def __init__(self, inner: Detector, folder: str | Path) -> None:
        self.inner = inner
        self.folder = Path(folder)
        try:  # now, so that an unusable --cache fails before any frame
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DetectionError(f"--cache {folder}: cannot be used as a folder ({os_error_text(error)})") from None
        self.identity = inner.identity
        self.uses_pixels = inner.uses_pixels
        self.selects = inner.selects
        self.note = inner.note
        self.hits = 0
        self.misses = 0

    def path(self, frame: Frame) -> Path:
        key = hashlib.sha256(f"{content_hash(frame.image)}|{self.identity}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.json"

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        paths = [self.path(frame) for frame in frames]
        results: list[list[Detection] | None] = [_read_cached(p) for p in paths]
        missing = [k for k, r in enumerate(results) if r is None]
        self.hits += len(frames) - len(missing)
        self.misses += len(missing)
        if missing:
            for k, dets in zip(missing, self.inner.detect([frames[k] for k in missing]), strict=True):
                atomic_write_json(paths[k], {"detector": self.identity,
                                             "detections": [d.as_record() for d in dets]})
                results[k] = dets
        return [r if r is not None else [] for r in results]


def _read_cached(path: Path) -> list[Detection] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Detection(tuple(float(v) for v in d["box"]), float(d["score"]), str(d["label"]))
                for d in data["detections"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: detect again (and overwrite)
