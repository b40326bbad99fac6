"""Cityscapes + CityPersons -> A-GAN training crops, as one reproducible and resumable command
(docs/differences_from_original.md#preprocessing-command).

    python -m data_preprocessing.cityscapes --cityscapes_root ROOT --out DATAROOT [options]

Frames are pooled, split by a seeded shuffle (or by given lists) and filtered per person (label, box outside
the frame, overlap, size, window). Every kept person becomes
``DATAROOT/full/{images,bbox}/<split>/<stem>_<k>.{png,json}``; the training layout
``DATAROOT/{images,bbox}/{train,val,val5,test}`` is then filled with hard links to those files (the
``--subset`` selection, and the first ``--n_val_vis`` val crops as val5). ``manifest.json`` records how.

Each frame leaves a marker in ``DATAROOT/.progress/frames`` after its crops are written, so a rerun skips
finished frames; every file is written atomically; the noise is seeded per person, so the bytes depend
neither on the number of workers nor on the order in which frames are done.

What this command owns. The markers name every crop a frame produced, so the files this command wrote are known
exactly (``owned_files``): ``--overwrite`` deletes those and nothing else, and a ``--out`` whose dataset folders
hold any other file is refused rather than mixed or deleted. ``--out`` may not be ``--cityscapes_root`` nor lie
inside it (the notebooks' flat layout keeps its frames in ``images/``, a folder this command writes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import PIL
from tqdm import tqdm

from data.boxes import PIXEL_FILLS, XYWH, Box, overlapping, save_box
from data.citypersons import ANNOTATION_SUFFIX, IMAGE_SUFFIX, CityPersonsError, read_citypersons
from data.instance_ids import InstanceIdsError, instance_ids_path, read_person_mask
from data_preprocessing import crops
from util.cli import os_error_text, printable_paths
from util.fileio import atomic_write_bytes
from util.image_files import ImageReadError, image_size, read_rgb
from util.progress import progress_bar

SPLITS = ("train", "val", "test")
REASONS = ("label", "bad_frame", "bad_box", "outside_frame", "excluded", "overlap", "too_small", "too_large",
           "window")
DEFAULT_SPLIT = {"train": 0.7, "val": 0.15, "test": 0.15}
PNG_COMPRESSION = 3  # fixed, so the PNG bytes are reproducible
FRAME_PROBLEMS = ("unreadable", "frame_size")  # problems that make a whole frame unusable
# Where this command writes (and the manifest).
DATASET_FOLDERS = ("images", "bbox", "person_mask", "full", "splits", ".progress")
CROP_KINDS = (("images", ".png"), ("bbox", ".json"))  # every crop's files: folder, extension
MASK_KIND = ("person_mask", ".png")  # and, from frames with gtFine instance ids, its person mask
_SUBSET_STREAM = 0x5B5E7  # separates the subset's random stream from the split's


class PreprocessError(Exception):
    """A problem with the command's input or options, reported as one line without a traceback."""


@dataclass
class PreprocessConfig:
    """Every option of the command; the filter and crop defaults are the thesis's final ones."""

    cityscapes_root: str
    out: str
    source_splits: tuple[str, ...] = ("train", "val")
    split: dict[str, int | float] | None = None  # counts or fractions; None: DEFAULT_SPLIT unless split_lists
    split_lists: str | None = None
    seed: int = 0
    labels: tuple[str, ...] = ("pedestrian",)
    overlap_iou: float | None = 0.1  # None: no IoU overlap filter
    exclude_list: str | None = None
    min_width: int = 40
    max_width: int = 100
    min_height: int = 120
    max_height: int = 250
    fill: str = "noise"
    box_convention: str = "inclusive"
    crop_size: int = 256
    frame_size: tuple[int, int] | None = (2048, 1024)  # None: accept any size
    subset: dict[str, int] = field(default_factory=dict)
    n_val_vis: int = 5
    exclude_cities: tuple[str, ...] = ("demo", "test")
    workers: int | None = None  # None: all usable cores
    overwrite: bool = False
    quiet: bool = False

    def check(self) -> None:
        """Raise PreprocessError for an inconsistent configuration, before anything is written."""
        problems = []
        if self.split is not None and self.split_lists is not None:
            problems.append("give either --split or --split_lists, not both")
        if self.fill not in PIXEL_FILLS or self.box_convention not in crops.CONVENTIONS:
            problems.append(f"fill must be one of {PIXEL_FILLS}, box_convention one of {crops.CONVENTIONS}")
        if self.seed < 0 or self.crop_size < 1 or self.n_val_vis < 0 or (self.workers or 1) < 1:
            problems.append("seed and n_val_vis must be >= 0, crop_size and workers >= 1")
        if not 1 <= self.min_width <= self.max_width or not 1 <= self.min_height <= self.max_height:
            problems.append("size limits need 1 <= min_width <= max_width and 1 <= min_height <= max_height")
        if not self.labels:
            problems.append("--labels needs at least one label")
        unknown = set(self.subset) - set(SPLITS) | set(self.split or {}) - set(SPLITS)
        if unknown:
            problems.append(f"unknown split name(s) {sorted(unknown)}; use {', '.join(SPLITS)}")
        if self.split_lists is not None and not Path(self.split_lists).is_dir():
            problems.append(f"--split_lists {self.split_lists} is not a folder")
        if Path(self.out).exists() and not Path(self.out).is_dir():
            problems.append(f"--out {self.out} is a file, not a folder")
        root, out = Path(self.cityscapes_root).resolve(), Path(self.out).resolve()
        if out == root or root in out.parents:
            problems.append(f"--out {self.out} is --cityscapes_root or inside it; write the dataset elsewhere "
                            "(it could overwrite or, with --overwrite, delete the source frames)")
        if self.exclude_list is not None and not Path(self.exclude_list).is_file():
            problems.append(f"--exclude_list {self.exclude_list} is not a file")
        if problems:
            raise PreprocessError("; ".join(problems))

    @property
    def limits(self) -> crops.SizeLimits:
        return crops.SizeLimits(self.min_width, self.max_width, self.min_height, self.max_height)


