"""load_model: a trained run folder or a shipped model file becomes a ready model with one call, no command line."""

from __future__ import annotations

import json

import pytest
import torch

from data.batch import Batch, make_batch
from models import CheckpointError, create_model, load_model, untrained_model
from models.loading import export_model_file, recorded_blend_px
from options import OptionsError
from options.train_options import TrainOptions
from util.fileio import sha256_file

TINY = {"crop_size": 64, "load_size": 64, "ngf": 8, "ndf": 8, "gpu_ids": "-1", "quiet": True}
PSGAN = {"model": "psgan", "netG": "unet_64", "netG_mask_input": True, "netG_noise": "decoder"}
PROGAN = {"model": "progan", "netG": "unet_64", "netG2": "unet_128", "netG_mask_input": True, "unet_diff_map": True,
          "crop_size": 128, "load_size": 128}


def trained_run(tmp_path, options: dict, prefix: str = "best"):
    """A run folder as train.py leaves it: train_opt.json and the networks saved under ``prefix``."""
    trainer_options = TrainOptions()
    opt = trainer_options.parse_keywords(checkpoints_dir=str(tmp_path), name="run", **{**TINY, **options})
    trainer_options.save_options(opt, tmp_path / "run", "train")
    torch.manual_seed(1)
    model = create_model(opt)
    model.save_networks(prefix)
    return tmp_path / "run", model


def window_batch(crop: int = 64) -> Batch:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, crop, crop, generator=generator) * 2 - 1
    return make_batch(image, image, [(20, 8, 40, 56), (10, 4, 30, 60)], ["a", "b"])


def generate(model, batch: Batch) -> torch.Tensor:
    torch.manual_seed(5)
    model.set_input(batch)
    model.test()
    return model.fake_B


def test_a_run_folder_loads_with_its_saved_weights_in_the_asked_mode(tmp_path):
    run, trained = trained_run(tmp_path, PSGAN)
    model = load_model(run, "best", eval_mode=True)
    assert (model.opt.netG, model.opt.ngf, model.opt.netG_noise, model.isTrain) == ("unet_64", 8, "decoder", False)
    for key, value in trained.netG.state_dict().items():
        assert torch.equal(model.netG.state_dict()[key], value), key
    assert not model.netG.training and model.device.type == "cpu" and model.precision.amp == "none"
    trained.netG.eval()
    # Equal up to float rounding: the loaded generator's convolutions are prepacked for oneDNN (same weights).
    assert torch.allclose(generate(model, window_batch()), generate(trained, window_batch()), atol=1e-5)
    assert load_model(run, "best").netG.training  # test.py's default: train mode


def test_a_missing_epoch_names_the_file_and_the_prefixes_that_exist(tmp_path):
    run, _ = trained_run(tmp_path, PSGAN)
    with pytest.raises(CheckpointError, match=r"latest_net_G\.pth: checkpoint not found \(available: best\)"):
        load_model(run)
    with pytest.raises(OptionsError, match="train_opt.json: not found"):
        load_model(tmp_path / "elsewhere")


def test_a_shipped_fp16_generator_file_loads_by_the_same_call(tmp_path):
    run, trained = trained_run(tmp_path, PSGAN)
    state = {key: value.half() if value.is_floating_point() else value
             for key, value in trained.netG.state_dict().items()}
    torch.save(state, tmp_path / "demo.pth")
    saved = json.loads((run / "train_opt.json").read_text())
    (tmp_path / "demo.json").write_text(json.dumps({key: saved[key] for key in (*PSGAN, "ngf", "crop_size")}))
    model = load_model(tmp_path / "demo.pth", eval_mode=True)
    loaded = model.netG.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value.to(loaded[key].dtype)), key
    assert all(value.dtype == torch.float32 for value in loaded.values() if value.is_floating_point())


def test_a_shipped_two_stage_file_holds_both_generators(tmp_path):
    run, trained = trained_run(tmp_path, PROGAN)
    torch.save({"G1": trained.netG1.state_dict(), "G2": trained.netG2.state_dict()}, tmp_path / "two.pth")
    (tmp_path / "two.json").write_text((run / "train_opt.json").read_text())
    model = load_model(tmp_path / "two.pth")
    for name in ("G1", "G2"):
        expected = trained.network(name).state_dict()
        assert all(torch.equal(value, expected[key]) for key, value in model.network(name).state_dict().items())
    torch.save(trained.netG1.state_dict(), tmp_path / "two.pth")  # G1 alone cannot stand up a two-stage model
    with pytest.raises(CheckpointError, match="must hold a dict with the state dicts of G1, G2"):
        load_model(tmp_path / "two.pth")


def test_a_model_file_that_does_not_fit_its_options_is_refused(tmp_path):
    _, trained = trained_run(tmp_path, PSGAN)
    torch.save(trained.netG.state_dict(), tmp_path / "demo.pth")
    (tmp_path / "demo.json").write_text(json.dumps({**PSGAN, "ngf": 16, "crop_size": 64}))
    with pytest.raises(CheckpointError, match=r"demo\.pth: does not match the network built from the options"):
        load_model(tmp_path / "demo.pth")


def test_untrained_model_builds_from_keywords_for_benchmarks():
    model = untrained_model(**PSGAN, ngf=8, crop_size=64, eval_mode=True, amp="bf16")
    assert model.opt.netG == "unet_64" and not model.netG.training and model.precision.amp == "bf16"
    assert generate(model, window_batch()).shape == (2, 3, 64, 64)


