"""The CityPersons annotation format, read and written in one place (preprocessing, anonymizer, evaluation, the
synthetic street data).

Each frame ``<city>_<seq>_<frame>_leftImg8bit.png`` has ``<city>_<seq>_<frame>_gtBboxCityPersons.json``::

    {"imgWidth": 2048, "imgHeight": 1024,
     "objects": [{"label": "pedestrian", "bbox": [x, y, w, h], "bboxVis": [x, y, w, h], "instanceId": 24000}]}

``bbox`` is the full body, ``bboxVis`` the visible part. The boxes are kept as annotated (``XYWH`` numbers);
how ``w`` is read — inclusive, covering columns x..x+w as the thesis did, or exact — is the caller's choice
(``data.boxes.xywh_to_box``; docs/differences_from_original.md#inclusive-boxes).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from util.fileio import atomic_write_bytes

ANNOTATION_SUFFIX = "_gtBboxCityPersons.json"
IMAGE_SUFFIX = "_leftImg8bit.png"
Numbers = tuple[float, float, float, float]  # [x, y, w, h] as annotated (ints stay ints)


class CityPersonsError(ValueError):
    """A file that is not a usable CityPersons annotation; ``str()`` is ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class CityPerson:
    label: str
    bbox: Numbers | None  # full body [x, y, w, h]; None when the object has none
    bbox_vis: Numbers | None  # visible part
    instance_id: int | None = None
    problem: str | None = None  # read with lenient_boxes: why a box was dropped (it is then None)


@dataclass(frozen=True)
class CityPersonsFrame:
    objects: list[CityPerson]
    size: tuple[int, int] | None = None  # (imgWidth, imgHeight) when the file declares them


def frame_key(name: str) -> str:
    """``aachen_000024_000019`` from ``aachen_000024_000019_leftImg8bit.png`` or ``..._gtBboxCityPersons.json``;
    otherwise the file name up to its first dot."""
    if name.endswith(ANNOTATION_SUFFIX):
        return name[: -len(ANNOTATION_SUFFIX)]
    stem = name.split(".", 1)[0]
    suffix = IMAGE_SUFFIX.split(".", 1)[0]
    return stem[: -len(suffix)] if stem.endswith(suffix) else stem


def annotation_files(root: str | os.PathLike[str]) -> dict[str, Path]:
    """Every ``*_gtBboxCityPersons.json`` under ``root`` (any depth) by frame key."""
    return {frame_key(path.name): path for path in sorted(Path(root).rglob(f"*{ANNOTATION_SUFFIX}"))}


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _numbers(value: Any, what: str, path: Path) -> Numbers | None:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == 4
    if not ok or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise CityPersonsError(path, f"{what} must be [x, y, w, h], 4 finite numbers, got {value!r}")
    return tuple(value)


def _box(obj: dict, key: str, k: int, path: Path, lenient: bool, problems: list[str]) -> Numbers | None:
    try:
        return _numbers(obj.get(key), f"object {k} {key}", path)
    except CityPersonsError as error:
        if not lenient:
            raise
        problems.append(error.problem)
        return None


def _person(obj: Any, k: int, path: Path, lenient: bool) -> CityPerson:
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), str):
        raise CityPersonsError(path, f"object {k} is not an object with a 'label'")
    instance = obj.get("instanceId")
    if instance is not None and _integer(instance) is None:
        raise CityPersonsError(path, f"object {k} instanceId must be an integer, got {instance!r}")
    problems: list[str] = []
    bbox, bbox_vis = (_box(obj, key, k, path, lenient, problems) for key in ("bbox", "bboxVis"))
    return CityPerson(obj["label"], bbox, bbox_vis, None if instance is None else _integer(instance),
                      "; ".join(problems) or None)


def parse_citypersons(data: Any, path: str | os.PathLike[str], lenient_boxes: bool = False) -> CityPersonsFrame:
    """A frame from decoded JSON; anything that is not CityPersons raises CityPersonsError naming ``path`` —
    except, with ``lenient_boxes``, a box that is not four finite numbers: it is dropped (None) and the
    object's ``problem`` says why, so the caller can skip that one person."""
    path = Path(path)
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise CityPersonsError(path, "not a CityPersons annotation (no 'objects' list)")
    size = None
    if "imgWidth" in data or "imgHeight" in data:
        width, height = _integer(data.get("imgWidth")), _integer(data.get("imgHeight"))
        if width is None or height is None or width < 1 or height < 1:
            raise CityPersonsError(path, f"imgWidth/imgHeight must be positive integers, got "
                                         f"{data.get('imgWidth')!r} x {data.get('imgHeight')!r}")
        size = (width, height)
    return CityPersonsFrame([_person(obj, k, path, lenient_boxes) for k, obj in enumerate(data["objects"])], size)


def read_citypersons(path: str | os.PathLike[str], lenient_boxes: bool = False) -> CityPersonsFrame:
    """Read one annotation file; any problem raises CityPersonsError naming the file (``lenient_boxes``: see
    parse_citypersons)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CityPersonsError(path, f"cannot be read as JSON ({error})") from None
    return parse_citypersons(data, path, lenient_boxes)


def citypersons_bytes(frame: CityPersonsFrame) -> bytes:
    """The file's bytes: sorted keys, two-space indent, a final newline (the same frame gives the same bytes)."""
    objects = []
    for person in frame.objects:
        obj: dict[str, Any] = {"label": person.label}
        for key, value in (("bbox", person.bbox), ("bboxVis", person.bbox_vis), ("instanceId", person.instance_id)):
            if value is not None:
                obj[key] = list(value) if isinstance(value, tuple) else value
        objects.append(obj)
    document: dict[str, Any] = {"objects": objects}
    if frame.size is not None:
        document["imgWidth"], document["imgHeight"] = frame.size
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("utf-8")


def write_citypersons(path: str | os.PathLike[str], frame: CityPersonsFrame) -> None:
    """Write one annotation file atomically."""
    atomic_write_bytes(path, citypersons_bytes(frame))
