"""data.holes: the person hole a generator paints when the person's pixels are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data.holes import fill_hole, person_hole, person_silhouette

BOX = (10, 4, 30, 44)


def person_map() -> np.ndarray:
    """A 48×40 map: a person inside BOX (columns 16..23, rows 8..39) and a second one outside it."""
    people = np.zeros((48, 40), dtype=bool)
    people[8:40, 16:24] = True
    people[0:10, 34:38] = True
    return people


def test_the_hole_is_the_grown_person_inside_the_box():
    hole = person_hole(person_map(), BOX, dilation=2)
    expected = np.zeros_like(hole)
    expected[6:42, 14:26] = True  # the person grown by 2 pixels on every side
    assert np.array_equal(hole, expected)
    # The person outside the box is no part of it, nor is anything outside the box.
    assert not hole[:, 30:].any() and not hole[:4].any()


def test_growth_stops_at_the_box_edge():
    people = np.zeros((48, 40), dtype=bool)
    people[2:46, 8:14] = True  # crosses the box's top, bottom and left edges
    hole = person_hole(people, BOX, dilation=3)
    assert np.array_equal(np.argwhere(hole)[[0, -1]], [[4, 10], [43, 16]])


def test_a_box_without_person_pixels_is_painted_whole():
    """Fail closed: an empty or missing mask never leaves the person unpainted."""
    hole = person_hole(np.zeros((48, 40), dtype=bool), BOX)
    assert hole[4:44, 10:30].all() and hole.sum() == 20 * 40


def test_fill_hole_fills_only_the_hole():
    image = torch.full((3, 8, 8), 0.5)
    hole = torch.zeros(1, 8, 8)
    hole[0, 2:5, 3:6] = 1
    grey = fill_hole(image.clone(), hole, "none", np.random.default_rng(0))
    assert (grey[:, 2:5, 3:6] == 0).all() and (grey[hole.expand(3, 8, 8) == 0] == 0.5).all()
    noisy = fill_hole(image.clone(), hole, "random", np.random.default_rng(0))
    values = noisy[:, 2:5, 3:6]
    assert set(values.unique().tolist()) <= {-1.0, 0.0, 1.0} and len(values.unique()) > 1
    assert torch.equal(values[0], values[1]) and torch.equal(values[0], values[2])  # shared by the channels
    # A model trained on crops with baked {0, 127, 255} noise gets that noise, in the hole only.
    baked = fill_hole(image.clone(), hole, "original", np.random.default_rng(0))
    expected = {round(v / 127.5 - 1.0, 6) for v in (0, 127, 255)}
    assert {round(v, 6) for v in baked[:, 2:5, 3:6].unique().tolist()} <= expected
    assert (baked[hole.expand(3, 8, 8) == 0] == 0.5).all() and torch.equal(baked[0], baked[2])
    with pytest.raises(ValueError, match="none, random or original"):
        fill_hole(image.clone(), hole, "blocks", np.random.default_rng(0))


def test_the_silhouette_is_the_grown_person_inside_the_painted_region_as_the_hole_is():
    """person_silhouette (torch, a batch) marks the pixels person_hole (numpy, one box) paints."""
    people = torch.from_numpy(person_map()).float()[None, None]
    inside = torch.zeros(1, 1, 48, 40)
    inside[..., 4:44, 10:30] = 1.0
    silhouette = person_silhouette(people, inside, dilation=2)
    assert np.array_equal(silhouette[0, 0].numpy().astype(bool), person_hole(person_map(), BOX, dilation=2))


def test_a_sample_without_person_pixels_gets_the_whole_region_as_silhouette():
    inside = torch.zeros(2, 1, 48, 40)
    inside[..., 4:44, 10:30] = 1.0
    people = torch.zeros(2, 1, 48, 40)
    people[1, 0, 8:40, 16:24] = 1.0
    silhouette = person_silhouette(people, inside, dilation=0)
    assert torch.equal(silhouette[0], inside[0])  # nobody in the mask: the generator paints the whole box
    assert silhouette[1].sum() == 32 * 8
