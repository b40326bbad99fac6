"""evaluation.composite: real crop outside the box, generated pixels inside."""

from __future__ import annotations

import numpy as np
from PIL import Image

from data.boxes import load_box
from evaluation import composite


def test_composite_cli_pastes_the_box(crop_dataroot, tmp_path):
    gen, out = tmp_path / "gen", tmp_path / "out"
    gen.mkdir()
    rng = np.random.default_rng(0)
    stems = sorted(p.stem for p in (crop_dataroot / "images" / "val").glob("*.png"))
    generated = {}
    for i, stem in enumerate(stems):
        size = 256 if i == 0 else 64  # the original's 256 px files are resized to the crop
        generated[stem] = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        Image.fromarray(generated[stem]).save(gen / f"{stem}_fake_B.png")
    assert composite.main(["--generated", str(gen), "--dataroot", str(crop_dataroot), "--phase", "val",
                           "--out", str(out), "--quiet"]) == 0
    for i, stem in enumerate(stems):
        result = np.asarray(Image.open(out / f"{stem}_fake_B_display.png").convert("RGB"))
        real = composite.clean_half(crop_dataroot / "images" / "val" / f"{stem}.png")
        x1, y1, x2, y2 = load_box(crop_dataroot / "bbox" / "val" / f"{stem}.json")
        inside = np.zeros(real.shape[:2], bool)
        inside[y1:y2, x1:x2] = True
        assert np.array_equal(result[~inside], real[~inside])
        expected = composite.load_generated(gen / f"{stem}_fake_B.png", (real.shape[1], real.shape[0]))
        assert np.array_equal(result[inside], expected[inside])
        if i:
            assert np.array_equal(result[inside], generated[stem][inside])


def test_composite_names_the_missing_file(crop_dataroot, tmp_path, capsys):
    (tmp_path / "gen").mkdir()
    assert composite.main(["--generated", str(tmp_path / "gen"), "--dataroot", str(crop_dataroot), "--phase", "val",
                           "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "--generated" in capsys.readouterr().err
