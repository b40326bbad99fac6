"""Identity-labelled person crops for training and testing a re-ID model (``python -m evaluation.train_reid``).

Two folder layouts, told apart by what the folder holds:

* **demo data** (``synthetic.make_demo_data``): ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``,
  ``gtBboxCityPersons/...`` and ``identities.json``. A person is cut by its *visible* box (``bboxVis``, the
  pixels not hidden by nearer objects) with the 1:2 re-ID window of :func:`evaluation.reid.reid_crop`, as the
  anonymity evaluation cuts it. The generator draws a separate pool of people for each split, so the ``train``
  frames give the training identities and the ``val`` + ``test`` frames the held-out ones. Each frame counts
  as one camera (a frame shows a person at most once).
* **Market-1501** (and DukeMTMC-reID): ``bounding_box_train/``, ``query/``, ``bounding_box_test/`` with names
  ``<pid>_c<cam>[s<seq>]_....jpg``. As in the standard protocol, junk images (pid -1) are dropped everywhere,
  distractors (pid 0) are kept as gallery negatives only, and the training identities are relabelled 0..n-1.

Evaluation (:func:`evaluate`) ranks the gallery for every query by cosine distance and reports CMC rank-1/5/10
and mAP with gallery entries of the query's identity *and* camera dropped (for demo data: all held-out crops
are queries against all of them; the camera rule drops a query's own crop).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from data.citypersons import ANNOTATION_SUFFIX, IMAGE_SUFFIX, CityPersonsError, frame_key, read_citypersons
from data.errors import DatasetError
from evaluation.anonymity import cosine_distance_matrix, rank_k_and_map
from evaluation.reid import extract_features, reid_crop
from util.image_files import ImageReadError, read_rgb
from util.progress import progress_bar

LAYOUT_DEMO = "demo"
LAYOUT_MARKET = "market"
MARKET_DIRS = {"train": "bounding_box_train", "query": "query", "gallery": "bounding_box_test"}
MARKET_NAME = re.compile(r"^(-?\d+)_c(\d+)")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
DEMO_TRAIN_SPLITS = ("train",)
DEMO_TEST_SPLITS = ("val", "test")
RANKS = (1, 5, 10)


@dataclass
class CropSet:
    """Person crops (N×H×W×3 uint8) with an identity and a camera each, and where each came from."""

    crops: np.ndarray = field(repr=False)
    pids: np.ndarray
    cams: np.ndarray
    names: list[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.pids)

    @property
    def n_ids(self) -> int:
        return int(np.unique(self.pids).size)


@dataclass
class ReIDData:
    """Training crops (may be empty when only evaluating), query and gallery crops, and a summary for records."""

    layout: str
    root: Path
    train: CropSet
    query: CropSet
    gallery: CropSet
    summary: dict


@dataclass(frozen=True)
class DemoFilter:
    """Which demo people become crops: labels, visible height (px of a 1024-high frame) and visible fraction."""

    labels: tuple[str, ...] = ("pedestrian",)
    min_height: int = 80
    min_visibility: float = 0.5


def detect_layout(root: Path) -> str:
    if not root.is_dir():
        raise DatasetError(root, "--data: folder not found")
    if (root / "identities.json").is_file():
        return LAYOUT_DEMO
    if all((root / d).is_dir() for d in MARKET_DIRS.values()):
        return LAYOUT_MARKET
    raise DatasetError(root, "--data: neither demo data (no identities.json) nor a Market-1501 folder (needs "
                             + ", ".join(f"{d}/" for d in MARKET_DIRS.values()) + ")")


def load_reid_data(root: Path, size: tuple[int, int], with_train: bool = True, demo_filter: DemoFilter = DemoFilter(),
                   quiet: bool = False) -> ReIDData:
    """The crops of ``root`` (either layout) resized to ``size`` (H×W); ``with_train=False`` skips training crops."""
    layout = detect_layout(root)
    if layout == LAYOUT_DEMO:
        return _load_demo(root, size, with_train, demo_filter, quiet)
    return _load_market(root, size, with_train, quiet)


def empty_set(size: tuple[int, int]) -> CropSet:
    return CropSet(np.zeros((0, *size, 3), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64), [])


def _summary(layout: str, root: Path, train: CropSet, query: CropSet, gallery: CropSet, **extra) -> dict:
    counts = {name: {"crops": len(s), "identities": s.n_ids} for name, s in
              (("train", train), ("query", query), ("gallery", gallery))}
    return {"layout": layout, "root": str(root), **counts, **extra}


# ----------------------------------------------------------------------------------------------------
# Demo data


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(path, f"cannot be read ({error})") from None


def _load_demo(root: Path, size: tuple[int, int], with_train: bool, keep: DemoFilter, quiet: bool) -> ReIDData:
    identities = _read_json(root / "identities.json").get("frames", {})
    manifest = root / "demo_manifest.json"
    seed = _read_json(manifest).get("seed") if manifest.is_file() else None
    skipped: dict[str, int] = {}
    train = _demo_split(root, DEMO_TRAIN_SPLITS, size, identities, keep, skipped, quiet) if with_train \
        else empty_set(size)
    test = _demo_split(root, DEMO_TEST_SPLITS, size, identities, keep, skipped, quiet)
    if with_train and not len(train):
        raise DatasetError(root / "leftImg8bit" / "train", "no training person passes the filter")
    if not len(test):
        raise DatasetError(root / "leftImg8bit", "no val/test person passes the filter (nothing to evaluate)")
    summary = _summary(LAYOUT_DEMO, root, train, test, test, demo_seed=seed, skipped=skipped,
                       filter={"labels": list(keep.labels), "min_height": keep.min_height,
                               "min_visibility": keep.min_visibility},
                       splits={"train": list(DEMO_TRAIN_SPLITS), "test": list(DEMO_TEST_SPLITS)})
    return ReIDData(LAYOUT_DEMO, root, train, test, test, summary)


def _demo_split(root: Path, splits: tuple[str, ...], size: tuple[int, int], identities: dict, keep: DemoFilter,
                skipped: dict[str, int], quiet: bool) -> CropSet:
    annotations = sorted(p for split in splits
                         for p in (root / "gtBboxCityPersons" / split).glob(f"*/*{ANNOTATION_SUFFIX}"))
    crops, pids, cams, names = [], [], [], []
    bar = progress_bar(annotations, desc=f"crops {'+'.join(splits)}", quiet=quiet, unit="frame")
    for camera, annotation in enumerate(bar):  # each frame is a camera
        stem = frame_key(annotation.name)
        frame_path = root / "leftImg8bit" / annotation.parent.parent.name / annotation.parent.name / \
            f"{stem}{IMAGE_SUFFIX}"
        people = _demo_people(annotation, identities.get(stem, {}), keep, skipped)
        if not people:
            continue
        frame = _read_image(frame_path)
        for instance, pid, box in people:
            crops.append(reid_crop(frame, box, out_size=size))
            pids.append(pid)
            cams.append(camera)
            names.append(f"{stem}#{instance}")
    if not crops:
        return empty_set(size)
    return CropSet(np.stack(crops), np.asarray(pids, np.int64), np.asarray(cams, np.int64), names)


def _demo_people(annotation: Path, frame_ids: dict, keep: DemoFilter, skipped: dict[str, int]
                 ) -> list[tuple[int, int, tuple[int, int, int, int]]]:
    """(instanceId, identity, visible box x1, y1, x2, y2 clipped to the frame) of the people kept."""
    try:
        frame = read_citypersons(annotation)
    except CityPersonsError as error:
        raise DatasetError(annotation, error.problem) from None
    if frame.size is None:
        raise DatasetError(annotation, "not a CityPersons annotation (imgWidth, imgHeight, objects)")
    width, height = frame.size
    scale = height / 1024.0
    people = []
    for obj in frame.objects:
        identity = frame_ids.get(str(obj.instance_id))
        if obj.label not in keep.labels or identity is None:
            continue
        if obj.bbox is None or obj.bbox_vis is None:
            raise DatasetError(annotation, f"instance {obj.instance_id} needs both bbox and bboxVis")
        x, y, w, h = (int(v) for v in obj.bbox_vis)
        full_w, full_h = (int(v) for v in obj.bbox[2:])
        x2, y2 = min(x + w, width), min(y + h, height)  # CityPersons boxes may end past the border
        if y2 - y < keep.min_height * scale:
            skipped["visible height below min_height"] = skipped.get("visible height below min_height", 0) + 1
        elif w * h < keep.min_visibility * full_w * full_h:
            skipped["visible fraction below min_visibility"] = skipped.get("visible fraction below min_visibility",
                                                                           0) + 1
        else:
            people.append((obj.instance_id, int(identity), (x, y, x2, y2)))
    return people


def _read_image(path: Path) -> np.ndarray:
    try:
        return read_rgb(path)
    except ImageReadError as error:
        raise DatasetError(path, f"cannot be read as an image ({error.problem})") from None


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR))


# ----------------------------------------------------------------------------------------------------
# Market-1501 layout


def _load_market(root: Path, size: tuple[int, int], with_train: bool, quiet: bool) -> ReIDData:
    skipped: dict[str, int] = {}
    # Junk (-1) is dropped everywhere; distractors (0) are no identity to learn, but stay as gallery negatives.
    train = _market_dir(root / MARKET_DIRS["train"], size, {-1, 0}, skipped, quiet) if with_train \
        else empty_set(size)
    query = _market_dir(root / MARKET_DIRS["query"], size, {-1, 0}, skipped, quiet)
    gallery = _market_dir(root / MARKET_DIRS["gallery"], size, {-1}, skipped, quiet)
    for name, crop_set in (("train", train), ("query", query), ("gallery", gallery)):
        if (name != "train" or with_train) and not len(crop_set):
            raise DatasetError(root / MARKET_DIRS[name], "no usable images (names <pid>_c<cam>..., pid >= 1)")
    if with_train:
        shared = set(train.pids.tolist()) & set(query.pids.tolist())
        if shared:
            raise DatasetError(root, f"{len(shared)} identities are both in {MARKET_DIRS['train']}/ and "
                                     f"{MARKET_DIRS['query']}/ (e.g. {sorted(shared)[0]}): the test would not be "
                                     "on held-out people")
    return ReIDData(LAYOUT_MARKET, root, train, query, gallery,
                    _summary(LAYOUT_MARKET, root, train, query, gallery, skipped=skipped))


def _market_dir(folder: Path, size: tuple[int, int], drop_pids: set[int], skipped: dict[str, int],
                quiet: bool) -> CropSet:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    crops, pids, cams, names = [], [], [], []
    for path in progress_bar(files, desc=f"crops {folder.name}", quiet=quiet, unit="img"):
        match = MARKET_NAME.match(path.name)
        if match is None:
            skipped["name not <pid>_c<cam>..."] = skipped.get("name not <pid>_c<cam>...", 0) + 1
            continue
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid in drop_pids:
            reason = f"pid {pid} in {folder.name}/ ({'junk' if pid < 0 else 'distractor'})"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        crops.append(_resize(_read_image(path), size))
        pids.append(pid)
        cams.append(cam)
        names.append(path.name)
    if not crops:
        return empty_set(size)
    return CropSet(np.stack(crops), np.asarray(pids, np.int64), np.asarray(cams, np.int64), names)


# ----------------------------------------------------------------------------------------------------
# Evaluation


def evaluate(extractor, data: ReIDData, batch_size: int = 64) -> dict:
    """Rank-1/5/10 and mAP of ``extractor`` on the held-out identities (protocol in the module docstring).

    Ties count against the model (``match_last``): features that collapse to one point score 0, not 1.
    """
    query = extract_features(extractor, data.query.crops, batch_size)
    gallery = query if data.gallery is data.query else extract_features(extractor, data.gallery.crops, batch_size)
    ranking = rank_k_and_map(cosine_distance_matrix(query, gallery), data.query.pids, data.gallery.pids, RANKS,
                             data.query.cams, data.gallery.cams, ties="match_last")
    return {**{k: v for k, v in ranking.items() if k != "cmc"}, "n_gallery": len(data.gallery),
            "query_identities": data.query.n_ids}
