"""Evaluation reads the dataset at the resolution test.py wrote its results in."""

from __future__ import annotations

import numpy as np

from evaluation.crops import CropSet, at_size


def test_crops_and_boxes_follow_a_smaller_test_resolution():
    clean = [np.full((256, 256, 3), 100, np.uint8), np.zeros((256, 256, 3), np.uint8)]
    crops = CropSet("test", ["a", "b"], [(191, 67, 253, 191), (0, 1, 41, 255)], clean)
    small = at_size(crops, 128, 128)
    assert [image.shape for image in small.clean] == [(128, 128, 3), (128, 128, 3)]
    # Scaled outward: floor for x1/y1, ceil for x2/y2, so the box still covers the person.
    assert small.boxes == [(95, 33, 127, 96), (0, 0, 21, 128)]
    assert int(small.clean[0][60, 60, 0]) == 100 and small.stems == ["a", "b"]


def test_same_size_is_left_alone():
    crops = CropSet("test", ["a"], [(1, 2, 3, 4)], [np.zeros((64, 64, 3), np.uint8)])
    assert at_size(crops, 64, 64) is crops