@dataclass(frozen=True)
class FrameTask:
    """One frame to process; ``excluded`` are person indices named by --exclude_list."""

    stem: str
    split: str
    image: str
    annotation: str
    excluded: tuple[int, ...] = ()
    instances: str | None = None  # gtFine instance ids: each crop then gets its person mask


@dataclass(frozen=True)
class FrameParams:
    """What the per-frame work depends on; sent once to each worker."""

    out: str
    labels: tuple[str, ...]
    overlap_iou: float | None
    limits: crops.SizeLimits
    fill: str
    box_convention: str
    crop_size: int
    frame_size: tuple[int, int] | None
    seed: int


@dataclass(frozen=True)
class Person:
    """The verdict on one selected-label person: ``reason`` None means kept, with its window and local box."""

    k: int
    raw: XYWH | None  # as annotated (None: not four finite numbers, reason "bad_box")
    box: XYWH | None  # after the edge fix
    reason: str | None
    edge_fixed: bool
    window: tuple[int, int] | None = None
    local_region: Box | None = None


# -------------------- small helpers


def _problem(kind: str, path: str, message: str) -> dict:
    return {"kind": kind, "path": path, "message": message}


def _warn(problem: dict) -> None:
    tqdm.write(f"warning: {problem['kind']}: {problem['path']}: {problem['message']}", file=sys.stderr)


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=1) + "\n").encode()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def normalise_stem(entry: str) -> str:
    """``aachen_000000_000019`` from a stem, a file name or a path (``_leftImg8bit.png``, ``.json``, ...)."""
    name = re.split(r"[\\/]", entry.strip())[-1]
    for suffix in (IMAGE_SUFFIX, ANNOTATION_SUFFIX, ".png", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _read_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8", errors="surrogateescape").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# -------------------- discovery


@dataclass(frozen=True)
class Frame:
    stem: str
    image: str
    annotation: str
    instances: str | None = None  # the frame's gtFine instance-id map, when the dataset has one


def instance_map_of(root: Path, layout: str, image: str) -> str | None:
    """``gtFine/<split>/<city>/<stem>_gtFine_instanceIds.png`` beside an official-layout frame, if it exists."""
    if layout != "official":
        return None
    path = Path(image)
    split, city = path.parent.parent.name, path.parent.name
    found = instance_ids_path(root, split, city, path.name[: -len(IMAGE_SUFFIX)])
    return str(found) if found.is_file() else None


def _collect(folder: Path, suffix: str, found: dict[str, str], skip: tuple[str, ...], problems: list) -> None:
    if not folder.is_dir():
        return
    for city in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in skip):
        for path in sorted(city.glob("*" + suffix)):
            stem = path.name[: -len(suffix)]
            if stem in found:
                problems.append(_problem("duplicate_frame", str(path), f"{stem} already seen at {found[stem]}"))
            else:
                found[stem] = str(path)


def discover_frames(
    root: Path, source_splits: tuple[str, ...], skip_cities: tuple[str, ...]
) -> tuple[str, dict[str, Frame], list[dict]]:
    """Frames with both an image and an annotation, by stem; the layout found; problems for unpaired files."""
    if not root.is_dir():
        raise PreprocessError(f"--cityscapes_root {root} does not exist or is not a folder")
    if (root / "leftImg8bit").is_dir():
        layout = "official"
        folders = [(root / "leftImg8bit" / s, root / "gtBboxCityPersons" / s) for s in source_splits]
    elif (root / "images").is_dir():
        layout = "flat"
        folders = [(root / "images", root / "bboxes")]
    else:
        raise PreprocessError(
            f"{root} holds neither leftImg8bit/<split>/<city>/ (official layout) nor images/<city>/ (flat layout)"
        )
    problems = [
        _problem("missing_folder", str(f), "no such folder (--source_splits)") for f, _ in folders if not f.is_dir()
    ]
    images: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for image_dir, annotation_dir in folders:
        _collect(image_dir, IMAGE_SUFFIX, images, skip_cities, problems)
        _collect(annotation_dir, ANNOTATION_SUFFIX, annotations, skip_cities, problems)
    frames = {}
    for stem in sorted(images.keys() | annotations.keys()):
        if stem not in annotations:
            problems.append(_problem("missing_annotation", images[stem], "image without annotation, skipped"))
        elif stem not in images:
            problems.append(_problem("missing_image", annotations[stem], "annotation without image, skipped"))
        else:
            frames[stem] = Frame(stem, images[stem], annotations[stem], instance_map_of(root, layout, images[stem]))
    return layout, frames, problems


# -------------------- split


