"""evaluation.detection_ap: COCO-style AP by box height, checked by hand and against pycocotools."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO  # the reference implementation (requirements.txt: tests)
from pycocotools.cocoeval import COCOeval

from evaluation.detection_ap import HEIGHT_BINS, ImageBoxes, summarize

PERSON = [100.0, 100.0, 140.0, 200.0]  # 100 px tall: the medium bin
OTHER = [300.0, 50.0, 360.0, 230.0]  # 180 px tall: large


def image(gt=(), ignore=(), boxes=(), scores=()) -> ImageBoxes:
    return ImageBoxes(np.asarray(gt, dtype=float).reshape(-1, 4), np.asarray(ignore, dtype=bool),
                      np.asarray(boxes, dtype=float).reshape(-1, 4), np.asarray(scores, dtype=float))


def test_no_detections_give_zero_ap_and_recall():
    row = summarize([image([PERSON], [False])])["bins"]["all"]
    assert (row["AP50"], row["AP"], row["recall50"], row["positives"]) == (0.0, 0.0, 0.0, 1)


def test_no_ground_truth_gives_no_ap():
    row = summarize([image(boxes=[PERSON], scores=[0.9])])["bins"]["all"]
    assert row["AP50"] is None and row["AP"] is None and row["detections"] == 1


def test_duplicates_count_as_false_positives():
    # Two people; the first is found twice (0.9, 0.8), the second once (0.7): precision 1, 1/2, 2/3 at recall
    # 1/2, 1/2, 1. Interpolated: 1 at the 51 recall points 0..0.50, 2/3 at the 50 points 0.51..1.
    row = summarize([image([PERSON, OTHER], [False, False], [PERSON, PERSON, OTHER], [0.9, 0.8, 0.7])])["bins"]["all"]
    assert row["AP50"] == pytest.approx((51 * 1.0 + 50 * 2 / 3) / 101)
    # Only duplicates: the first is right, the rest come after full recall and cost nothing under interpolation.
    only = summarize([image([PERSON], [False], [PERSON] * 3, [0.9, 0.8, 0.7])])["bins"]["all"]
    assert only["AP50"] == 1.0 and only["detections"] == 3


def test_detections_in_an_ignore_region_are_neither_true_nor_false():
    group = [400.0, 100.0, 600.0, 220.0]  # a person group / ignore region, 120 px tall
    inside = [[420.0, 110.0, 470.0, 210.0], [500.0, 105.0, 560.0, 215.0]]  # two detections, each wholly inside
    ignored = summarize([image([PERSON, group], [False, True], [*inside, PERSON], [0.95, 0.9, 0.5])])
    assert ignored["bins"]["all"]["AP50"] == 1.0 and ignored["bins"]["all"]["detections"] == 1
    # The same region as a real person: both detections are false positives ahead of the true one (IoU < 0.5).
    counted = summarize([image([PERSON, group], [False, False], [*inside, PERSON], [0.95, 0.9, 0.5])])
    # precision 0, 0, 1/3 at recall 0, 0, 1/2 -> 1/3 up to recall 0.5, then nothing.
    assert counted["bins"]["all"]["AP50"] == pytest.approx(51 * (1 / 3) / 101)


def test_tiny_boxes_fall_in_the_small_bin_only():
    tiny = [10.0, 10.0, 18.0, 30.0]  # 20 px tall
    stray = [200.0, 10.0, 205.0, 22.0]  # unmatched 12 px detection, scoring highest
    result = summarize([image([tiny, PERSON], [False, False], [stray, tiny, PERSON], [0.99, 0.9, 0.8])])["bins"]
    assert result["small"]["positives"] == 1 and result["medium"]["positives"] == 1
    assert result["large"]["AP50"] is None
    # The stray is outside the medium bin: ignored there, a false positive in small and all.
    assert result["medium"]["AP50"] == 1.0
    assert result["small"]["AP50"] == pytest.approx(0.5)  # precision 0 then 1/2 at recall 1
    assert result["all"]["recall50"] == 1.0


def test_loose_box_counts_at_low_iou_thresholds_only():
    loose = [100.0, 100.0, 140.0, 160.0]  # IoU 0.6 with PERSON
    row = summarize([image([PERSON], [False], [loose], [0.9])])["bins"]["all"]
    assert row["AP50"] == 1.0 and row["AP75"] == 0.0
    assert row["AP"] == pytest.approx(0.3)  # matched at 0.50, 0.55, 0.60 of the ten thresholds
    assert row["recall"] == pytest.approx(0.3)


def test_recall_at_score_counts_only_confident_detections():
    result = summarize([image([PERSON, OTHER], [False, False], [PERSON, OTHER], [0.9, 0.3])], score_threshold=0.5)
    assert result["bins"]["all"]["recall_at_score"] == 0.5 and result["bins"]["all"]["recall50"] == 1.0


def test_mismatched_lengths_name_the_image():
    with pytest.raises(ValueError, match="frame_7"):
        ImageBoxes(np.zeros((2, 4)), np.zeros(1, dtype=bool), np.zeros((0, 4)), np.zeros(0), name="frame_7")


def random_images(seed: int, count: int) -> list[ImageBoxes]:
    """People of every size with jittered detections, duplicates, misses, strays and ignore regions."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        n = int(rng.integers(0, 8))
        heights = rng.uniform(15, 300, n)
        x, y = rng.uniform(0, 1500, n), rng.uniform(0, 700, n)
        gt = np.stack([x, y, x + 0.41 * heights, y + heights], 1) if n else np.zeros((0, 4))
        ignore = rng.random(n) < 0.2
        found = gt[rng.random(n) < 0.8]
        boxes = found + rng.normal(0, 1, found.shape) * (found[:, 3:4] - found[:, 1:2]) * 0.08
        duplicates = boxes[rng.random(len(boxes)) < 0.3] + rng.normal(0, 3, (1, 4))
        strays_n = int(rng.integers(0, 4))
        sh = rng.uniform(10, 250, strays_n)
        sx, sy = rng.uniform(0, 1500, strays_n), rng.uniform(0, 700, strays_n)
        strays = np.stack([sx, sy, sx + 0.4 * sh, sy + sh], 1) if strays_n else np.zeros((0, 4))
        boxes = np.concatenate([boxes, duplicates, strays])
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        images.append(image(gt, ignore, boxes, rng.random(len(boxes))))
    return images


