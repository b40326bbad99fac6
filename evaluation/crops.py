"""Loading what the evaluation compares: dataset crops (clean halves + boxes), result images, identities.

Originals are the LEFT (clean) half of ``<dataroot>/images/<phase>/<stem>.png`` (the original
evaluation picked the noisy half: docs/differences_from_original.md#evaluation-halves); boxes come from
``<dataroot>/bbox/<phase>/<stem>.json`` (both schemas).
Result images are ``<results_dir>/images/<label>/<stem>_<label>.png`` as test.py writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from data.boxes import Box, load_box, scale_box, validate_box
from data.citypersons import CityPersonsError, annotation_files, read_citypersons
from synthetic.make_demo_data import GENERATOR
from util.image_files import read_rgb


class EvaluationInputError(ValueError):
    """Bad input to the evaluation; the message names the flag or file."""


@dataclass
class CropSet:
    """Samples of one dataset phase, in stem order: clean halves and their boxes."""

    phase: str
    stems: list[str]
    boxes: list[Box]
    clean: list[np.ndarray] = field(repr=False)


def load_phase(dataroot: Path, phase: str, stems: list[str] | None = None, flag: str = "--phase") -> CropSet:
    """Clean halves and boxes of ``phase`` (all samples, or the given stems in that order)."""
    image_dir, box_dir = dataroot / "images" / phase, dataroot / "bbox" / phase
    if not image_dir.is_dir():
        raise EvaluationInputError(f"{flag} {phase}: folder not found: {image_dir}")
    if stems is None:
        stems = sorted(p.stem for p in image_dir.glob("*.png"))
        if not stems:
            raise EvaluationInputError(f"{flag} {phase}: no PNG files in {image_dir}")
    boxes, clean = [], []
    for stem in stems:
        path = image_dir / f"{stem}.png"
        if not path.is_file():
            raise EvaluationInputError(f"--dataroot: {path} not found (a result image names sample {stem!r})")
        ab = read_rgb(path)
        half = ab[:, : ab.shape[1] // 2]
        json_path = box_dir / f"{stem}.json"
        boxes.append(validate_box(load_box(json_path), half.shape[1], half.shape[0], json_path))
        clean.append(np.ascontiguousarray(half))
    return CropSet(phase, list(stems), boxes, clean)


def at_size(crops: CropSet, width: int, height: int) -> CropSet:
    """The crop set at the results' resolution (test.py with a --load_size/--crop_size below the dataset's):
    images resized bicubically and boxes scaled outward, exactly as the data transforms do."""
    if not crops.clean or crops.clean[0].shape[:2] == (height, width):
        return crops
    old = (crops.clean[0].shape[1], crops.clean[0].shape[0])
    clean = [np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC))
             for image in crops.clean]
    boxes = [scale_box(box, old, (width, height)) for box in crops.boxes]
    return CropSet(crops.phase, crops.stems, boxes, clean)


def result_stems(results_dir: Path, label: str = "fake_B_display") -> list[str]:
    """Sample stems of a test.py results folder, from ``images/<label>/<stem>_<label>.png``."""
    folder = results_dir / "images" / label
    if not folder.is_dir():
        raise EvaluationInputError(f"--results_dir: {folder} not found (run test.py first, or make composites "
                                   "with python -m evaluation.composite)")
    suffix = f"_{label}.png"
    stems = sorted(p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}"))
    if len(stems) < 2:
        raise EvaluationInputError(f"--results_dir: {folder} holds {len(stems)} images; at least 2 are needed")
    return stems


def result_files(results_dir: Path, label: str, stems: list[str]) -> list[Path]:
    files = [results_dir / "images" / label / f"{stem}_{label}.png" for stem in stems]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise EvaluationInputError(f"--results_dir: {len(missing)} {label} images missing, e.g. {missing[0]}")
    return files


def load_results(results_dir: Path, label: str, stems: list[str]) -> list[np.ndarray]:
    return [read_rgb(path) for path in result_files(results_dir, label, stems)]


# ----------------------------------------------------------------------------------------------------
# Identities of crops (demo data: identities.json; Cityscapes has none)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EvaluationInputError(f"{path}: cannot be read ({error})") from None


def crop_identities(dataroot: Path, stems: list[str]) -> tuple[dict[str, int], str | None]:
    """Person identity of crops ``<frame>_<k>`` where known, and where it came from (None: no identities).

    The crops' manifest.json names the Cityscapes root and the labels that were cropped; crop k of a frame is the
    k-th object with such a label in the frame's gtBboxCityPersons JSON, and its instanceId maps to an identity
    in ``<root>/identities.json`` (written by the demo-data generator only).
    """
    manifest_path = dataroot / "manifest.json"
    if not manifest_path.is_file():
        return {}, None
    params = _read_json(manifest_path).get("parameters", {})
    root = Path(params.get("cityscapes_root", ""))
    identities_path = root / "identities.json"
    if not identities_path.is_file():
        return {}, None
    frames = _read_json(identities_path).get("frames", {})
    labels = set(params.get("labels", ["pedestrian"]))
    annotations = annotation_files(root / "gtBboxCityPersons")
    found: dict[str, int] = {}
    per_frame: dict[str, list[int]] = {}
    for stem in stems:
        frame, _, k = stem.rpartition("_")
        if not k.isdigit() or frame not in annotations or frame not in frames:
            continue
        if frame not in per_frame:
            try:
                objects = read_citypersons(annotations[frame]).objects
            except CityPersonsError as error:
                raise EvaluationInputError(str(error)) from None
            per_frame[frame] = [o.instance_id for o in objects if o.label in labels]
        instances = per_frame[frame]
        if int(k) < len(instances) and str(instances[int(k)]) in frames[frame]:
            found[stem] = int(frames[frame][str(instances[int(k)])])
    return found, str(identities_path)


# demo_manifest.json's "generator" of synthetic demo data (and its module before the synthetic package).
DEMO_GENERATORS = (GENERATOR, "data_preprocessing.make_demo_data")


def demo_data_seed(crop_dataroot: Path | None = None, frame_paths: tuple[Path | None, ...] = ()) -> int | None:
    """The make_demo_data seed when the evaluated data is synthetic demo data, else None.

    A crop dataset names its frames' root in manifest.json (``cityscapes_root``); frames and annotations lie
    below the root. The root is demo data when its ``demo_manifest.json`` was written by the generator.
    """
    roots = []
    if crop_dataroot is not None and (crop_dataroot / "manifest.json").is_file():
        params = _read_json(crop_dataroot / "manifest.json").get("parameters", {})
        if params.get("cityscapes_root"):
            roots.append(Path(params["cityscapes_root"]))
    for path in frame_paths:
        if path is not None:
            roots += [path, *path.resolve().parents]
    for root in roots:
        manifest = root / "demo_manifest.json"
        if manifest.is_file():
            data = _read_json(manifest)
            if data.get("generator") in DEMO_GENERATORS and isinstance(data.get("seed"), int):
                return int(data["seed"])
    return None


def read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """Labelled pairs ``stem_a,stem_b,same`` (same: 1/0, true/false), one a line; '#' starts a comment."""
    if not path.is_file():
        raise EvaluationInputError(f"--pairs: file not found: {path}")
    pairs = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("\t", ",").split(",")]
        if len(parts) != 3 or parts[2].lower() not in ("1", "0", "true", "false"):
            raise EvaluationInputError(f"--pairs {path}:{number}: expected 'stem_a,stem_b,1|0', got {raw!r}")
        pairs.append((parts[0], parts[1], parts[2].lower() in ("1", "true")))
    if not pairs:
        raise EvaluationInputError(f"--pairs {path}: no pairs")
    return pairs
