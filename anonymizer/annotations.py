"""Person boxes for full frames: CityPersons ``gtBboxCityPersons`` files, COCO instances and a simple JSON.

Every reader yields ``Person`` records whose ``box`` is ``(x1, y1, x2, y2)`` with x2/y2 exclusive, in frame pixels
(not yet clipped to the frame). Conversions:

- CityPersons ``[x, y, w, h]`` covers columns x..x+w and rows y..y+h inclusive, as the thesis's preprocessing
  filled it (``data_preprocessing.crops.fill_region`` "inclusive"): the box is ``(x, y, x+w+1, y+h+1)``. The
  full-body ``bbox`` is used by default (``--box_kind full``): ``bboxVis`` ⊆ ``bbox``, so it covers every visible
  pixel of the person even where the visible box is a loose guess; ``visible`` takes ``bboxVis``.
- COCO ``bbox`` ``[x, y, w, h]`` in float pixels: floored / ceiled outward so the box covers it.
- simple ``{"image": NAME, "boxes": [[x1, y1, x2, y2], ...], "labels": [...]}`` (labels optional, default
  ``person``), or a list of such objects; float corners are rounded outward.

Frame size: CityPersons ``imgWidth``/``imgHeight`` and COCO ``width``/``height`` are kept with the frame's
persons; the caller refuses an image of another size (boxes made for 2048×1024 on a 512×256 frame would miss
every person), or scales the boxes when asked.

Frames are matched to images by, in order: the relative path as written in the annotation, the file name, and
the frame key (``<city>_<seq>_<frame>`` from ``..._leftImg8bit.png`` / ``..._gtBboxCityPersons.json``; else
the name up to its first dot).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from data.boxes import Box, outward_box
from data.citypersons import ANNOTATION_SUFFIX, CityPersonsError, frame_key, parse_citypersons

# Every person-like label of CityPersons, plus "person" (COCO and the simple format). Not "ignore".
DEFAULT_LABELS = ("pedestrian", "rider", "sitting person", "person (other)", "person group", "person")
KNOWN_LABELS = (*DEFAULT_LABELS, "ignore")
BOX_KINDS = ("full", "visible")


class AnnotationError(Exception):
    """An annotation that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Person:
    box: Box  # x1, y1, x2, y2 (exclusive), frame pixels, unclipped
    label: str
    crowd: bool = False
    forced: str | None = None  # why this person must get a traditional method (a face, a low detection score)
    identity: int | None = None  # a track id: seeds this person's randomness instead of frame and index


@dataclass
class FrameAnnotation:
    source: str  # the annotation file
    persons: list[Person] = field(default_factory=list)
    error: str | None = None  # set when this frame's annotation file is broken (the frame then fails alone)
    size: tuple[int, int] | None = None  # (width, height) the boxes were made for, when the file says


def _frame_size(width: Any, height: Any, what: str, path: Path) -> tuple[int, int] | None:
    """(width, height) declared by an annotation (None when it declares none)."""
    if width is None and height is None:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        raise AnnotationError(f"{path}: {what} must be positive integers, got {width!r} x {height!r}")
    return width, height


def _numbers(values: Any, count: int, what: str, path: Path) -> list[float]:
    ok = isinstance(values, (list, tuple)) and len(values) == count
    if ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return [float(v) for v in values]
    raise AnnotationError(f"{path}: {what} must be {count} finite numbers, got {values!r}")


# ------------------------------------------------------------------------------------------------ readers


def citypersons_frame(data: dict, path: Path, box_kind: str) -> FrameAnnotation:
    """The persons of a CityPersons file (read by ``data.citypersons``) and the frame size it declares."""
    key = "bbox" if box_kind == "full" else "bboxVis"
    try:
        frame = parse_citypersons(data, path)
    except CityPersonsError as error:
        raise AnnotationError(str(error)) from None
    persons = []
    for k, obj in enumerate(frame.objects):
        box = obj.bbox if box_kind == "full" else obj.bbox_vis
        if box is None:
            raise AnnotationError(f"{path}: object {k} has no {key!r}")
        x, y, w, h = box
        if w < 0 or h < 0:
            raise AnnotationError(f"{path}: object {k} {key} has a negative size: {list(box)}")
        # Inclusive convention of the thesis: (w+1) x (h+1) pixels (docs/differences_from_original.md#inclusive-boxes).
        persons.append(Person(outward_box(x, y, x + w + 1, y + h + 1), obj.label))
    return FrameAnnotation(str(path), persons, size=frame.size)


def coco_frames(data: dict, path: Path) -> dict[str, FrameAnnotation]:
    """Person annotations (crowd regions included) per image ``file_name``; images without persons get []."""
    try:
        person_ids = {c["id"] for c in data.get("categories", []) if c.get("name") == "person"}
        frames = {img["id"]: (str(img["file_name"]), FrameAnnotation(
            str(path), size=_frame_size(img.get("width"), img.get("height"), f"image {img['id']} width/height",
                                        path))) for img in data["images"]}
        for k, ann in enumerate(data["annotations"]):
            if ann["category_id"] not in person_ids:
                continue
            if ann["image_id"] not in frames:
                raise AnnotationError(f"{path}: annotation {k} refers to unknown image_id {ann['image_id']}")
            x, y, w, h = _numbers(ann["bbox"], 4, f"annotation {k} bbox", path)
            frames[ann["image_id"]][1].persons.append(
                Person(outward_box(x, y, x + w, y + h), "person", crowd=bool(ann.get("iscrowd", 0))))
    except (KeyError, TypeError, AttributeError) as error:
        raise AnnotationError(f"{path}: not a COCO instances file ({type(error).__name__}: {error})") from None
    if not person_ids:
        raise AnnotationError(f"{path}: COCO file without a 'person' category")
    return dict(frames.values())