def split_counts(spec: dict[str, int | float], n: int) -> dict[str, int]:
    """Frames per split from counts (ints) or fractions (floats; cumulative rounding keeps the total)."""
    if all(isinstance(v, int) for v in spec.values()):
        counts = dict(spec)
    elif any(isinstance(v, int) for v in spec.values()):
        raise PreprocessError(f"split {spec} mixes counts and fractions; write fractions with a decimal point")
    else:
        if sum(spec.values()) > 1 + 1e-9:
            raise PreprocessError(f"split fractions {spec} add up to more than 1")
        counts, done, cumulative = {}, 0, 0.0
        for name, fraction in spec.items():
            cumulative += fraction
            end = round(cumulative * n)
            counts[name], done = end - done, end
    if sum(counts.values()) > n:
        raise PreprocessError(f"split {spec} asks for {sum(counts.values())} frames but only {n} were found")
    return counts


def split_frames(stems: list[str], spec: dict[str, int | float], seed: int) -> dict[str, list[str]]:
    """Seeded split: a permutation of the sorted stems, cut into consecutive runs in the order of ``spec``."""
    ordered = sorted(stems)
    permutation = np.random.default_rng(seed).permutation(len(ordered))
    out, start = {}, 0
    for name, count in split_counts(spec, len(ordered)).items():
        out[name] = sorted(ordered[i] for i in permutation[start : start + count])
        start += count
    return out


def read_split_lists(folder: Path) -> dict[str, list[str]]:
    """``{train,val,test}.txt`` from a folder (those present), one frame per line, as stems."""
    lists = {
        s: [normalise_stem(x) for x in _read_lines(folder / f"{s}.txt")]
        for s in SPLITS
        if (folder / f"{s}.txt").is_file()
    }
    if not lists:
        raise PreprocessError(f"--split_lists {folder} holds none of {', '.join(s + '.txt' for s in SPLITS)}")
    seen: dict[str, str] = {}
    for name, stems in lists.items():
        for stem in stems:
            if seen.setdefault(stem, name) != name:
                raise PreprocessError(f"frame {stem} is in both {seen[stem]}.txt and {name}.txt")
    return lists


def assign_splits(config: PreprocessConfig, frames: dict[str, Frame]) -> tuple[dict[str, list[str]], list[dict]]:
    """Frame stems per split, and problems for listed frames that are not on disk."""
    if config.split_lists is None:
        return split_frames(list(frames), config.split or DEFAULT_SPLIT, config.seed), []
    folder = Path(config.split_lists)
    problems, assignment = [], {}
    for name, stems in read_split_lists(folder).items():
        missing = [s for s in stems if s not in frames]
        problems += [_problem("missing_frame", str(folder / f"{name}.txt"), f"{s} not found on disk") for s in missing]
        assignment[name] = sorted(set(stems) - set(missing))
    return assignment, problems


def read_exclude_list(path: Path) -> dict[str, set[int]]:
    """Persons to drop, one ``<stem>_<k>`` per line (e.g. the thesis's overlap list), as stem -> indices."""
    out: dict[str, set[int]] = {}
    for line in _read_lines(path):
        stem, _, k = normalise_stem(line).rpartition("_")
        if not stem or not k.isdigit():
            raise PreprocessError(f"{path}: '{line}' is not <city>_<seq>_<frame>_<k>")
        out.setdefault(stem, set()).add(int(k))
    return out


# -------------------- one frame's work


class FrameError(Exception):
    """A frame that cannot be used: reported with its path, its persons counted as ``bad_frame``."""

    def __init__(self, kind: str, path: str, message: str) -> None:
        super().__init__(message)
        self.problem = _problem(kind, path, message)


def read_annotation(path: str) -> tuple[list[tuple[str, XYWH | None]], tuple[int, int] | None]:
    """(label, bboxVis) of every object in annotation order — None for a box that is not four finite numbers (e.g.
    an ``Infinity``, which Python's JSON reader accepts): that person alone is skipped, counted as ``bad_box`` —
    and the declared (imgWidth, imgHeight) if any."""
    try:
        frame = read_citypersons(path, lenient_boxes=True)
        missing = [k for k, o in enumerate(frame.objects) if o.bbox_vis is None and o.problem is None]
        if missing:
            raise CityPersonsError(path, f"object {missing[0]} has no bboxVis")
    except CityPersonsError as error:
        raise FrameError("unreadable", path, f"not a CityPersons annotation ({error.problem})") from None
    return [(o.label, None if o.bbox_vis is None else tuple(int(v) for v in o.bbox_vis)) for o in frame.objects], \
        frame.size


def probe_image(path: str) -> tuple[int, int]:
    """(width, height) from the PNG header, chunk checksums verified, without decoding the pixels (fast)."""
    try:
        return image_size(path, verify=True)
    except ImageReadError as exc:
        raise FrameError("unreadable", path, f"unreadable image ({exc.problem})") from None


def _check_size(path: str, size: tuple[int, int], declared: tuple[int, int] | None, params: FrameParams) -> None:
    expected = params.frame_size
    if expected is not None and size != expected:
        raise FrameError("frame_size", path, f"frame is {size[0]}x{size[1]}, expected {expected[0]}x{expected[1]}")
    if declared is not None and size != declared:
        raise FrameError(
            "frame_size",
            path,
            f"frame is {size[0]}x{size[1]}, its annotation says {declared[0]}x{declared[1]}",
        )