def pycocotools_numbers(images: list[ImageBoxes]) -> dict[str, list[float]]:
    """pycocotools' AP@[.5:.95], AP@0.5 and AR@100 per bin, its 'area' replaced by the box height."""
    gt = {"images": [{"id": i + 1, "width": 2048, "height": 1024} for i in range(len(images))],
          "categories": [{"id": 1, "name": "pedestrian"}], "annotations": []}
    detections = []
    for i, im in enumerate(images):
        for box, ignore in zip(im.gt, im.gt_ignore, strict=True):
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i + 1, "category_id": 1,
                                      "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]],
                                      "area": box[3] - box[1], "iscrowd": int(ignore)})
        for box, score in zip(im.boxes, im.scores, strict=True):
            detections.append({"image_id": i + 1, "category_id": 1, "score": float(score),
                               "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        results = coco.loadRes(detections)
        for annotation in results.anns.values():
            annotation["area"] = annotation["bbox"][3]  # size by height, as detection_ap
        evaluator = COCOeval(coco, results, "bbox")
        evaluator.params.areaRng = [[lo, min(hi, 1e10)] for lo, hi in HEIGHT_BINS.values()]
        evaluator.params.areaRngLbl = list(HEIGHT_BINS)
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][:, :, 0, :, 2]  # T, R, bin at 100 detections
    recall = evaluator.eval["recall"][:, 0, :, 2]  # T, bin

    def mean(values: np.ndarray) -> float:
        values = values[values > -1]
        return float(values.mean()) if values.size else None

    return {name: [mean(precision[:, :, a]), mean(precision[0, :, a]), mean(recall[:, a]), mean(recall[0, a:a + 1])]
            for a, name in enumerate(HEIGHT_BINS)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_pycocotools(seed):
    images = random_images(seed, 12)
    reference = pycocotools_numbers(images)
    ours = summarize(images)["bins"]
    for name in HEIGHT_BINS:
        row = ours[name]
        mine = [row["AP"], row["AP50"], row["recall"], row["recall50"]]
        assert [v is None for v in mine] == [v is None for v in reference[name]], name
        assert [v for v in mine if v is not None] == pytest.approx(
            [v for v in reference[name] if v is not None], abs=1e-9), name
