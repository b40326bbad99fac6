"""Base class of every dataset that ``--dataset_mode`` can name."""

from __future__ import annotations

import argparse
from typing import Any

import torch.utils.data

from data.batch import Batch


class BaseDataset(torch.utils.data.Dataset):
    """A dataset built from the options object; subclasses implement ``__len__`` and ``__getitem__``.

    ``epoch`` feeds per-sample random streams, so a sample depends only on (seed, epoch, index): results do
    not change with the number of DataLoader workers and a resumed run sees the same data.
    """

    def __init__(self, opt: Any) -> None:
        self.opt = opt
        self.root = opt.dataroot
        self.epoch = 0

    @staticmethod
    def modify_commandline_options(
        parser: argparse.ArgumentParser, is_train: bool
    ) -> argparse.ArgumentParser:
        """Hook to add dataset-specific flags or change defaults; the base adds nothing."""
        return parser

    def set_epoch(self, epoch: int) -> None:
        """Select the random stream of this epoch (call before creating the DataLoader iterator)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Batch:
        """Sample ``index`` as a batch of one (``data.batch.make_batch``)."""
        raise NotImplementedError