def _decode(path: str, size: tuple[int, int]) -> np.ndarray:
    """The frame as 8-bit BGR (OpenCV's order, as the crop code and the PNG encoder expect)."""
    try:
        frame = read_rgb(path)
    except ImageReadError as exc:
        raise FrameError("unreadable", path, exc.problem) from None
    if frame.shape[1::-1] != size:
        raise FrameError("unreadable", path, f"decodes to {frame.shape[1]}x{frame.shape[0]}, header says "
                                             f"{size[0]}x{size[1]}")
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)


def _person_mask(path: str | None, size: tuple[int, int]) -> np.ndarray | None:
    """The frame's person pixels from its instance-id map (None without one)."""
    if path is None:
        return None
    try:
        return read_person_mask(path, size)
    except InstanceIdsError as exc:
        raise FrameError("unreadable", path, exc.problem) from None


def judge_person(
    k: int, raw: XYWH, frame_w: int, frame_h: int, params: FrameParams, overlap: bool, excluded: bool
) -> Person:
    """Apply the edge fix and the filters in a fixed order; the first failing one is the counted reason."""
    box = crops.edge_fix(raw, frame_w, frame_h)
    fixed = box != raw
    if crops.starts_outside(raw, box, frame_w, frame_h):
        return Person(k, raw, box, "outside_frame", fixed)
    reason = "excluded" if excluded else "overlap" if overlap else params.limits.reason(box[2], box[3])
    if reason:
        return Person(k, raw, box, reason, fixed)
    window = crops.crop_window(box, frame_w, frame_h, params.crop_size)
    region = crops.fill_region(box, params.box_convention, frame_w, frame_h)
    local = crops.region_in_window(region, window, params.crop_size) if window else None
    return Person(k, raw, box, None if local else "window", fixed, window, local)


def judge_frame(
    objects: list[tuple[str, XYWH | None]],
    frame_w: int,
    frame_h: int,
    params: FrameParams,
    excluded: tuple[int, ...],
) -> tuple[list[Person], Counter]:
    """Verdicts for the selected-label persons (k = index among them), and the count of each other label.

    The overlap filter compares the raw visible boxes of all selected-label persons, as the original did
    (a person without a usable box takes no part in it).
    """
    selected = [box for label, box in objects if label in params.labels]
    others = Counter(label for label, _ in objects if label not in params.labels)
    valid = [k for k, box in enumerate(selected) if box is not None]
    overlaps = set()
    if params.overlap_iou is not None:
        overlaps = {valid[i] for i in overlapping([selected[k] for k in valid], params.overlap_iou)}
    persons = [
        judge_person(k, box, frame_w, frame_h, params, k in overlaps, k in excluded) if box is not None
        else Person(k, None, None, "bad_box", False)
        for k, box in enumerate(selected)
    ]
    return persons, others


def _png_bytes(pixels: np.ndarray, what: str) -> bytes:
    """PNG bytes at the fixed compression level (so the bytes are reproducible)."""
    ok, png = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise RuntimeError(f"PNG encoding failed for {what}")
    return png.tobytes()


def _write_crop(
    frame: np.ndarray, persons_mask: np.ndarray | None, task: FrameTask, person: Person, params: FrameParams
) -> str:
    name = f"{task.stem}_{person.k}"
    # Seeded per person (crc32, not the salted hash()), so the bytes depend neither on workers nor on order.
    rng = np.random.default_rng([params.seed, zlib.crc32(_name_bytes(task.stem)), person.k])
    pair = crops.make_pair(frame, person.window, person.local_region, params.crop_size, params.fill, rng)
    full = Path(params.out, "full")
    atomic_write_bytes(full / "images" / task.split / f"{name}.png", _png_bytes(pair, name))
    save_box(full / "bbox" / task.split / f"{name}.json", person.local_region)
    mask_path = full / MASK_KIND[0] / task.split / f"{name}{MASK_KIND[1]}"
    if persons_mask is None:
        mask_path.unlink(missing_ok=True)  # from an earlier run whose frame had instance ids
    else:
        left, top = person.window
        window = persons_mask[top : top + params.crop_size, left : left + params.crop_size]
        atomic_write_bytes(mask_path, _png_bytes(window.astype(np.uint8) * 255, f"the person mask of {name}"))
    return name


def _tally(record: dict, persons: list[Person], others: Counter, task: FrameTask, size: tuple[int, int]) -> None:
    rejected = Counter(p.reason for p in persons if p.reason)
    if others:
        rejected["label"] = others.total()
    record["rejected"] = dict(sorted(rejected.items()))
    record["rejected_by_label"] = dict(sorted(others.items()))
    record["edge_fixed"] = sum(p.edge_fixed for p in persons)
    record["problems"] = [
        _problem(
            "outside_frame",
            task.annotation,
            f"person {p.k}: visible box {list(p.raw)} is partly outside the {size[0]}x{size[1]} frame, skipped",
        )
        if p.reason == "outside_frame"
        else _problem("bad_box", task.annotation, f"person {p.k}: visible box is not four finite numbers, skipped")
        for p in persons
        if p.reason in ("outside_frame", "bad_box")
    ]


