"""``--detector coco:FILE``: detections written by any other detector as a COCO *results* file.

The file is a JSON list of ``{"image_id" | "file_name", "category_id", "bbox": [x, y, w, h], "score"}`` (the
format COCO evaluation tools read). Entries of ``--person_class`` (default 1, COCO's person) are kept. An entry
names its frame by ``file_name`` (matched like annotations: relative path, file name, or name without extension)
or by ``image_id``: in a video the frame number (0-based), otherwise the number an image's file name is made of
(``000042.png`` ↔ 42). A frame with no entry has no detections (results files list detections only); the report
counts those frames.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ..detection import Detection, DetectionError, Detector, Frame

COCO_PERSON = 1


def _entry(entry: object, k: int, path: Path) -> tuple[str | int, Detection] | None:
    if not isinstance(entry, dict) or "bbox" not in entry or "score" not in entry or "category_id" not in entry:
        raise DetectionError(f"{path}: entry {k} needs 'bbox', 'score' and 'category_id'")
    bbox, score = entry["bbox"], entry["score"]
    numbers = [*bbox, score] if isinstance(bbox, list) else []
    if len(numbers) != 5 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                                    for v in numbers):
        raise DetectionError(f"{path}: entry {k}: bbox must be 4 finite numbers and score a number, got "
                             f"{bbox!r}, {score!r}")
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        raise DetectionError(f"{path}: entry {k}: bbox {bbox} has no area")
    if "file_name" in entry:
        key: str | int = str(PurePosixPath(str(entry["file_name"]).replace("\\", "/")))
    elif isinstance(entry.get("image_id"), int):
        key = entry["image_id"]
    else:
        raise DetectionError(f"{path}: entry {k} needs 'file_name' or an integer 'image_id'")
    return key, Detection((x, y, x + w, y + h), min(max(float(score), 0.0), 1.0))


class CocoResultsDetector(Detector):
    uses_pixels = False

    def __init__(self, path: str | Path, category: int = COCO_PERSON) -> None:
        path = Path(path)
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DetectionError(f"{path}: COCO results file not found (--detector coco:FILE)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DetectionError(f"{path}: cannot be read as JSON ({error})") from None
        if not isinstance(entries, list):
            raise DetectionError(f"{path}: a COCO results file is a JSON list of detections")
        self.by_key: dict[str | int, list[Detection]] = {}
        for k, entry in enumerate(entries):
            key, detection = _entry(entry, k, path)
            if entry["category_id"] == category:
                self.by_key.setdefault(key, []).append(detection)
        self.identity = f"coco:{path.resolve()} category={category}"
        self.unmatched_frames = 0

    def lookup(self, frame: Frame) -> list[Detection] | None:
        name = PurePosixPath(frame.name)
        for key in (str(name), name.name, name.stem):
            if key in self.by_key:
                return self.by_key[key]
        if frame.index is not None:
            return self.by_key.get(frame.index)
        return self.by_key.get(int(name.stem)) if name.stem.isdigit() else None

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        out = []
        for frame in frames:
            found = self.lookup(frame)
            self.unmatched_frames += found is None
            out.append(sorted(found or [], key=lambda d: -d.score))
        return out
