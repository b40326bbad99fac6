"""python -m evaluation.detection_recall: recall by height and false positives from a known set of detections."""

from __future__ import annotations

import json

from evaluation import detection_recall
from synthetic import make_demo_data


def test_recall_counts_exactly_the_detected_pedestrians(tmp_path):
    root = tmp_path / "frames"
    assert make_demo_data.main(["--out", str(root), "--frames", "2", "--size", "512x256", "--seed", "7",
                                "--quiet"]) == 0
    images = sorted((root / "leftImg8bit" / "train").rglob("*_leftImg8bit.png"))
    results, pedestrians, detected = [], 0, 0
    for image in images:
        stem = image.name.replace("_leftImg8bit.png", "")
        annotation = next((root / "gtBboxCityPersons" / "train").rglob(f"{stem}_gtBboxCityPersons.json"))
        people = [o for o in json.loads(annotation.read_text())["objects"] if o["label"] == "pedestrian"]
        pedestrians += len(people)
        for k, person in enumerate(people):
            x, y, w, h = person["bbox"]
            if k % 2 == 0:  # every other pedestrian is "detected" exactly; one score below the threshold
                detected += 1
                results.append({"file_name": image.name, "category_id": 1, "bbox": [x, y, w + 1, h + 1],
                                "score": 0.9})
            elif k == 1:
                results.append({"file_name": image.name, "category_id": 1, "bbox": [x, y, w + 1, h + 1],
                                "score": 0.2})
        results.append({"file_name": image.name, "category_id": 1, "bbox": [0, 0, 3, 3], "score": 0.8})  # sky
    (tmp_path / "results.json").write_text(json.dumps(results))
    out = tmp_path / "recall.json"
    assert detection_recall.main(["--cityscapes_root", str(root), "--split", "train", "--detector",
                                  f"coco:{tmp_path / 'results.json'}", "--detection_margin", "0",
                                  "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    total = result["recall_by_height"]["all"]["total"]
    assert (total["found"], total["total"]) == (detected, pedestrians) and 0 < detected < pedestrians
    assert result["false_positives_per_frame"] == 1.0
    assert sum(cell["total"] for name, cell in result["recall_by_height"]["all"].items() if name != "total") \
        == pedestrians