def simple_frames(data: Any, path: Path) -> dict[str, FrameAnnotation]:
    entries = data if isinstance(data, list) else [data]
    frames: dict[str, FrameAnnotation] = {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or "image" not in entry or not isinstance(entry.get("boxes"), list):
            raise AnnotationError(f"{path}: entry {n} needs 'image' and a list 'boxes'")
        labels = entry.get("labels", ["person"] * len(entry["boxes"]))
        if not isinstance(labels, list) or len(labels) != len(entry["boxes"]):
            raise AnnotationError(f"{path}: entry {n}: 'labels' must be a list as long as 'boxes'")
        persons = []
        for k, (box, label) in enumerate(zip(entry["boxes"], labels, strict=True)):
            x1, y1, x2, y2 = _numbers(box, 4, f"entry {n} box {k}", path)
            if x2 <= x1 or y2 <= y1:
                raise AnnotationError(f"{path}: entry {n} box {k} {box} is empty (need x1 < x2, y1 < y2)")
            persons.append(Person(outward_box(x1, y1, x2, y2), str(label)))
        name = str(entry["image"])
        if name in frames:
            raise AnnotationError(f"{path}: image {name!r} listed twice")
        frames[name] = FrameAnnotation(str(path), persons)
    return frames


def detect_format(data: Any) -> str | None:
    if isinstance(data, dict) and "objects" in data:
        return "citypersons"
    if isinstance(data, dict) and "images" in data and "annotations" in data:
        return "coco"
    if (isinstance(data, dict) and "image" in data) or (
            isinstance(data, list) and data and all(isinstance(e, dict) and "image" in e for e in data)):
        return "simple"
    return None


# ------------------------------------------------------------------------------------------------ index


class AnnotationIndex:
    """Frame annotations by match key; ``lookup`` finds an image's annotation (or raises on ambiguity)."""

    def __init__(self) -> None:
        self.entries: dict[str, list[FrameAnnotation]] = {}
        self.ignored: list[str] = []  # JSON files in a folder that are no annotation format
        self.labels: set[str] = set()  # every label of every person read

    def add(self, name: str, annotation: FrameAnnotation, with_aliases: bool) -> None:
        self.labels.update(person.label for person in annotation.persons)
        keys = [str(PurePosixPath(name.replace("\\", "/")))]
        if with_aliases:
            base = PurePosixPath(keys[0]).name
            keys += [base, frame_key(base)]
        for key in dict.fromkeys(keys):
            self.entries.setdefault(key, []).append(annotation)

    def lookup(self, relative: PurePosixPath) -> FrameAnnotation | None:
        for key in dict.fromkeys((str(relative), relative.name, frame_key(relative.name))):
            found = self.entries.get(key)
            if not found:
                continue
            unique = list({id(a): a for a in found}.values())
            if len(unique) > 1:
                sources = ", ".join(sorted({a.source for a in unique}))
                raise AnnotationError(f"{relative}: matched by {key!r} in more than one annotation ({sources})")
            return unique[0]
        return None

    def unknown_labels(self, labels: list[str]) -> list[str]:
        """The requested labels that are neither a known person label nor found in these annotations."""
        return [label for label in labels if label not in KNOWN_LABELS and label not in self.labels]

    def __len__(self) -> int:
        return len({id(a) for found in self.entries.values() for a in found})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnnotationError(f"{path}: cannot be read as JSON ({error})") from None


def add_file(index: AnnotationIndex, path: Path, box_kind: str, in_folder: bool) -> None:
    """Add one file. In a folder, a broken CityPersons file only fails its own frame, and JSON files of no known
    format are ignored; a file named on the command line must be a valid annotation."""
    is_citypersons_name = path.name.endswith(ANNOTATION_SUFFIX)
    try:
        data = _read_json(path)
        kind = detect_format(data)
        if kind is None and (is_citypersons_name or not in_folder):
            raise AnnotationError(f"{path}: not a CityPersons, COCO or simple annotation file")
        if kind == "citypersons":
            index.add(frame_key(path.name), citypersons_frame(data, path, box_kind), with_aliases=False)
        elif kind == "coco":
            for name, frame in coco_frames(data, path).items():
                index.add(name, frame, with_aliases=True)
        elif kind == "simple":
            for name, frame in simple_frames(data, path).items():
                index.add(name, frame, with_aliases=True)
        else:
            index.ignored.append(str(path))
    except AnnotationError as error:
        if not (in_folder and is_citypersons_name):
            raise
        index.add(frame_key(path.name), FrameAnnotation(str(path), error=str(error)), with_aliases=False)


def load_annotations(path: str | Path, box_kind: str = "full") -> AnnotationIndex:
    """Read a file or every ``*.json`` under a folder (recursively)."""
    if box_kind not in BOX_KINDS:
        raise ValueError(f"--box_kind must be one of {BOX_KINDS}, got {box_kind!r}")
    path = Path(path)
    index = AnnotationIndex()
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            add_file(index, file, box_kind, in_folder=True)
        if not len(index):
            raise AnnotationError(f"{path}: no annotation files found (CityPersons, COCO or simple JSON)")
    elif path.is_file():
        add_file(index, path, box_kind, in_folder=False)
    else:
        raise AnnotationError(f"{path}: annotation file or folder not found (-a/--annotations)")
    return index
