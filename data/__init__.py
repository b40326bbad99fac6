"""Dataset registry and loader (pix2pix layout).

``--dataset_mode <name>`` selects class ``<Name>Dataset`` (a ``BaseDataset``) in ``data/<name>_dataset.py``.
``create_dataset(opt)`` builds it and wraps it in a seeded DataLoader::

    dataset = create_dataset(opt)          # prints "[dataset] train: N samples[, k skipped (...)]"
    for epoch in ...:
        dataset.set_epoch(epoch)           # shuffling order and per-sample randomness of this epoch
        for batch in dataset: ...          # or dataset.iterate(start_batch=k) to resume mid-epoch

Bad data raises ``DatasetError`` whose message starts with the offending path.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.utils.data

from data.base_dataset import BaseDataset
from data.errors import DatasetError

__all__ = [
    "BaseDataset",
    "DatasetError",
    "DatasetLoader",
    "available_dataset_modes",
    "collate_samples",
    "create_dataset",
    "find_dataset_using_name",
    "get_option_setter",
]


def available_dataset_modes() -> list[str]:
    """Names of the ``data/<name>_dataset.py`` modules (underscore-prefixed files are private; ``base`` is
    the abstract base)."""
    here = Path(__file__).parent
    names = (p.name[: -len("_dataset.py")] for p in here.glob("*_dataset.py"))
    return sorted(name for name in names if not name.startswith("_") and name != "base")


def find_dataset_using_name(name: str) -> type[BaseDataset]:
    """The ``BaseDataset`` subclass ``<Name>Dataset`` from ``data/<name>_dataset.py`` (case-insensitive)."""
    if name not in available_dataset_modes():
        raise ValueError(f"unknown dataset_mode {name!r}; available: {', '.join(available_dataset_modes())}")
    module = importlib.import_module(f"data.{name}_dataset")
    wanted = name.replace("_", "").lower() + "dataset"
    for attr, value in vars(module).items():
        if attr.lower() == wanted and isinstance(value, type) and issubclass(value, BaseDataset):
            return value
    raise ValueError(f"data/{name}_dataset.py defines no BaseDataset subclass named like {wanted!r}")


def get_option_setter(name: str) -> Callable[[argparse.ArgumentParser, bool], argparse.ArgumentParser]:
    """The dataset class's static ``modify_commandline_options(parser, is_train)``."""
    return find_dataset_using_name(name).modify_commandline_options


def collate_samples(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors (images; boxes become an int64 B x 4 tensor) and keep everything else as lists."""
    out: dict[str, Any] = {}
    for key in batch[0]:
        values = [item[key] for item in batch]
        out[key] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return out


def _shuffle_seed(seed: int, epoch: int) -> int:
    # Mix seed and epoch so (seed, epoch + 1) and (seed + 1, epoch) do not share an order.
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0])


class DatasetLoader:
    """A dataset plus its batching: iterate over it to get collated batches of the current epoch.

    The sample order is a permutation drawn from a ``torch.Generator`` seeded from (seed, epoch) only, so
    iterating twice in one epoch, or resuming in the middle of one, gives the same batches.
    """

    def __init__(self, opt: Any) -> None:
        self.opt = opt
        self.dataset = find_dataset_using_name(getattr(opt, "dataset_mode", "aligned"))(opt)
        self.seed = int(opt.seed)
        self.batch_size = int(opt.batch_size)
        self.shuffle = not opt.serial_batches
        self.num_workers = int(opt.num_threads)
        self.epoch = 0

    def load_data(self) -> DatasetLoader:
        return self

    def set_epoch(self, epoch: int) -> None:
        """Select this epoch's sample order and per-sample randomness (call before iterating)."""
        self.epoch = int(epoch)
        self.dataset.set_epoch(self.epoch)

    def __len__(self) -> int:
        """Number of samples (not batches), as pix2pix's loader reports it."""
        return len(self.dataset)

    def num_batches(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def order(self) -> list[int]:
        """The sample indices of the current epoch, in the order they are served."""
        if not self.shuffle:
            return list(range(len(self.dataset)))
        generator = torch.Generator().manual_seed(_shuffle_seed(self.seed, self.epoch))
        return torch.randperm(len(self.dataset), generator=generator).tolist()

    def iterate(self, start_batch: int = 0) -> Iterator[dict[str, Any]]:
        """Batches of the current epoch from batch ``start_batch`` on (skipped samples are never loaded)."""
        # A generator of its own: the DataLoader draws its worker base seed from it, and drawing from the global
        # stream instead would shift the training randomness when a run resumes mid-epoch.
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=self.order()[start_batch * self.batch_size :],
            num_workers=self.num_workers,
            collate_fn=collate_samples,
            generator=torch.Generator().manual_seed(_shuffle_seed(self.seed, self.epoch)),
        )
        return iter(loader)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iterate()


def create_dataset(opt: Any) -> DatasetLoader:
    """Build the dataset named by ``opt.dataset_mode`` and its loader; prints the dataset summary line."""
    loader = DatasetLoader(opt)
    summary = getattr(loader.dataset, "summary", None)
    if summary:
        print(summary)
    return loader
