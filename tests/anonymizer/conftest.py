"""Fixtures for the full-frame anonymizer: tiny demo frames (512×256) and a tiny trained psgan run (64 px)."""

from __future__ import annotations

from pathlib import Path

import pytest

import train as train_script
from synthetic import make_demo_data

# 64 px crops, unet_64, ngf 8: seconds to train on the session's crop dataset (tests/conftest.py).
TINY_RUN = ["--crop_size", "64", "--load_size", "72", "--preprocess", "resize_crop", "--netG", "unet_64",
            "--ngf", "8", "--ndf", "8", "--gpu_ids", "-1", "--quiet", "--val_metric", "box_l1", "--n_epochs", "1",
            "--n_epochs_decay", "0", "--netG_mask_input", "--bbox_noise", "random", "--pool_size_image", "2",
            "--pool_size_person", "2", "--seed", "0"]


@pytest.fixture(scope="session")
def demo_frames(tmp_path_factory) -> Path:
    """3 synthetic 512×256 frames: ``leftImg8bit/<split>/<city>/`` and ``gtBboxCityPersons/<split>/<city>/``."""
    root = tmp_path_factory.mktemp("anon_frames")
    assert make_demo_data.main(["--out", str(root), "--frames", "3", "--size", "512x256", "--seed", "5",
                                "--quiet"]) == 0
    return root


@pytest.fixture(scope="session")
def tiny_run(crop_dataroot, tmp_path_factory) -> Path:
    """checkpoints folder holding run ``tiny`` (psgan, 64 px, mask input, random box fill), 1 epoch."""
    checkpoints = tmp_path_factory.mktemp("anon_ckpt")
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(checkpoints),
                              "--name", "tiny", *TINY_RUN]) == 0
    return checkpoints


@pytest.fixture(scope="session")
def tiny_shape_run(crop_dataroot, tmp_path_factory) -> Path:
    """checkpoints folder holding run ``tiny`` trained to paint persons in their own shape (--person_hole_fraction
    0.5; the crops' person masks come from the demo data's instance ids), grey fill, 1 epoch."""
    checkpoints = tmp_path_factory.mktemp("anon_shape_ckpt")
    flags = [flag if flag != "random" else "none" for flag in TINY_RUN]
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(checkpoints),
                              "--name", "tiny", *flags, "--person_hole_fraction", "0.5"]) == 0
    return checkpoints


@pytest.fixture(scope="session")
def tiny_inpaint_run(crop_dataroot, tmp_path_factory) -> Path:
    """checkpoints folder holding run ``tiny`` with the dilated inpainting generator (decoder noise, silhouette
    input), 1 epoch."""
    checkpoints = tmp_path_factory.mktemp("anon_inpaint_ckpt")
    flags = [{"unet_64": "inpaint"}.get(flag, flag) for flag in TINY_RUN]
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(checkpoints),
                              "--name", "tiny", *flags, "--netG_noise", "decoder", "--netG_silhouette_input"]) == 0
    return checkpoints


@pytest.fixture(scope="session")
def tiny_silhouette_run(crop_dataroot, tmp_path_factory) -> Path:
    """checkpoints folder holding run ``tiny`` told where the person is (--netG_silhouette_input), 1 epoch; train.py
    leaves its silhouette bank in the run folder."""
    checkpoints = tmp_path_factory.mktemp("anon_silhouette_ckpt")
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(checkpoints),
                              "--name", "tiny", *TINY_RUN, "--netG_silhouette_input"]) == 0
    return checkpoints


@pytest.fixture(scope="session")
def tiny_cvae_run(crop_dataroot, tmp_path_factory) -> Path:
    """checkpoints folder holding run ``tiny`` trained with the cVAE branch (a latent code, an encoder E), 1 epoch."""
    checkpoints = tmp_path_factory.mktemp("anon_cvae_ckpt")
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(checkpoints),
                              "--name", "tiny", *TINY_RUN, "--netG_noise", "latent", "--lambda_vae_L1", "10"]) == 0
    return checkpoints
