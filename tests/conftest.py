"""Shared fixtures: a tiny crop dataset (64 px) in the training layout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))


@pytest.fixture(scope="session")
def crop_dataroot(tmp_path_factory) -> Path:
    from conftest import write_sample  # tests/data/conftest.py

    root = tmp_path_factory.mktemp("crops")
    for phase, count in (("train", 6), ("val", 4), ("val5", 2), ("test", 3)):
        for i in range(count):
            write_sample(root, f"city_{i:06d}_{phase}_{i}", box=(16 + i, 8, 40 + i, 56), phase=phase, seed=i)
    return root