def test_an_exported_file_runs_in_the_network_mode_it_records(tmp_path):
    run, trained = trained_run(tmp_path, PSGAN)
    export_model_file(run, "best", tmp_path / "eval.pth", network_mode="eval")
    export_model_file(run, "best", tmp_path / "train.pth")
    assert json.loads((tmp_path / "eval.json").read_text())["network_mode"] == "eval"
    assert not load_model(tmp_path / "eval.pth").netG.training  # BatchNorm running statistics, no dropout
    assert load_model(tmp_path / "train.pth").netG.training  # the original's test-time mode stays the default
    assert load_model(tmp_path / "eval.pth", eval_mode=False).netG.training  # asking wins over the record
    trained.netG.eval()
    fp16_rounding = 2e-2  # the exported weights are fp16
    assert torch.allclose(generate(load_model(tmp_path / "eval.pth"), window_batch()),
                          generate(trained, window_batch()), atol=fp16_rounding)


def test_exporting_the_same_checkpoint_twice_gives_the_same_bytes(tmp_path):
    """A file's SHA-256 identifies the weights (model cards quote it): written through a temporary file, each export
    used to embed that file's random name in the archive, so two exports of one checkpoint differed."""
    run, _ = trained_run(tmp_path, PSGAN)
    export_model_file(run, "best", tmp_path / "first" / "demo.pth", network_mode="eval")
    export_model_file(run, "best", tmp_path / "second" / "demo.pth", network_mode="eval")
    first, second = (sha256_file(tmp_path / folder / "demo.pth") for folder in ("first", "second"))
    assert first == second
    assert sha256_file(run / "best_net_G.pth") != sha256_file(tmp_path / "first" / "demo.pth")  # fp16, not a copy


def test_a_model_file_with_an_unknown_network_mode_is_refused(tmp_path):
    run, _ = trained_run(tmp_path, PSGAN)
    export_model_file(run, "best", tmp_path / "demo.pth")
    saved = json.loads((tmp_path / "demo.json").read_text())
    (tmp_path / "demo.json").write_text(json.dumps({**saved, "network_mode": "inference"}))
    with pytest.raises(OptionsError, match=r"demo\.json: network_mode 'inference' is not one of train, eval"):
        load_model(tmp_path / "demo.pth")
    with pytest.raises(ValueError, match="network_mode 'test'"):
        export_model_file(run, "best", tmp_path / "other.pth", network_mode="test")


def test_an_exported_file_records_the_feather_it_was_measured_with(tmp_path):
    """export --blend_px N goes into the JSON for anonymize.py; a file without one is a hard paste (0); a value
    that is not a whole number of pixels is one error naming the file."""
    run, _ = trained_run(tmp_path, PSGAN)
    export_model_file(run, "best", tmp_path / "feathered.pth", network_mode="eval", blend_px=4)
    export_model_file(run, "best", tmp_path / "hard.pth")
    assert recorded_blend_px(tmp_path / "feathered.pth") == 4 and recorded_blend_px(tmp_path / "hard.pth") == 0
    saved = json.loads((tmp_path / "hard.json").read_text())
    del saved["blend_px"]  # as files exported before the feather was recorded
    (tmp_path / "hard.json").write_text(json.dumps(saved))
    assert recorded_blend_px(tmp_path / "hard.pth") == 0
    for bad in (-1, 2.5, "4", True):
        (tmp_path / "hard.json").write_text(json.dumps({**saved, "blend_px": bad}))
        with pytest.raises(OptionsError, match=r"hard\.json: blend_px .* is not a whole number of pixels"):
            recorded_blend_px(tmp_path / "hard.pth")
    with pytest.raises(ValueError, match="blend_px -2"):
        export_model_file(run, "best", tmp_path / "other.pth", blend_px=-2)


def test_an_exported_fine_tune_records_the_run_it_started_from(tmp_path):
    base, _ = trained_run(tmp_path / "base", {**PSGAN, "n_epochs": 15, "n_epochs_decay": 11})
    tuned, _ = trained_run(tmp_path / "tuned", {**PSGAN, "init_from": str(base), "epoch": "best", "n_epochs": 2,
                                                "n_epochs_decay": 4})
    export_model_file(tuned, "best", tmp_path / "tuned.pth")
    record = json.loads((tmp_path / "tuned.json").read_text())
    assert (record["n_epochs"], record["n_epochs_decay"], record["init_from"]) == (2, 4, str(base))
    start = record["exported_from"]["initialised_from"]
    assert (start["run"], start["epoch"]) == (str(base), "best")
    assert (start["options"]["n_epochs"], start["options"]["n_epochs_decay"]) == (15, 11)
    assert load_model(tmp_path / "tuned.pth").opt.netG == "unet_64"  # the record does not disturb loading
    export_model_file(base, "best", tmp_path / "base.pth")
    assert "initialised_from" not in json.loads((tmp_path / "base.json").read_text())["exported_from"]


def test_an_exported_resize_upsampling_generator_is_rebuilt_as_it_was_trained(tmp_path):
    run, trained = trained_run(tmp_path, {**PSGAN, "netG_upsample": "resize"})
    export_model_file(run, "best", tmp_path / "resize.pth", network_mode="eval")
    model = load_model(tmp_path / "resize.pth")
    assert model.opt.netG_upsample == "resize"
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.netG.modules())
    trained.netG.eval()
    assert torch.allclose(generate(model, window_batch()), generate(trained, window_batch()), atol=2e-2)
    # A file from before the flag records no netG_upsample and keeps the transposed convolutions.
    saved = json.loads((tmp_path / "resize.json").read_text())
    del saved["netG_upsample"]
    (tmp_path / "resize.json").write_text(json.dumps(saved))
    with pytest.raises(CheckpointError, match="does not match the network built from the options"):
        load_model(tmp_path / "resize.pth")
