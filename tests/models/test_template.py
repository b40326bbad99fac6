"""models/template_model.py is a working model: it trains, and a run of it loads with load_model."""

from __future__ import annotations

import torch

from data import create_dataset
from models import create_model, load_model
from options.train_options import TrainOptions

TINY = {"crop_size": 64, "load_size": 64, "preprocess": "resize", "netG": "unet_64", "ngf": 8, "gpu_ids": "-1",
        "quiet": True, "no_dropout": True, "norm": "instance", "lr": 0.002, "serial_batches": True}


def test_the_template_trains_and_its_run_loads(crop_dataroot, tmp_path):
    options = TrainOptions()
    opt = options.parse_keywords(model="template", dataroot=str(crop_dataroot), checkpoints_dir=str(tmp_path),
                                 name="run", **TINY)
    options.save_options(opt, tmp_path / "run", "train")
    torch.manual_seed(0)
    model = create_model(opt)
    model.setup()
    batch = next(iter(create_dataset(opt)))
    model.set_input(batch)
    model.test()
    start = float(model.validation_loss())
    for _ in range(15):
        model.set_input(batch)
        model.optimize_parameters()
    model.test()
    assert float(model.validation_loss()) < start  # the L1 step learns
    assert set(model.get_current_losses()) == {"G_L1"} and model.current_discriminator_losses() == {}
    model.save_networks("latest")
    loaded = load_model(tmp_path / "run", eval_mode=True)
    assert type(loaded).__name__ == "TemplateModel" and loaded.visual_names == ["real_A", "fake_B", "real_B"]
    assert all(torch.equal(value, model.netG.state_dict()[key]) for key, value in loaded.netG.state_dict().items())
