"""The Cityscapes instance-id maps (``gtFine``), read and written in one place: which pixels belong to a person.

Each frame ``<city>_<seq>_<frame>_leftImg8bit.png`` may have ``gtFine/<split>/<city>/<city>_<seq>_<frame>
_gtFine_instanceIds.png``: one 16-bit grey value per pixel, ``class_id * 1000 + k`` for the k-th instance of a
class with instances, the bare ``class_id`` for pixels of a class without (or a crowd of it). The Cityscapes class
ids of people are 24 (person) and 25 (rider); the CityPersons ``instanceId`` of a box is the value its pixels carry.
The synthetic street data labels only people (every other pixel is 0, "unlabeled").

Only the person mask is used here: the training loss can then tell the background inside a person's box from the
person (``--L1_box_background_weight``, docs/realism_recipe.md), training can paint a person in its own shape
(``--person_hole_fraction``) and ``anonymize.py --instance_ids`` paints only the person (``InstanceIdsIndex``).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

import cv2
import numpy as np

INSTANCE_SUFFIX = "_gtFine_instanceIds.png"
PERSON_CLASS_IDS = (24, 25)  # Cityscapes labels: person, rider


class InstanceIdsError(ValueError):
    """A file that is not a usable instance-id map; ``str()`` is ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"{self.path}: {problem}")


def instance_ids_path(root: str | os.PathLike[str], split: str, city: str, key: str) -> Path:
    """``<root>/gtFine/<split>/<city>/<key>_gtFine_instanceIds.png`` (``key`` = ``<city>_<seq>_<frame>``)."""
    return Path(root) / "gtFine" / split / city / f"{key}{INSTANCE_SUFFIX}"


def instance_ids_bytes(ids: np.ndarray) -> bytes:
    """A PNG of the H×W instance-id map (values 0..65535, stored as 16-bit grey)."""
    if ids.ndim != 2 or ids.min(initial=0) < 0 or ids.max(initial=0) > np.iinfo(np.uint16).max:
        raise ValueError(f"instance ids must be a 2-D map of values 0..65535, got shape {ids.shape}")
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(ids, dtype=np.uint16), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("PNG encoding of the instance ids failed")
    return buffer.tobytes()


def person_pixels(ids: np.ndarray) -> np.ndarray:
    """True where the instance-id map holds a person or rider (an instance or a crowd of them)."""
    class_ids = np.where(ids >= 1000, ids // 1000, ids)
    return np.isin(class_ids, PERSON_CLASS_IDS)


def read_person_mask(path: str | os.PathLike[str], size: tuple[int, int]) -> np.ndarray:
    """The frame's person pixels (H×W bool) from its instance-id map; ``size`` is the frame's (width, height).

    Raises InstanceIdsError naming the file when it cannot be decoded, is not one grey channel of 16 bits (8-bit
    maps hold no instance ids) or has another size than its frame.
    """
    data = np.fromfile(path, dtype=np.uint8) if Path(path).is_file() else np.zeros(0, np.uint8)
    ids = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if ids is None:
        raise InstanceIdsError(path, "cannot be read or decoded as a PNG")
    if ids.ndim != 2 or ids.dtype != np.uint16:
        raise InstanceIdsError(path, f"expected a 16-bit single-channel instance-id map, got {ids.dtype} with "
                                     f"{1 if ids.ndim == 2 else ids.shape[2]} channel(s)")
    if ids.shape[::-1] != tuple(size):
        raise InstanceIdsError(path, f"is {ids.shape[1]}x{ids.shape[0]} pixels but its frame is {size[0]}x{size[1]}")
    return person_pixels(ids)


def frame_key(name: str | os.PathLike[str]) -> str:
    """The Cityscapes key ``<city>_<seq>_<frame>`` of a frame's file name (``..._leftImg8bit.png``); any other
    name: its stem."""
    return PurePath(name).name.split(".", 1)[0].removesuffix("_leftImg8bit")


class InstanceIdsIndex:
    """Every ``*_gtFine_instanceIds.png`` under a folder, by frame key (``frame_key``): the person map of a frame
    whatever folder layout holds the frames."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InstanceIdsError(self.root, "instance-id folder not found")
        self.paths: dict[str, Path] = {}
        for path in sorted(self.root.rglob(f"*{INSTANCE_SUFFIX}")):
            key = path.name.removesuffix(INSTANCE_SUFFIX)
            if key in self.paths:
                raise InstanceIdsError(path, f"a second map for frame {key} (also {self.paths[key]})")
            self.paths[key] = path
        if not self.paths:
            raise InstanceIdsError(self.root, f"no *{INSTANCE_SUFFIX} files under it (Cityscapes gtFine)")

    def person_map(self, frame_name: str | os.PathLike[str], size: tuple[int, int]) -> np.ndarray | None:
        """The frame's person pixels (H×W bool), None when no map has its key; a bad map raises
        InstanceIdsError."""
        path = self.paths.get(frame_key(frame_name))
        return None if path is None else read_person_mask(path, size)