def process_frame(task: FrameTask, params: FrameParams) -> dict:
    """Write the frame's crops, then its marker; return the marker (crops kept, rejections, problems)."""
    record = {
        "stem": task.stem,
        "split": task.split,
        "annotated": 0,
        "kept": [],
        "rejected": {},
        "rejected_by_label": {},
        "edge_fixed": 0,
        "problems": [],
    }
    try:
        objects, declared = read_annotation(task.annotation)
        record["annotated"] = len(objects)
        size = probe_image(task.image)
        _check_size(task.image, size, declared, params)
        persons, others = judge_frame(objects, size[0], size[1], params, task.excluded)
        kept = [p for p in persons if p.reason is None]
        if kept:  # decoding is the slow part, and most frames keep nobody
            frame = _decode(task.image, size)
            persons_mask = _person_mask(task.instances, size)
            record["kept"] = [_write_crop(frame, persons_mask, task, p, params) for p in kept]
            record["person_masks"] = persons_mask is not None
        _tally(record, persons, others, task, size)
    except FrameError as exc:
        record["problems"] = [exc.problem]
        record["rejected"] = {"bad_frame": record["annotated"]} if record["annotated"] else {}
    atomic_write_bytes(Path(params.out, ".progress", "frames", f"{task.stem}.json"), _json_bytes(record))
    return record


# -------------------- orchestration


def _frame_params(config: PreprocessConfig) -> FrameParams:
    return FrameParams(
        str(Path(config.out)),
        tuple(config.labels),
        config.overlap_iou,
        config.limits,
        config.fill,
        config.box_convention,
        config.crop_size,
        config.frame_size,
        config.seed,
    )


def _name_bytes(name: str) -> bytes:
    """A file name's bytes on disk (a name that is not valid UTF-8 is kept by Python as surrogate escapes)."""
    return name.encode("utf-8", "surrogateescape")


def _list_bytes(stems: list[str]) -> bytes:
    return _name_bytes("".join(f"{s}\n" for s in stems))


def _resume_state(config: PreprocessConfig, assignment: dict[str, list[str]]) -> dict:
    """What finished frames depend on; a rerun resumes only while this is unchanged (--subset may change)."""
    params = asdict(_frame_params(config))
    del params["out"]
    params["png_compression"] = PNG_COMPRESSION
    params["exclude_list_sha256"] = _sha256(Path(config.exclude_list)) if config.exclude_list else None
    splits = {name: hashlib.sha256(_list_bytes(stems)).hexdigest() for name, stems in assignment.items()}
    return json.loads(json.dumps({"frame_parameters": params, "split_sha256": splits}))


