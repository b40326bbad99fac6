"""Shared fixtures: the generated demo data turned into a tiny crop dataset (64 px crops)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from data_preprocessing import cityscapes
from synthetic import make_demo_data
from util import precision
from util.fileio import atomic_write_json

# The tests' networks are tiny: one intra-op thread is several times faster than two fighting over 2 cores. The
# environment variable carries this to the entry points (util/threads.py honours it) and to subprocesses.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)


def _pin_cpu_precision() -> None:
    """``--amp auto`` must resolve the same on every machine the suite runs on (fp32: the tests compare numbers),
    and explicit bf16 must not start the micro-benchmark: a session cache holds a measurement of 'bf16 no faster'
    for this machine. tests/util/test_precision.py tests the real decision with faked CPUs and measurements."""
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="agan_test_cache_")
    atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)
    info = precision.cpu_info()
    pinned = {"fp32_s": 1.0, "bf16_s": 1.0, "bf16_speedup": 1.0, "repeats": 0, "threads": 0,
              "measured": "pinned by tests/conftest.py"}
    threads = {1, int(os.environ["OMP_NUM_THREADS"]), os.cpu_count() or 1}
    atomic_write_json(precision.cache_file(), {precision.measurement_key(info, n): pinned for n in threads})


_pin_cpu_precision()


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
