"""Cityscapes gtFine instance-id maps: the person pixels, and one clear error per unusable file."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from data.instance_ids import InstanceIdsError, instance_ids_bytes, instance_ids_path, read_person_mask


def test_person_mask_is_every_person_and_rider_pixel(tmp_path):
    ids = np.zeros((4, 6), np.uint16)
    ids[0, 0] = 24000  # a person instance
    ids[0, 1] = 25003  # a rider instance
    ids[1, 2] = 24  # a crowd of people (class id only)
    ids[1, 3] = 26001  # a car
    ids[2, 4] = 7  # road
    ids[3, 5] = 33  # bicycle
    path = tmp_path / "a_gtFine_instanceIds.png"
    path.write_bytes(instance_ids_bytes(ids))
    assert (cv2.imread(str(path), cv2.IMREAD_UNCHANGED) == ids).all()  # stored losslessly as 16 bits
    mask = read_person_mask(path, (6, 4))
    assert mask.dtype == bool and sorted(zip(*np.nonzero(mask), strict=True)) == [(0, 0), (0, 1), (1, 2)]


def test_path_follows_the_cityscapes_layout(tmp_path):
    path = instance_ids_path(tmp_path, "val", "ulm", "ulm_000001_000019")
    assert path == tmp_path / "gtFine" / "val" / "ulm" / "ulm_000001_000019_gtFine_instanceIds.png"


@pytest.mark.parametrize(("content", "size", "message"), [
    (None, (6, 4), "cannot be read"),
    (b"not a png", (6, 4), "cannot be read"),
    (np.zeros((4, 6), np.uint8), (6, 4), "16-bit single-channel"),
    (np.zeros((4, 6, 3), np.uint16), (6, 4), "16-bit single-channel"),
    (np.zeros((4, 6), np.uint16), (8, 4), "is 6x4 pixels but its frame is 8x4"),
])
def test_unusable_maps_raise_one_error_naming_the_file(tmp_path, content, size, message):
    path = tmp_path / "b_gtFine_instanceIds.png"
    if isinstance(content, np.ndarray):
        path.write_bytes(cv2.imencode(".png", content)[1].tobytes())
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(InstanceIdsError) as error:
        read_person_mask(path, size)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_values_outside_16_bits_are_refused():
    with pytest.raises(ValueError, match="0..65535"):
        instance_ids_bytes(np.full((2, 2), 70000, np.int32))
