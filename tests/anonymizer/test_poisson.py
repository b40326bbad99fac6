"""anonymizer.poisson: the painted region meets the real street at its edge, using nothing from inside it."""

from __future__ import annotations

import numpy as np
import pytest

from anonymizer.frame import FrameAnonymizer, Settings
from anonymizer.poisson import poisson_blend

from .test_anonymize_units import PaintsHoles, person_in_frame


def street_and_box(offset: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth 64 px street, the same with a textured box painted ``offset`` grey levels brighter, the box."""
    yy, xx = np.mgrid[0:64, 0:64]
    street = np.stack([xx * 2.0 + 40, yy * 1.5 + 60, np.full((64, 64), 100.0)], -1).astype(np.float32)
    box = np.zeros((64, 64), dtype=bool)
    box[10:54, 20:44] = True
    generated = street.copy()
    generated[box] += offset + np.random.default_rng(0).normal(0, 5, (int(box.sum()), 3))
    return street, generated, box


def test_a_brighter_box_is_brought_to_the_street_and_keeps_its_texture():
    street, generated, box = street_and_box(30.0)
    out = poisson_blend(generated, street, box)
    assert np.abs(generated[10, 20:44] - street[9, 20:44]).mean() > 25  # the seam before
    assert np.abs(out[10, 20:44] - street[9, 20:44]).mean() < 4  # measured 2.5
    assert np.abs((out[box] - street[box]).mean(axis=0)).max() < 2  # the offset is gone, not just at the edge
    texture = generated[box] - generated[box].mean(axis=0)
    assert np.corrcoef(texture.ravel(), (out[box] - out[box].mean(axis=0)).ravel())[0, 1] > 0.99
    assert np.array_equal(out[~box], generated[~box])


def test_the_correction_reads_no_pixel_inside_the_region():
    """What the window holds inside the replaced region (the original person) cannot change the result."""
    street, generated, box = street_and_box(30.0)
    person = street.copy()
    person[box] = np.random.default_rng(1).uniform(0, 255, (int(box.sum()), 3))
    assert np.array_equal(poisson_blend(generated, street, box), poisson_blend(generated, person, box))


@pytest.mark.parametrize("region", ["empty", "whole window"])
def test_a_region_without_a_seam_is_left_as_painted(region):
    street, generated, _ = street_and_box(30.0)
    replaced = np.zeros((64, 64), dtype=bool) if region == "empty" else np.ones((64, 64), dtype=bool)
    assert np.allclose(poisson_blend(generated, street, replaced), generated, atol=1e-3)


def test_mismatched_shapes_are_one_error():
    street, generated, box = street_and_box(0.0)
    with pytest.raises(ValueError, match="must cover the same pixels"):
        poisson_blend(generated[:32], street, box)


class PaintsBrightBoxes(PaintsHoles):
    """A stand-in generator that paints every window a mildly textured bright grey (200 ± 10)."""

    def __call__(self, windows, seed):
        self.windows += windows
        return [(200 + self.rng.normal(0, 10, w.pixels.shape)).astype(np.float32) for w in windows]


@pytest.mark.parametrize("with_map", [False, True])
def test_a_blended_frame_meets_the_street_at_the_box_edge_and_passes_the_check(with_map):
    """--poisson_blend in a frame: only the painted pixels change, the frame passes the fail-closed check, and the
    step from the street (grey 90) to a box painted at grey 200 falls at least fourfold at the box's edge."""
    image, person_map, person = person_in_frame(np.random.default_rng(3))
    image[:] = 90
    street = image.copy()
    person_map = person_map if with_map else None
    plain, _ = FrameAnonymizer(image, Settings(method="gan"), PaintsBrightBoxes(), 0, person_map).run([(0, person)])
    blended, records = FrameAnonymizer(image, Settings(method="gan", poisson_blend=True), PaintsBrightBoxes(), 0,
                                       person_map).run([(0, person)])
    assert records[0]["method"] == "gan" and ("painted_fraction" in records[0]) == with_map
    changed_plain, changed_blended = np.any(plain != street, axis=2), np.any(blended != street, axis=2)
    assert not (changed_blended & ~changed_plain).any()  # nothing beyond the painted pixels moves
    painted = changed_plain & ~np.roll(changed_plain, 1, axis=1)  # the painted region's left edge pixels

    def step(out: np.ndarray) -> float:
        left = np.roll(painted, -1, axis=1)  # the street pixel beside each
        return float(np.abs(out[painted].astype(float).mean(axis=1) - street[left].astype(float).mean(axis=1))
                     .mean())

    assert step(blended) < 0.25 * step(plain)