def owned_files(out: Path) -> set[Path]:
    """Every file this command wrote into ``out``, as its progress markers say (each names its frame's crops)."""
    owned = {out / "manifest.json", out / ".progress" / "params.json", *(out / "splits" / f"{s}.txt" for s in SPLITS)}
    for marker in (out / ".progress" / "frames").glob("*.json"):
        owned.add(marker)
        try:
            record = json.loads(marker.read_text())
            split, names = str(record["split"]), [str(n) for n in record["kept"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        published = (split, "val5") if split == "val" else (split,)
        for name in names:
            for kind, ext in (*CROP_KINDS, MASK_KIND):  # a mask named after one of its crops is ours too
                owned.add(out / "full" / kind / split / f"{name}{ext}")
                owned.update(out / kind / folder / f"{name}{ext}" for folder in published)
    return owned


def _crop_kinds(record: dict) -> tuple[tuple[str, str], ...]:
    """The files each crop of a frame's marker has: image and box, and the person mask when the frame had one."""
    return (*CROP_KINDS, MASK_KIND) if record.get("person_masks") else CROP_KINDS


def _dataset_files(out: Path) -> list[Path]:
    return sorted(p for folder in DATASET_FOLDERS for p in (out / folder).rglob("*") if p.is_file())


def _is_leftover(path: Path) -> bool:
    """A temporary file of util.fileio.atomic_write left by a killed run (``.<name>.<random>.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _remove_owned(out: Path, owned: set[Path]) -> None:
    """--overwrite: delete this command's files and leftovers, then the folders that are left empty."""
    for path in _dataset_files(out):
        if path in owned or _is_leftover(path):
            path.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
    for folder in DATASET_FOLDERS:
        for current, _, _ in sorted(os.walk(out / folder), key=lambda entry: -len(entry[0])):
            if not os.listdir(current):
                os.rmdir(current)


def _prepare_out(out: Path, state: dict, overwrite: bool) -> None:
    """Start fresh, resume, or refuse: never mix outputs made with different parameters, never delete or mix in
    a file this command did not write."""
    state_file = out / ".progress" / "params.json"
    owned = owned_files(out)
    foreign = [p for p in _dataset_files(out) if p not in owned and not _is_leftover(p)]
    if foreign:
        raise PreprocessError(
            f"{out} holds {len(foreign)} file(s) in its dataset folders ({', '.join(DATASET_FOLDERS)}) that this "
            f"command did not write, e.g. {foreign[0]}; they are never deleted or mixed in: remove them or choose "
            "another --out"
        )
    if overwrite:
        _remove_owned(out, owned)
    elif state_file.is_file():
        old = json.loads(state_file.read_text())
        if old != state:
            changed = [
                f"{group}.{key}"
                for group in state
                for key in state[group].keys() | old.get(group, {}).keys()
                if state[group].get(key) != old.get(group, {}).get(key)
            ]
            raise PreprocessError(
                f"{out} was made with other options ({', '.join(sorted(changed))}); rerun with the "
                "same options to resume, or add --overwrite to start again"
            )
    elif out.is_dir() and any(out.iterdir()):
        raise PreprocessError(
            f"{out} is not empty and holds no dataset made by this command; choose another --out or add --overwrite"
        )
    (out / ".progress" / "frames").mkdir(parents=True, exist_ok=True)
    for stale in filter(_is_leftover, _dataset_files(out)):  # left by an interrupted run
        stale.unlink()
    atomic_write_bytes(state_file, _json_bytes(state))


def _finished(out: Path, task: FrameTask) -> dict | None:
    """The frame's marker if its work is complete: marker present, every crop it lists on disk, and no
    unusable input (a rerun retries those frames, so fixing a broken file and rerunning picks it up)."""
    try:
        record = json.loads((out / ".progress" / "frames" / f"{task.stem}.json").read_text())
    except (OSError, ValueError):
        return None
    full = out / "full"
    unusable = any(p["kind"] in FRAME_PROBLEMS for p in record["problems"])
    complete = (
        not unusable
        and record.get("split") == task.split
        and (not record["kept"] or bool(record.get("person_masks")) == (task.instances is not None))
        and all((full / kind / task.split / f"{n}{ext}").is_file() for n in record["kept"] for kind, ext in
                _crop_kinds(record))
    )
    return record if complete else None


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one frame per process; OpenCV's own threads would only compete


def run_frames(tasks: list[FrameTask], params: FrameParams, workers: int) -> Iterator[dict]:
    """Process frames in this process (workers=1) or in a spawn pool; records arrive in completion order."""
    if workers == 1 or len(tasks) < 2:
        for task in tasks:
            yield process_frame(task, params)
        return
    with multiprocessing.get_context("spawn").Pool(min(workers, len(tasks)), initializer=_init_worker) as pool:
        yield from pool.imap_unordered(partial(process_frame, params=params), tasks)


def select_subset(names: list[str], n: int | None, seed: int, split: str) -> list[str]:
    """A seeded choice of n crops (all when n is None or too large), sorted; independent per split."""
    names = sorted(names)
    if n is None or n >= len(names):
        return names
    rng = np.random.default_rng([seed, _SUBSET_STREAM, zlib.crc32(split.encode())])
    return sorted(names[i] for i in rng.permutation(len(names))[:n])


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # no second copy of the pixels
    except OSError:
        shutil.copyfile(src, dst)


def _publish(out: Path, split: str, source: str, names: list[str], owned: set[Path]) -> None:
    """Rebuild images/<split>, bbox/<split> and person_mask/<split> from the crops in full/<source> (only this
    command's files are replaced or removed; a crop without a mask publishes none)."""
    for kind, ext in (*CROP_KINDS, MASK_KIND):
        sources = {name: out / "full" / kind / source / f"{name}{ext}" for name in names}
        if kind == MASK_KIND[0]:
            sources = {name: path for name, path in sources.items() if path.is_file()}
        dest = out / kind / split
        if kind != MASK_KIND[0] or sources:
            dest.mkdir(parents=True, exist_ok=True)
        for path in dest.iterdir() if dest.is_dir() else ():
            if path in owned:
                path.unlink()
        for name, path in sources.items():
            _link(path, dest / f"{name}{ext}")


def _counts(records: list[dict]) -> dict:
    by_label: Counter = Counter()
    rejected: Counter = Counter()
    for record in records:
        by_label.update(record["rejected_by_label"])
        rejected.update(record["rejected"])
    return {
        "frames": len(records),
        "frames_with_problems": sum(1 for r in records if r["problems"]),
        "annotated": sum(r["annotated"] for r in records),
        "kept": sum(len(r["kept"]) for r in records),
        "rejected": {reason: rejected[reason] for reason in REASONS},
        "rejected_by_label": dict(sorted(by_label.items())),
        "edge_fixed": sum(r["edge_fixed"] for r in records),
    }


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("a-gan")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.M) if pyproject.is_file() else None
        return found.group(1) if found else "unknown"


def _git_describe() -> str | None:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def software_versions() -> dict:
    """Versions that decide the output bytes (OpenCV's zlib for the PNGs, numpy's generator for the noise)."""
    return {
        "a-gan": _package_version(),
        "git": _git_describe(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pillow": PIL.__version__,
    }


def _parameters(config: PreprocessConfig) -> dict:
    """Every option that shapes the dataset (the run's own options go to the manifest's "run")."""
    params = json.loads(json.dumps(asdict(config)))
    for run_option in ("workers", "overwrite", "quiet"):
        del params[run_option]
    params["cityscapes_root"] = str(Path(config.cityscapes_root).resolve())
    params["out"] = str(Path(config.out).resolve())
    params["split"] = config.split if config.split or config.split_lists else DEFAULT_SPLIT
    if config.exclude_list:
        params["exclude_list_sha256"] = _sha256(Path(config.exclude_list))
    return params


def _default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _plan(config: PreprocessConfig, frames: dict[str, Frame], problems: list[dict]) -> tuple[dict, list]:
    """The split (frame stems per split) and one task per frame; adds the split's problems."""
    if not frames:
        raise PreprocessError(
            f"no frame with both an image and a CityPersons annotation under {config.cityscapes_root}"
        )
    assignment, split_problems = assign_splits(config, frames)
    problems += split_problems
    unknown = set(config.subset) - set(assignment)
    if unknown:
        raise PreprocessError(f"--subset names split(s) {sorted(unknown)} that the split does not have")
    exclude = read_exclude_list(Path(config.exclude_list)) if config.exclude_list else {}
    tasks = [
        FrameTask(s, name, frames[s].image, frames[s].annotation, tuple(sorted(exclude.get(s, ()))),
                  frames[s].instances)
        for name, stems in assignment.items()
        for s in stems
    ]
    return assignment, sorted(tasks, key=lambda t: t.stem)


def _write_splits(out: Path, assignment: dict[str, list[str]]) -> None:
    for name, stems in assignment.items():
        atomic_write_bytes(out / "splits" / f"{name}.txt", _list_bytes(stems))
        for kind, _ in CROP_KINDS:
            (out / "full" / kind / name).mkdir(parents=True, exist_ok=True)


def _process(out: Path, config: PreprocessConfig, tasks: list[FrameTask], workers: int) -> tuple[dict, int]:
    """Every frame's record by stem (finished ones read back, the others processed now); how many were new."""
    records = {t.stem: r for t in tasks if (r := _finished(out, t)) is not None}
    todo = [t for t in tasks if t.stem not in records]
    frames = run_frames(todo, _frame_params(config), workers)
    for record in progress_bar(frames, total=len(todo), desc="frames", quiet=config.quiet, unit="frame"):
        for problem in record["problems"]:
            _warn(problem)
        records[record["stem"]] = record
    return records, len(todo)


def build_dataset(config: PreprocessConfig, command: str | None = None) -> dict:
    """Make (or finish) the dataset described by ``config``; return the manifest (also in manifest.json)."""
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
    config.check()
    out = Path(config.out)
    layout, frames, problems = discover_frames(
        Path(config.cityscapes_root), tuple(config.source_splits), tuple(config.exclude_cities)
    )
    assignment, tasks = _plan(config, frames, problems)
    for problem in problems:
        _warn(problem)
    _prepare_out(out, _resume_state(config, assignment), config.overwrite)
    _write_splits(out, assignment)
    workers = config.workers or _default_workers()
    records, processed = _process(out, config, tasks, workers)

    published = _assemble(out, config, assignment, records)
    problems += [p for stem in sorted(records) for p in records[stem]["problems"]]
    manifest = {
        "command": command,
        "software": software_versions(),
        "seed": config.seed,
        "parameters": _parameters(config),
        "input": {
            "layout": layout,
            "frames_found": len(frames),
            "frames_unassigned": len(frames) - len(tasks),
        },
        **published,
        "problems": {"counts": dict(sorted(Counter(p["kind"] for p in problems).items())), "items": problems},
        "run": {
            "started": started,
            "elapsed_s": round(time.perf_counter() - clock, 3),
            "workers": workers,
            "overwrite": config.overwrite,
            "frames_processed": processed,
            "frames_resumed": len(tasks) - processed,
        },
    }
    atomic_write_bytes(out / "manifest.json", _json_bytes(manifest))
    if not config.quiet:
        _print_summary(manifest, out)
    return manifest


def _assemble(out: Path, config: PreprocessConfig, assignment: dict[str, list[str]], records: dict) -> dict:
    """Publish the training layout (subset, val5) from the finished frames; return the manifest's counts."""
    splits, subset, counts = {}, {}, {}
    owned = owned_files(out)
    for name, stems in assignment.items():
        split_records = [records[s] for s in stems]
        kept = [n for r in split_records for n in r["kept"]]
        chosen = select_subset(kept, config.subset.get(name), config.seed, name)
        if config.subset.get(name, 0) > len(kept):
            tqdm.write(
                f"warning: --subset {name}={config.subset[name]} but only {len(kept)} crops kept; all written",
                file=sys.stderr,
            )
        _publish(out, name, name, chosen, owned)
        splits[name] = {
            "frames": len(stems),
            "list": f"splits/{name}.txt",
            "sha256": _sha256(out / "splits" / f"{name}.txt"),
        }
        subset[name] = {"requested": config.subset.get(name), "available": len(kept), "written": len(chosen)}
        counts[name] = {**_counts(split_records), "written": len(chosen)}
        if name == "val" and config.n_val_vis:
            val5 = chosen[: config.n_val_vis]
            _publish(out, "val5", "val", val5, owned)
            counts["val5"] = {"written": len(val5), "crops": val5}
    counts["total"] = {
        **_counts(list(records.values())),
        "written": sum(s["written"] for s in subset.values()),
    }
    return {"splits": splits, "subset": subset, "counts": counts}


def _print_summary(manifest: dict, out: Path) -> None:
    for name, c in manifest["counts"].items():
        if "annotated" in c:
            rejected = ", ".join(f"{k} {v}" for k, v in c["rejected"].items() if v)
            print(
                f"{name:>5}: {c['frames']} frames, {c['annotated']} annotated, {c['kept']} kept, "
                f"{c['written']} written (rejected: {rejected or 'none'})"
            )
    if manifest["problems"]["items"]:
        print(f"problems: {manifest['problems']['counts']} (listed in the manifest)")
    print(f"dataset in {out}; manifest {out / 'manifest.json'}")


# -------------------- CLI


def _csv(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _named_numbers(text: str, cast: Callable[[str], int | float]) -> dict:
    out = {}
    for item in _csv(text):
        name, sep, value = item.partition("=")
        try:
            number = cast(value)
        except ValueError:
            number = None
        if not sep or number is None or not math.isfinite(number) or number <= 0 or name.strip() in out:
            raise argparse.ArgumentTypeError(f"'{item}' is not name=positive number (names once each)")
        out[name.strip()] = number
    if not out:
        raise argparse.ArgumentTypeError("expected name=value[,name=value...]")
    return out


def _count_or_fraction(text: str) -> int | float:
    return int(text) if text.strip().isdigit() else float(text)


def _split_arg(text: str) -> dict[str, int | float]:
    return _named_numbers(text, _count_or_fraction)


def _subset_arg(text: str) -> dict[str, int]:
    return _named_numbers(text, int)


def _frame_size_arg(text: str) -> tuple[int, int] | None:
    if text == "any":
        return None
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or 0 in (int(match[1]), int(match[2])):
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT (e.g. 2048x1024) or 'any'")
    return int(match[1]), int(match[2])


def _overlap_arg(text: str) -> float | None:
    if text == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("expected an IoU in (0, 1], or 'none' to keep overlapping people")
    return value


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    d = PreprocessConfig("", "")
    p = argparse.ArgumentParser(
        prog="python -m data_preprocessing.cityscapes",
        description="Turn Cityscapes frames + CityPersons boxes into A-GAN training crops "
        "(DATAROOT/images/<split>/*.png: clean | box filled; DATAROOT/bbox/<split>/*.json), reproducibly. "
        "Rerun the same command to finish an interrupted run.",
    )
    g = p.add_argument_group("input and output")
    g.add_argument(
        "--cityscapes_root",
        required=True,
        help="folder with leftImg8bit/<split>/<city>/ + gtBboxCityPersons/<split>/<city>/, or the "
        "notebooks' flat images/<city>/ + bboxes/<city>/",
    )
    g.add_argument("--out", required=True, help="dataset root to write (DATAROOT); rerun to resume")
    g.add_argument(
        "--source_splits",
        type=_csv,
        default="train,val",
        help="official-layout splits to pool (default %(default)s; the Cityscapes test split has no boxes)",
    )
    g.add_argument("--exclude_cities", type=_csv, default="demo,test", help="city folders to ignore (%(default)s)")
    g.add_argument(
        "--frame_size",
        type=_frame_size_arg,
        default="2048x1024",
        help="expected frame size WxH (default %(default)s); others are reported, skipped; 'any' takes all",
    )
    g.add_argument("--overwrite", action="store_true", help="delete this command's earlier output in --out first")
    g = p.add_argument_group("split")
    g.add_argument(
        "--split",
        type=_split_arg,
        default=None,
        help="frames per split, as counts (train=2475,val=500,test=500) or as fractions with a decimal "
        "point (default train=0.7,val=0.15,test=0.15; train=1.0 puts every frame in train)",
    )
    g.add_argument(
        "--split_lists",
        default=None,
        help="folder with {train,val,test}.txt (one frame per line) to reproduce an existing split",
    )
    g.add_argument("--seed", type=_int_at_least(0), default=d.seed, help="seed of split, noise, subset (%(default)s)")
    g = p.add_argument_group("person filters (the thesis's defaults)")
    g.add_argument("--labels", type=_csv, default="pedestrian", help="CityPersons labels to crop (%(default)s)")
    g.add_argument(
        "--overlap_iou",
        type=_overlap_arg,
        default=d.overlap_iou,
        help="drop both persons of a pair with inclusive IoU >= this (default %(default)s); 'none' disables",
    )
    g.add_argument(
        "--exclude_list",
        default=None,
        help="text file of persons to drop, one <city>_<seq>_<frame>_<k> per line (e.g. the thesis's overlap list)",
    )
    for flag in ("min_width", "max_width", "min_height", "max_height"):
        g.add_argument(
            f"--{flag}",
            type=_int_at_least(1),
            default=getattr(d, flag),
            help="visible box limit in frame pixels, inclusive (%(default)s)",
        )
    g = p.add_argument_group("crops")
    g.add_argument("--crop_size", type=_int_at_least(1), default=d.crop_size, help="crop side (%(default)s)")
    g.add_argument(
        "--fill",
        choices=PIXEL_FILLS,
        default=d.fill,
        help="box fill: per-pixel noise from {0,127,255} (seeded) or solid grey 127 (default %(default)s)",
    )
    g.add_argument(
        "--box_convention",
        choices=crops.CONVENTIONS,
        default=d.box_convention,
        help="inclusive (default): fill (w+1)x(h+1) px and x2 = x1+w+1, as the thesis; exact: w x h px, x2 = x1+w",
    )
    g.add_argument(
        "--subset",
        type=_subset_arg,
        default={},
        help="write a seeded subset of crops per split, e.g. train=1200,val=120 (the thesis)",
    )
    g.add_argument(
        "--n_val_vis",
        type=_int_at_least(0),
        default=d.n_val_vis,
        help="the first N val crops are also written as the val5 split (%(default)s)",
    )
    g = p.add_argument_group("run")
    g.add_argument("--workers", type=_int_at_least(1), default=None, help="processes (default: all usable cores)")
    g.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    printable_paths()
    parser = build_parser()
    args = parser.parse_args(argv)
    config = PreprocessConfig(**vars(args))
    command = shlex.join(["python", "-m", "data_preprocessing.cityscapes", *(sys.argv[1:] if argv is None else argv)])
    try:
        build_dataset(config, command=command)
    except PreprocessError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a read-only --out
        print(f"{parser.prog}: error: {os_error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to finish the dataset", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    from data_preprocessing.cityscapes import main as _main  # so workers unpickle the module's own classes

    sys.exit(_main())
