"""The options of a trained model without a command line: a run folder or a shipped model file, plus keywords.

A *run* is the folder ``<checkpoints_dir>/<name>`` that train.py writes: ``train_opt.json`` (every resolved
training option) and ``<prefix>_net_<Net>.pth``. A *model file* is a generator state dict ``<stem>.pth`` shipped
beside ``<stem>.json``, the training options it was made with (train_opt.json or the subset describing the
networks and their input). Both resolve exactly as ``test.py --name ...`` does: the network flags come from the
saved options, everything else from the test defaults, and keyword overrides win::

    opt = run_options("checkpoints/demo_psgan", epoch="best", gpu_ids="-1")
    opt = model_file_options("weights/demo_psgan.pth", gpu_ids="-1")
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .base_options import OptionsError
from .test_options import TestOptions, load_training_options

TRAINING_OPTIONS_FILE = "train_opt.json"


def run_options(run: str | Path, **overrides: Any) -> argparse.Namespace:
    """Test-time options of the run folder ``run`` (its train_opt.json), with ``overrides`` applied."""
    run = Path(run)
    saved = run / TRAINING_OPTIONS_FILE
    if not saved.is_file():
        raise OptionsError(f"{saved}: not found; a trained run folder (<checkpoints_dir>/<name>) holds the options "
                           "it was trained with")
    return TestOptions().parse_keywords(checkpoints_dir=str(run.parent), name=run.name, **overrides)


def model_file_options(path: str | Path, **overrides: Any) -> argparse.Namespace:
    """Test-time options of a shipped model file ``<stem>.pth`` from ``<stem>.json`` beside it."""
    path = Path(path)
    saved_path = path.with_suffix(".json")
    if not saved_path.is_file():
        raise OptionsError(f"{saved_path}: not found; a model file {path.name} ships with the options it was "
                           f"trained with in {saved_path.name}")
    saved = load_training_options(saved_path)
    return TestOptions(training_options=saved).parse_keywords(checkpoints_dir=str(path.parent), name=path.stem,
                                                              **overrides)
