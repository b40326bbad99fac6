"""Synthetic street frames with person boxes, in the official Cityscapes / CityPersons layout.

Stands in for Cityscapes (which needs a registration) so the whole pipeline can run out of the box::

    python -m synthetic.make_demo_data --out demo_data/cityscapes --frames 60 --seed 0
    python -m synthetic.make_demo_data --out /tmp/tiny --frames 6 --size 512x256 --quiet
    python -m synthetic.make_demo_data --out /tmp/d --frames 8 \
        --contact_sheet docs/images/demo_contact_sheet.png

Output under ``--out``:

* ``leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png`` -- street frames: road
  with lane markings and zebra crossings in perspective (or a paved pedestrian zone), sidewalks, facades
  with windows and shops, sky, parked and moving cars, lamps, trees, signs, bins, planters, benches,
  advertising pillars, the ego-vehicle bonnet, and a per-frame time of day.
* ``gtBboxCityPersons/<split>/<city>/<city>_<seq>_<frame>_gtBboxCityPersons.json`` -- CityPersons
  schema ``{"imgHeight", "imgWidth", "objects": [{"instanceId", "bbox", "bboxVis", "label"}]}``, boxes
  ``[x, y, w, h]`` in integer pixels.  Labels: ``pedestrian``, ``rider`` (full-body ``bbox`` plus visible
  ``bboxVis``), ``sitting person``, ``person (other)`` (crouching people), ``person group`` (3-5 people
  standing close together) and ``ignore`` (distant crowds, people on posters, reflections in shop
  windows).  As in CityPersons, only pedestrians and riders get a separate full-body box; for the other
  labels ``bbox == bboxVis``.
  ``bbox`` is the tight box of everything drawn for the person inside the frame, including the parts hidden
  behind nearer objects; ``bboxVis`` is the tight box of the pixels still showing.  Instance ids are
  ``24000 + k`` (``25000 + k`` for riders), unique within a frame.
* ``gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png`` -- Cityscapes instance ids of the people
  (16-bit, ``data.instance_ids``): each annotated person's visible pixels carry its ``instanceId``, those of
  groups, ignore regions and hidden people the bare class id 24; every other pixel is 0 (only people are
  labelled).
* ``identities.json`` -- ``{"version": 1, "frames": {"<city>_<seq>_<frame>": {"<instanceId>": identity}},
  "identities": {"<identity>": {"split", "frames", appearance...}}}`` for every individual person (not groups,
  not ignore regions).  Each split has its own pool of identities (height, build, skin, hair, clothing,
  bag); a frame shows each identity at most once, so identities recur across frames of the same split in
  new poses and positions -- true same-person pairs for anonymity evaluation. ``--appearances_per_identity R``
  (default 3) sizes the pools so an identity appears in about R frames: re-ID training data wants more.
* ``demo_manifest.json`` -- seed, size, frames per split, persons per label, and how many pedestrians pass
  the default crop filter of ``data_preprocessing.cityscapes`` (visible box 40-100 x 120-250 px scaled to
  the frame height, no IoU >= 0.1 with another pedestrian).

Deliberate annotation quirk: real CityPersons boxes occasionally end a few pixels past the right image border.
To exercise the downstream "annotation edge fix", every frame with global index ``i % 20 == 10`` places a
pedestrian cut by the right border and widens its ``bbox`` (and its ``bboxVis`` when that also reaches the
border) by 1-3 px, so ``x + w`` exceeds ``imgWidth``.  All other boxes lie inside the image.

Everything scales with ``--size`` (people, cars and buildings are placed in metres and projected).  Output is
deterministic: the same seed and arguments give byte-identical files (per-frame generators seeded with
``[seed, frame_index]``, fixed PNG settings, sorted JSON), whatever ``--workers`` is.  Files are written
atomically; frames of an earlier, larger run in the same ``--out`` are removed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from data.boxes import box_to_xywh, overlapping
from data.citypersons import (
    ANNOTATION_SUFFIX,
    IMAGE_SUFFIX,
    CityPerson,
    CityPersonsFrame,
    frame_key,
    read_citypersons,
    write_citypersons,
)
from data.instance_ids import INSTANCE_SUFFIX, PERSON_CLASS_IDS, instance_ids_bytes, instance_ids_path
from synthetic.frame import LABELS, Annotated, plan_frame, render_frame
from synthetic.person import Appearance, sample_appearance
from util.fileio import atomic_write_bytes
from util.image_files import read_rgb

# The command that wrote a dataset, as its demo_manifest.json names it (evaluation recognises demo data by it).
GENERATOR = "synthetic.make_demo_data"
SPLITS = ("train", "val", "test")
# invented town names, disjoint per split like the real Cityscapes cities
CITIES = {
    "train": ("altenbrook", "bergfeld", "kirchwald", "lindenhof"),
    "val": ("marnstadt", "rosenau"),
    "test": ("sonnental", "wiesbruck"),
}
DEFAULT_FRAMES = 60
DEFAULT_SIZE = (2048, 1024)
DEFAULT_APPEARANCES = 3.0  # average appearances of one identity in its split
PNG_LEVEL = 3
EDGE_CASE_PERIOD = 20
# default crop filter of data_preprocessing.cityscapes, in pixels of a 1024-pixel-high frame
CROP_W = (40, 100)
CROP_H = (120, 250)
CROP_IOU = 0.1
NAME_RE = re.compile(r"^(?P<city>[a-z]+)_(?P<seq>\d{6})_(?P<frame>\d{6})$")


# --- splits, names, identities --------------------------------------------------------------------
def split_counts(frames: int) -> dict[str, int]:
    """About 70/15/15 train/val/test, at least one frame per split once there are three."""
    if frames < 3:
        return {"train": frames, "val": 0, "test": 0} if frames < 2 else {"train": 1, "val": 1, "test": 0}
    val = max(1, int(math.floor(0.15 * frames + 0.5)))
    test = max(1, int(math.floor(0.15 * frames + 0.5)))
    return {"train": frames - val - test, "val": val, "test": test}


def frame_specs(frames: int) -> list[dict]:
    """One spec per frame in global order (train, val, test): split, city, name, global index."""
    specs, index = [], 0
    for split, n in split_counts(frames).items():
        cities = CITIES[split]
        for k in range(n):
            city = cities[k % len(cities)]
            seq = (k // len(cities)) * 3 + (
                index % 3
            )  # a few gaps, like the sparse Cityscapes sequence numbers
            specs.append({"split": split, "city": city, "name": f"{city}_{seq:06d}_000019", "index": index})
            index += 1
    return specs


def identity_pools(seed: int, counts: dict[str, int], appearances: float = DEFAULT_APPEARANCES
                   ) -> dict[str, list[Appearance]]:
    """Per-split identity pools, sized so an identity shows up about ``appearances`` times on average (about 12
    individuals per frame)."""
    pools: dict[str, list[Appearance]] = {}
    next_id = 1
    for s, split in enumerate(SPLITS):
        n = counts[split]
        if n == 0:
            pools[split] = []
            continue
        size = max(20, math.ceil(n * 12 / appearances))
        rng = np.random.default_rng([seed, 1_000_003, s])
        pools[split] = [sample_appearance(rng, next_id + i) for i in range(size)]
        next_id += size
    return pools


# --- file writing ---------------------------------------------------------------------------------
def json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2) + "\n").encode("utf-8")


def png_bytes(rgb: np.ndarray, level: int = PNG_LEVEL) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, level])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def image_path(root: Path, spec: dict) -> Path:
    return root / "leftImg8bit" / spec["split"] / spec["city"] / f"{spec['name']}{IMAGE_SUFFIX}"


def instances_path(root: Path, spec: dict) -> Path:
    return instance_ids_path(root, spec["split"], spec["city"], spec["name"])


def annotation_path(root: Path, spec: dict) -> Path:
    return (
        root / "gtBboxCityPersons" / spec["split"] / spec["city"] / f"{spec['name']}{ANNOTATION_SUFFIX}"
    )


# --- one frame ------------------------------------------------------------------------------------
def _xywh(box: tuple[int, int, int, int]) -> list[int]:
    """CityPersons [x, y, w, h] (w, h in pixels) of a box given by its first and last pixel."""
    x0, y0, x1, y1 = box
    return [int(v) for v in box_to_xywh((x0, y0, x1 + 1, y1 + 1), inclusive=False)]


def build_objects(anns: list[Annotated], width: int, edge_extra: int) -> tuple[list[CityPerson], dict[str, int]]:
    """CityPersons objects, one per annotation in the given order (left to right), and the instanceId -> identity
    map."""
    objects, ids = [], {}
    widened = edge_extra <= 0
    for k, a in enumerate(anns):
        bbox, vis = _xywh(a.box), _xywh(a.vis)
        if not widened and a.label == "pedestrian" and bbox[0] + bbox[2] == width:
            bbox[2] += edge_extra  # the documented CityPersons-style overshoot past the right border
            if vis[0] + vis[2] == width:
                vis[2] += edge_extra
            widened = True
        iid = (25000 if a.label == "rider" else 24000) + k
        objects.append(CityPerson(a.label, tuple(bbox), tuple(vis), iid))
        if a.identity is not None:
            ids[str(iid)] = int(a.identity)
    return objects, ids


def instance_ids(person_map: np.ndarray, anns: list[Annotated], objects: list[CityPerson]) -> np.ndarray:
    """The Cityscapes instance-id map (data.instance_ids): each annotated person's pixels carry its instanceId
    (``objects`` are build_objects' of ``anns``), the other people's (groups, ignore regions, hidden ones) the bare
    person class, every other pixel 0."""
    ids = np.where(person_map > 0, PERSON_CLASS_IDS[0], 0).astype(np.uint16)
    for ann, obj in zip(anns, objects, strict=True):
        if ann.owner_id is not None:
            ids[person_map == ann.owner_id] = obj.instance_id
    return ids


def make_frame(
    spec: dict, seed: int, size: tuple[int, int], pool: list[Appearance]
) -> tuple[np.ndarray, CityPersonsFrame, dict, np.ndarray]:
    """Render one frame: (RGB image, CityPersons annotation, instanceId -> identity, instance-id map)."""
    width, height = size
    rng = np.random.default_rng([seed, spec["index"]])
    edge = spec["index"] % EDGE_CASE_PERIOD == EDGE_CASE_PERIOD // 2
    plan = plan_frame(rng, width, height, pool, edge_case=edge)
    img, anns, person_map = render_frame(plan, rng)
    anns = sorted(anns, key=lambda ann: (ann.vis[0], ann.vis[1], ann.label))  # CityPersons objects left to right
    extra = int(rng.integers(1, 4)) if edge else 0
    objects, ids = build_objects(anns, width, extra)
    return img, CityPersonsFrame(objects, (width, height)), ids, instance_ids(person_map, anns, objects)


def _frame_job(args: tuple) -> dict:
    root, spec, seed, size, pool = args
    img, ann, ids, instances = make_frame(spec, seed, size, pool)
    atomic_write_bytes(image_path(Path(root), spec), png_bytes(img))
    write_citypersons(annotation_path(Path(root), spec), ann)
    atomic_write_bytes(instances_path(Path(root), spec), instance_ids_bytes(instances))
    return {
        "spec": spec,
        "ids": ids,
        "labels": [o.label for o in ann.objects],
        "usable": usable_pedestrians(ann.objects, size[1]),
    }


# --- statistics -----------------------------------------------------------------------------------
def usable_pedestrians(objects: list[CityPerson], height: int) -> int:
    """Pedestrians the default crop filter would keep (sizes scaled from a 1024-high frame)."""
    s = height / 1024.0
    boxes = [o.bbox_vis for o in objects if o.label == "pedestrian"]
    bad = overlapping(boxes, CROP_IOU)
    return sum(
        1
        for i, (_, _, w, h) in enumerate(boxes)
        if i not in bad and CROP_W[0] * s <= w <= CROP_W[1] * s and CROP_H[0] * s <= h <= CROP_H[1] * s
    )


# --- dataset --------------------------------------------------------------------------------------
def _remove_stale(root: Path, keep: set[Path]) -> None:
    """Delete frames of an earlier, larger run (only files named like ours) so the tree matches this run."""
    for sub, suffix in (
        ("leftImg8bit", IMAGE_SUFFIX),
        ("gtBboxCityPersons", ANNOTATION_SUFFIX),
        ("gtFine", INSTANCE_SUFFIX),
    ):
        base = root / sub
        if not base.is_dir():
            continue
        for p in sorted(base.glob(f"*/*/*{suffix}")):
            if p not in keep and p.parent.parent.name in SPLITS and NAME_RE.match(p.name[: -len(suffix)]):
                p.unlink()


def _jobs(root: Path, specs: list[dict], seed: int, size: tuple[int, int], pools: dict) -> Iterator[tuple]:
    for spec in specs:
        yield (str(root), spec, seed, size, pools[spec["split"]])


def generate_dataset(
    out_dir: str | os.PathLike,
    frames: int = DEFAULT_FRAMES,
    seed: int = 0,
    size: tuple[int, int] = DEFAULT_SIZE,
    workers: int = 1,
    quiet: bool = True,
    appearances: float = DEFAULT_APPEARANCES,
) -> dict:
    """Write the whole dataset under ``out_dir``; returns the manifest (also in demo_manifest.json)."""
    if frames < 1:
        raise ValueError("frames must be >= 1")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    counts = split_counts(frames)
    specs = frame_specs(frames)
    pools = identity_pools(seed, counts, appearances)
    _remove_stale(root, {path(root, s) for s in specs for path in (image_path, annotation_path, instances_path)})
    t0 = time.perf_counter()
    results = []
    jobs = _jobs(root, specs, seed, size, pools)
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for r in pool.imap(_frame_job, jobs):
                results.append(_progress(r, len(results), frames, t0, quiet))
    else:
        for job in jobs:
            results.append(_progress(_frame_job(job), len(results), frames, t0, quiet))
    return _write_index(root, results, seed, size, counts, pools, appearances)


def _progress(r: dict, done: int, total: int, t0: float, quiet: bool) -> dict:
    if not quiet:
        el = time.perf_counter() - t0
        print(
            f"[{done + 1}/{total}] {r['spec']['split']}/{r['spec']['name']}: {len(r['labels'])} boxes, "
            f"{r['usable']} crop-ready pedestrians ({el:.1f}s)",
            flush=True,
        )
    return r


def _write_index(
    root: Path, results: list[dict], seed: int, size: tuple[int, int], counts: dict, pools: dict,
    appearances: float,
) -> dict:
    frames_map: dict[str, dict[str, int]] = {}
    seen: Counter = Counter()
    labels: Counter = Counter()
    for r in results:
        frames_map[r["spec"]["name"]] = r["ids"]
        seen.update(r["ids"].values())
        labels.update(r["labels"])
    idents = {}
    for split, pool in pools.items():
        for app in pool:
            if seen[app.identity]:
                idents[str(app.identity)] = {"split": split, "frames": seen[app.identity], **app.describe()}
    atomic_write_bytes(
        root / "identities.json", json_bytes({"version": 1, "frames": frames_map, "identities": idents})
    )
    usable = [r["usable"] for r in results]
    manifest = {
        "generator": GENERATOR,
        "version": 1,
        "seed": seed,
        "size": {"width": size[0], "height": size[1]},
        "frames": counts,
        "total_frames": len(results),
        "persons": {label: labels.get(label, 0) for label in LABELS},
        "identities": len(idents),
        "appearances_per_identity": appearances,
        "identities_in_2plus_frames": sum(1 for v in idents.values() if v["frames"] >= 2),
        "crop_ready_pedestrians": {
            "total": int(sum(usable)),
            "min_per_frame": int(min(usable)),
            "mean_per_frame": round(float(np.mean(usable)), 2),
        },
    }
    atomic_write_bytes(root / "demo_manifest.json", json_bytes(manifest))
    return manifest


# --- contact sheet --------------------------------------------------------------------------------
BOX_COLORS = {  # BGR
    "pedestrian": (60, 220, 60),
    "rider": (0, 160, 255),
    "sitting person": (255, 200, 0),
    "person (other)": (255, 0, 255),
    "person group": (255, 80, 40),
    "ignore": (160, 160, 160),
}


def list_frames(root: Path) -> list[tuple[Path, Path]]:
    """(image, annotation) pairs in split order, then by name."""
    out = []
    for split in SPLITS:
        for img in sorted((root / "leftImg8bit" / split).glob(f"*/*{IMAGE_SUFFIX}")):
            stem = frame_key(img.name)
            out.append(
                (img, root / "gtBboxCityPersons" / split / img.parent.name / f"{stem}{ANNOTATION_SUFFIX}")
            )
    return out


def make_contact_sheet(
    root: str | os.PathLike,
    out_path: str | os.PathLike,
    n: int = 4,
    width: int = 1024,
    all_labels: bool = False,
) -> Path:
    """Grid (2 columns) of ``n`` frames spread over the dataset, with pedestrian visible boxes drawn."""
    frames = list_frames(Path(root))
    if not frames:
        raise FileNotFoundError(f"no frames under {root}")
    picks = sorted({int(round(v)) for v in np.linspace(0, len(frames) - 1, min(n, len(frames)))})
    cols = 2 if len(picks) > 1 else 1
    tile_w = width // cols
    tiles = []
    for k in picks:
        img_p, ann_p = frames[k]
        img = cv2.cvtColor(read_rgb(img_p), cv2.COLOR_RGB2BGR)
        s = tile_w / img.shape[1]
        tile = cv2.resize(img, (tile_w, int(round(img.shape[0] * s))), interpolation=cv2.INTER_AREA)
        for o in read_citypersons(ann_p).objects:
            if o.label != "pedestrian" and not all_labels:
                continue
            x, y, w, h = (v * s for v in o.bbox_vis)
            cv2.rectangle(
                tile, (int(x), int(y)), (int(x + w), int(y + h)), BOX_COLORS[o.label], 1, cv2.LINE_AA
            )
        cv2.putText(
            tile,
            frame_key(img_p.name),
            (6, 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        tiles.append(tile)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)]
    sheet = np.vstack(rows)
    ok, buf = cv2.imencode(".png", sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    out = Path(out_path)
    atomic_write_bytes(out, buf.tobytes())
    return out


# --- CLI ------------------------------------------------------------------------------------------
def _size_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 2048x1024, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (64 <= w <= 8192 and 32 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {w}x{h} out of range (width 64..8192, height 32..8192)")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m synthetic.make_demo_data",
        description="Generate synthetic street frames with CityPersons-style person boxes "
        "(Cityscapes layout).",
    )
    p.add_argument(
        "--out", required=True, help="dataset root to write (leftImg8bit/, gtBboxCityPersons/, ...)"
    )
    p.add_argument(
        "--frames", type=int, default=DEFAULT_FRAMES, help="number of frames, split ~70/15/15 (default 60)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed + args = identical files")
    p.add_argument(
        "--size", type=_size_arg, default=DEFAULT_SIZE, metavar="WxH", help="frame size (default 2048x1024)"
    )
    p.add_argument("--workers", type=int, default=1, help="parallel processes (output does not depend on it)")
    p.add_argument(
        "--appearances_per_identity", type=float, default=DEFAULT_APPEARANCES, metavar="R",
        help="average frames an identity appears in (default 3; more makes re-ID training data)",
    )
    p.add_argument(
        "--contact_sheet", metavar="PATH", help="also write a PNG grid of 4 frames with pedestrian boxes"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error("--frames must be >= 1")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if not 1.0 <= args.appearances_per_identity <= 12.0:
        parser.error("--appearances_per_identity must lie in [1, 12]")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a directory")
    t0 = time.perf_counter()
    try:
        manifest = generate_dataset(out, args.frames, args.seed, args.size, args.workers, args.quiet,
                                    args.appearances_per_identity)
        if args.contact_sheet:
            make_contact_sheet(out, args.contact_sheet)
    except OSError as exc:
        parser.error(f"cannot write the dataset to {out}: {exc}")
    if not args.quiet:
        c = manifest["crop_ready_pedestrians"]
        print(
            f"wrote {manifest['total_frames']} frames {manifest['frames']} to {out} "
            f"in {time.perf_counter() - t0:.1f}s; "
            f"persons {manifest['persons']}; crop-ready pedestrians {c['total']} "
            f"(mean {c['mean_per_frame']}/frame)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
