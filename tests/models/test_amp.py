"""Mixed precision on the CPU (bf16 autocast), the --amp/--deterministic switches, and person-D batching."""

from __future__ import annotations

import pytest
import torch

from data import create_dataset
from models import create_model
from options.train_options import TrainOptions
from util.precision import configure_backends

TINY = ["--crop_size", "64", "--load_size", "72", "--preprocess", "resize_crop_contrast", "--netG", "unet_64",
        "--ngf", "8", "--ndf", "8", "--gpu_ids", "-1", "--quiet"]


def build(dataroot, *extra: str):
    opt = TrainOptions().parse(["--dataroot", str(dataroot), *TINY, *extra])
    torch.manual_seed(0)
    model = create_model(opt)
    model.setup()
    model.set_input(next(iter(create_dataset(opt))))
    return model


def weights(model) -> dict[str, torch.Tensor]:
    return {f"{name}.{k}": v.clone() for name in model.model_names
            for k, v in model.network(name).state_dict().items()}


@pytest.mark.parametrize("model_flags", [("--model", "psgan"), ("--model", "progan", "--netG", "unet_64",
                                                                  "--netG2", "unet_64", "--stage_1_epochs", "0")],
                         ids=["psgan", "progan-stage2"])
def test_bf16_autocast_step_runs_with_finite_fp32_losses(crop_dataroot, tmp_path, model_flags):
    if "progan" in model_flags:
        # Stage 2 only needs a G1 in the run folder.
        stage_one = create_model(TrainOptions().parse(["--dataroot", str(crop_dataroot), *TINY, *model_flags,
                                                       "--checkpoints_dir", str(tmp_path)]))
        stage_one.save_networks("best")
    model = build(crop_dataroot, *model_flags, "--amp", "bf16", "--checkpoints_dir", str(tmp_path),
                  "--batch_size", "2")
    if "progan" in model_flags:
        model.set_batches_per_epoch(1)
    assert model.opt.amp == "bf16" and model.precision.enabled and not model.scalers
    before = weights(model)
    model.optimize_parameters()
    losses = model.get_current_losses()
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert model.fake_B.dtype == torch.float32  # outputs come back in fp32 for the losses
    after = weights(model)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(v.dtype == before[k].dtype for k, v in after.items())  # weights stay fp32


def test_amp_auto_resolves_to_none_on_the_cpu_and_fp16_is_refused(crop_dataroot, capsys):
    opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), *TINY])
    assert opt.amp == "none"  # resolved at parse time, so the saved options record it
    with pytest.raises(SystemExit):
        TrainOptions().parse(["--dataroot", str(crop_dataroot), *TINY, "--amp", "fp16"])
    assert "--amp fp16 needs a CUDA GPU" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        TrainOptions().parse(["--dataroot", str(crop_dataroot), *TINY, "--sync_bn"])
    assert "SyncBatchNorm only runs on GPUs" in capsys.readouterr().err


def test_deterministic_sets_every_switch(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        configure_backends(deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        import os

        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        configure_backends(deterministic=False, tf32=False)
        assert not torch.are_deterministic_algorithms_enabled()
        assert not torch.backends.cudnn.deterministic and torch.backends.cudnn.benchmark
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = False


def test_person_batching_grouped_matches_per_sample_without_batch_norm(crop_dataroot):
    model = build(crop_dataroot, "--norm", "instance", "--batch_size", "3")
    crops = [torch.randn(1, 3, 30, 12), torch.randn(1, 3, 30, 12), torch.randn(1, 3, 40, 16)]
    per_sample = model.person_predictions("D_person", crops)
    model.opt.person_batching = "grouped"
    grouped = model.person_predictions("D_person", crops)
    model.opt.person_batching = "padded"
    padded = model.person_predictions("D_person", crops)
    for (logits, feats), (g_logits, g_feats), (p_logits, _) in zip(per_sample, grouped, padded, strict=True):
        torch.testing.assert_close(g_logits, logits, rtol=1e-5, atol=1e-6)
        for f, g in zip(feats, g_feats, strict=True):
            torch.testing.assert_close(g, f, rtol=1e-5, atol=1e-6)
        assert p_logits.shape == logits.shape  # padded: one call, per-sample outputs (approximate values)
