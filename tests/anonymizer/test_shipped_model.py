"""The shipped demo generator: it loads with no training, and anonymize.py --method gan uses it without --name,
on whole boxes and, with --instance_ids, in each person's own shape."""

from __future__ import annotations

import json

import numpy as np
import torch

import anonymize
from anonymizer.cli import SHIPPED_DEMO_MODEL
from anonymizer.generator import Window, WindowGenerator, load_model_file
from models import load_model


def test_the_shipped_model_loads_as_its_card_says():
    assert SHIPPED_DEMO_MODEL.is_file() and SHIPPED_DEMO_MODEL.stat().st_size <= 25e6
    model = load_model(SHIPPED_DEMO_MODEL)
    assert (model.opt.model, model.opt.netG, model.opt.ngf, model.opt.crop_size) == ("psgan", "inpaint", 32, 64)
    # fp16 on disk, fp32 in the network, every weight finite
    weights = [p for p in model.netG.parameters() if p.dim() == 4]
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in weights)
    card = json.loads(SHIPPED_DEMO_MODEL.with_suffix(".json").read_text())
    assert card["ema_decay"] > 0 and card["exported_from"]["fp16"] is True and card["network_mode"] == "eval"
    assert not model.netG.training
    # trained on 256 px crops resized to 72 and cut to 64: anonymize.py cuts 228 px frame windows for it
    assert model.opt.source_window_side == 228
    # told where the person stands: a whole box is painted in a stranger's silhouette from the bank beside the file
    generator = load_model_file(SHIPPED_DEMO_MODEL)
    assert generator.opt.netG_silhouette_input and len(generator.silhouettes) >= 1000


def test_anonymize_uses_the_shipped_model_without_a_run(demo_frames, tmp_path):
    out = tmp_path / "out"
    code = anonymize.main(["-i", str(demo_frames / "leftImg8bit"), "-a", str(demo_frames / "gtBboxCityPersons"),
                           "-o", str(out), "--method", "gan", "--seed", "0", "--quiet"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["options"]["model"]["weights"] == str(SHIPPED_DEMO_MODEL)
    # the card's numbers were measured with BatchNorm's running statistics, so that is how it runs by default
    assert report["options"]["model"]["network_mode"].startswith("eval")
    # and with the redraws and the box-edge feather it was measured with
    assert report["options"]["redraws"] == 2 and report["options"]["blend_px"] == 4
    assert report["totals"]["frames_written"] == 3
    assert report["totals"]["persons_by_method"]["gan"] >= 1


def test_anonymize_with_instance_ids_paints_shapes_with_the_shipped_model(demo_frames, tmp_path):
    out = tmp_path / "out"
    code = anonymize.main(["-i", str(demo_frames / "leftImg8bit"), "-a", str(demo_frames / "gtBboxCityPersons"),
                           "-o", str(out), "--method", "gan", "--instance_ids", str(demo_frames / "gtFine"),
                           "--seed", "0", "--quiet"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["options"]["model"]["weights"] == str(SHIPPED_DEMO_MODEL)
    painted = [p for f in report["frames"] for p in f["persons"] if "painted_fraction" in p]
    assert painted and all(0 < p["painted_fraction"] < 1 for p in painted)


def test_truncation_trades_the_difference_between_seeds_for_typical_persons():
    """The shipped model draws decoder noise: with --truncation 0 every seed paints the same person into the same
    window (the stranger's silhouette comes from the window's own stream, the same here), at 0.5 seeds differ less
    than at 1."""
    model = load_model_file(SHIPPED_DEMO_MODEL)
    side = model.opt.crop_size
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    x1, y1, x2, y2 = (side * c // 64 for c in (20, 8, 44, 60))  # a standing person's box, at any crop side

    def paint(truncation: float, seed: int) -> np.ndarray:
        window = Window(pixels=pixels, box=(x1, y1, x2, y2), rng=np.random.default_rng(5))
        return WindowGenerator(model, truncation)([window], seed)[0][y1:y2, x1:x2]

    difference = {t: np.abs(paint(t, 0) - paint(t, 1)).mean() for t in (1.0, 0.5, 0.0)}
    assert difference[0.0] == 0.0
    assert 0.0 < difference[0.5] < difference[1.0]
    assert difference[1.0] > 5.0  # grey levels: two seeds paint visibly different persons


def test_anonymize_records_the_truncation_it_sampled_with(demo_frames, tmp_path):
    out = tmp_path / "out"
    assert anonymize.main(["-i", str(demo_frames / "leftImg8bit"), "-a", str(demo_frames / "gtBboxCityPersons"),
                           "-o", str(out), "--method", "gan", "--truncation", "0.5", "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["options"]["model"]["truncation"] == 0.5 and report["totals"]["persons_by_method"]["gan"] >= 1
