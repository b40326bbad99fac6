"""The detector interface: NMS merging, tiling coverage, the tiled detector's geometry and the cache."""

from __future__ import annotations

import numpy as np

from anonymizer.detection import (
    CachedDetector,
    Detection,
    Detector,
    Frame,
    TiledDetector,
    nms,
    tile_plan,
)


def test_nms_drops_duplicates_and_fragments_but_keeps_other_people_and_labels():
    person = Detection((100, 100, 140, 200), 0.9)
    duplicate = Detection((102, 98, 141, 203), 0.7)
    fragment = Detection((101, 150, 139, 199), 0.8)  # the lower half of the same person, from another tile
    neighbour = Detection((135, 100, 175, 200), 0.6)  # overlaps a little: another person
    face = Detection((110, 100, 130, 120), 0.95, "face")
    kept = nms([duplicate, fragment, person, neighbour, face])
    assert kept == [face, person, neighbour]


def test_every_person_from_the_minimum_height_up_lies_inside_a_tile_that_sees_it_large_enough():
    width, height, min_height, fraction = 2048, 1024, 50, 40 / 300
    tiles = tile_plan(width, height, min_height / fraction, fraction)
    assert all(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height and x2 - x1 == y2 - y1 for x1, y1, x2, y2 in tiles)
    rng = np.random.default_rng(0)
    for _ in range(400):
        h = rng.uniform(min_height, height)
        w = h * rng.uniform(0.3, 0.6)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        holders = [t for t in tiles if t[0] <= x and t[1] <= y and x + w <= t[2] and y + h <= t[3]]
        # Wholly inside some tile in which it is at least the model's minimum height.
        assert any(h >= fraction * (t[2] - t[0]) - 1e-6 for t in holders), (x, y, w, h)


class WhiteBoxModel:
    """A stand-in network: 'detects' the bounding box of the white pixels of each tile."""

    identity = "white-box"
    input_size = 64
    min_object_px = 16.0
    label = "person"

    def __init__(self) -> None:
        self.tiles_seen = 0

    def __call__(self, tiles: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for tile in tiles:
            self.tiles_seen += 1
            ys, xs = np.nonzero(tile[..., 0] > 200)
            if len(xs) == 0:
                out.append((np.zeros((0, 4)), np.zeros(0)))
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]) / self.input_size
            out.append((box, np.array([0.9])))
        return out


def test_tiled_detector_maps_tile_boxes_back_to_the_frame_and_merges_them():
    image = np.zeros((200, 400, 3), dtype=np.uint8)
    image[60:140, 300:340] = 255  # an 80 px tall "person"
    model = WhiteBoxModel()
    detector = TiledDetector(model, min_height=40, keep_threshold=0.3)
    (found,) = detector.detect([Frame(image, "street.png")])
    assert model.tiles_seen == len(detector.tiles(400, 200)) > 3
    assert len(found) == 1
    np.testing.assert_allclose(found[0].box, (300, 60, 340, 140), atol=2.5)  # resizing blurs edges by < 1 px


class CountingDetector(Detector):
    identity = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frames):
        self.calls += len(frames)
        return [[Detection((1.5, 2.25, 10.0, 20.0), 0.87654321)] for _ in frames]


def test_cache_reuses_detections_by_content_and_detector(tmp_path):
    inner = CountingDetector()
    image = np.full((8, 8, 3), 7, dtype=np.uint8)
    first = CachedDetector(inner, tmp_path).detect([Frame(image, "a.png")])
    again = CachedDetector(inner, tmp_path).detect([Frame(image.copy(), "renamed.png")])
    assert inner.calls == 1 and again == first
    other = image.copy()
    other[0, 0] = 8
    CachedDetector(inner, tmp_path).detect([Frame(other, "a.png")])
    inner.identity = "counting keep>=0.2"  # another threshold is another detector identity
    CachedDetector(inner, tmp_path).detect([Frame(image, "a.png")])
    assert inner.calls == 3
