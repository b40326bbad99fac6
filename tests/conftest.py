"""Shared fixtures: the generated demo data turned into a tiny crop dataset (64 px crops)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data_preprocessing import cityscapes
from synthetic import make_demo_data

# The tests' networks are tiny: one intra-op thread is several times faster than two fighting over 2 cores.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def crop_dataroot(tmp_path_factory) -> Path:
    """Synthetic 512x256 street frames -> 64 px crops: train 6, val 4, val5 2 and a test split."""
    work = tmp_path_factory.mktemp("demo")
    assert make_demo_data.main(["--out", str(work / "frames"), "--frames", "12", "--size", "512x256",
                                "--seed", "3", "--quiet"]) == 0
    # The thesis's size filter at a quarter of the frame size, so the crops can be 64 px.
    assert cityscapes.main(["--cityscapes_root", str(work / "frames"), "--out", str(work / "crops"),
                            "--source_splits", "train,val,test", "--frame_size", "512x256", "--crop_size", "64",
                            "--min_width", "10", "--max_width", "25", "--min_height", "30", "--max_height", "62",
                            "--split", "train=0.5,val=0.25,test=0.25", "--subset", "train=6,val=4",
                            "--n_val_vis", "2", "--seed", "3", "--workers", "1", "--quiet"]) == 0
    return work / "crops"
