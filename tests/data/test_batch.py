"""The typed batch: one constructor for every producer, the small part of two-stage models, joining batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data.batch import Batch, make_batch
from data.transforms import downscale


def images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_a_batch_without_small_part_keeps_what_it_is_given():
    a, b = images(2), images(2, seed=1)
    batch = make_batch(a, b, [(1, 2, 30, 40), (5, 6, 20, 60)], ["p", "q"])
    assert len(batch) == 2 and batch.small is None and batch.paths == ["p", "q"]
    assert batch.A is a and batch.B is b
    assert batch.boxes.dtype == torch.int64 and batch.boxes.tolist() == [[1, 2, 30, 40], [5, 6, 20, 60]]


def test_the_small_part_is_downscaled_with_a_covering_box_refilled_per_sample():
    a, b = images(2), images(2, seed=1)
    boxes = [(15, 9, 41, 57), (16, 8, 40, 56)]
    rngs = [np.random.default_rng(k) for k in range(2)]
    batch = make_batch(a, b, boxes, ["p", "q"], small_size=32, crop_size=64, fill_mode="random", rngs=rngs)
    small = batch.small
    assert small.A.shape == small.B.shape == (2, 3, 32, 32) and small.paths == ["p", "q"]
    assert small.boxes.tolist() == [[7, 4, 21, 29], [8, 4, 20, 28]]  # floor x1/y1, ceil x2/y2
    assert torch.equal(small.B[1], downscale(b[1], (32, 32)))
    expected = np.random.default_rng(1).integers(-1, 2, size=(24, 12)).astype(np.float32)
    assert torch.equal(small.A[1, 0, 4:28, 8:20], torch.from_numpy(expected))  # sample 1's own stream
    outside = torch.ones(32, 32, dtype=torch.bool)
    outside[4:28, 8:20] = False
    assert torch.equal(small.A[1][:, outside], downscale(a[1], (32, 32))[:, outside])


def test_non_square_crops_scale_both_sides_by_small_over_crop():
    batch = make_batch(images(1)[:, :, :, :48], images(1)[:, :, :, :48], [(0, 0, 10, 10)], ["p"], small_size=32,
                       crop_size=64, rngs=[np.random.default_rng(0)])
    assert batch.small.A.shape == (1, 3, 32, 24)


def test_a_small_part_needs_its_crop_size_and_random_streams():
    with pytest.raises(ValueError, match="crop_size and one random generator per sample"):
        make_batch(images(1), images(1), [(0, 0, 8, 8)], ["p"], small_size=32)


def test_concat_joins_batches_and_their_small_parts_in_order():
    parts = [make_batch(images(1, seed=k), images(1, seed=k), [(k, k, 20, 20)], [f"p{k}"], small_size=32,
                        crop_size=64, rngs=[np.random.default_rng(k)]) for k in range(3)]
    joined = Batch.concat(parts)
    assert joined.paths == ["p0", "p1", "p2"] and joined.small.paths == ["p0", "p1", "p2"]
    assert joined.boxes[:, 0].tolist() == [0, 1, 2]
    assert torch.equal(joined.small.A[2], parts[2].small.A[0]) and torch.equal(joined.A[1], parts[1].A[0])
    with pytest.raises(ValueError, match="with and without a small part"):
        Batch.concat([parts[0], make_batch(images(1), images(1), [(0, 0, 8, 8)], ["x"])])


def test_person_masks_travel_with_the_batch_and_its_small_part():
    a, b = images(2), images(2, seed=1)
    masks = torch.zeros(2, 1, 64, 64)
    masks[0, :, 10:50, 20:30] = 1  # a 40x10 person
    rngs = [np.random.default_rng(k) for k in range(2)]
    batch = make_batch(a, b, [(16, 8, 40, 56)] * 2, ["p", "q"], small_size=32, crop_size=64, fill_mode="random",
                       rngs=rngs, person_mask=masks)
    assert batch.person_mask is masks
    small = batch.small.person_mask
    assert small.shape == (2, 1, 32, 32) and set(small.unique().tolist()) == {0.0, 1.0}
    assert small[0, 0, 5:25, 10:15].all() and small[0].sum() == 20 * 5 and small[1].sum() == 0
    joined = Batch.concat([batch, batch])
    assert joined.person_mask.shape == (4, 1, 64, 64) and joined.small.person_mask.shape == (4, 1, 32, 32)
    with pytest.raises(ValueError, match="with and without person masks"):
        Batch.concat([make_batch(a, b, [(1, 1, 9, 9)] * 2, ["p", "q"]), make_batch(a, b, [(1, 1, 9, 9)] * 2,
                                                                                  ["p", "q"], person_mask=masks)])
