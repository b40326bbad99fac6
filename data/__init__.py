"""Dataset registry and loader (pix2pix layout).

``--dataset_mode <name>`` selects class ``<Name>Dataset`` (a ``BaseDataset``) in ``data/<name>_dataset.py``.
``create_dataset(opt)`` builds it and wraps it in a seeded DataLoader::

    dataset = create_dataset(opt)          # prints "[dataset] train: N samples[, k skipped (...)]"
    for epoch in ...:
        dataset.set_epoch(epoch)           # shuffling order and per-sample randomness of this epoch
        for batch in dataset: ...          # a data.batch.Batch; dataset.iterate(start_batch=k) resumes mid-epoch

Under torchrun the training loader (``create_dataset(opt, shard=True)``) serves rank r the shard
``padded_order[r::world]`` of the epoch's (seed, epoch) order, padded by wrapping around to a multiple of the
world size (as ``DistributedSampler``): batch k of all ranks together is batch k of a single process with
``world x batch_size`` samples per batch, and ``start_batch`` resumes every rank at the same place.

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
from data.batch import Batch, make_batch
from data.errors import DatasetError
from util import distributed

__all__ = [
    "BaseDataset",
    "Batch",
    "DatasetError",
    "DatasetLoader",
    "available_dataset_modes",
    "create_dataset",
    "find_dataset_using_name",
    "get_option_setter",
    "make_batch",
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


def _shuffle_seed(seed: int, epoch: int) -> int:
    # Mix seed and epoch so (seed, epoch + 1) and (seed + 1, epoch) do not share an order.
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0])


class _EpochIndexed(torch.utils.data.Dataset):
    """Items addressed by (epoch, index): persistent workers keep their dataset copy between epochs, so the
    epoch of the per-sample random streams travels with each index instead of through ``set_epoch``."""

    def __init__(self, dataset: BaseDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> Batch:
        epoch, index = key
        if self.dataset.epoch != epoch:
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class _ListSampler(torch.utils.data.Sampler):
    """Serves whatever ``keys`` holds when an iterator is created (one DataLoader serves every epoch)."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(list(self.keys))

    def __len__(self) -> int:
        return len(self.keys)


class DatasetLoader:
    """A dataset plus its batching: iterate over it to get collated batches of the current epoch.

    The sample order is a permutation drawn from a ``torch.Generator`` seeded from (seed, epoch) only, so
    iterating twice in one epoch, or resuming in the middle of one, gives the same batches.
    """

    def __init__(self, opt: Any, shard: bool = False) -> None:
        self.opt = opt
        self.dataset = find_dataset_using_name(getattr(opt, "dataset_mode", "aligned"))(opt)
        self.seed = int(opt.seed)
        self.batch_size = int(opt.batch_size)
        self.shuffle = not opt.serial_batches
        self.num_workers = int(opt.num_threads)
        self.epoch = 0
        self.rank, self.world_size = (distributed.rank(), distributed.world_size()) if shard else (0, 1)
        on_cuda = bool(getattr(opt, "gpu_ids", [])) and torch.cuda.is_available()
        self.pin_memory = on_cuda  # page-locked batches: the host-to-GPU copy overlaps compute (non_blocking)
        self.persistent_workers = on_cuda and self.num_workers > 0  # no worker start-up at every epoch
        self.sampler = _ListSampler()
        self.loader: torch.utils.data.DataLoader | None = None

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
        """Batches per epoch on this rank (= optimizer steps per epoch of the whole run)."""
        return math.ceil(self.shard_size() / self.batch_size)

    def shard_size(self) -> int:
        return math.ceil(len(self.dataset) / self.world_size)

    def order(self) -> list[int]:
        """The sample indices of the current epoch, in the order they are served."""
        if not self.shuffle:
            return list(range(len(self.dataset)))
        generator = torch.Generator().manual_seed(_shuffle_seed(self.seed, self.epoch))
        return torch.randperm(len(self.dataset), generator=generator).tolist()

    def shard(self) -> list[int]:
        """This rank's indices of the current epoch: the order wrapped around to world x shard_size, every
        world-th from position ``rank`` (the whole order in a single process)."""
        order = self.order()
        if self.world_size == 1:
            return order
        total = self.shard_size() * self.world_size
        padded = (order * math.ceil(total / len(order)))[:total]
        return padded[self.rank :: self.world_size]

    def iterate(self, start_batch: int = 0) -> Iterator[Batch]:
        """Batches of the current epoch from batch ``start_batch`` on (skipped samples are never loaded)."""
        self.sampler.keys = [(self.epoch, i) for i in self.shard()[start_batch * self.batch_size :]]
        loader = self.data_loader()
        # A generator of its own: the DataLoader draws its worker base seed from it, and drawing from the global
        # stream instead would shift the training randomness when a run resumes mid-epoch.
        loader.generator = torch.Generator().manual_seed(_shuffle_seed(self.seed, self.epoch))
        return iter(loader)

    def data_loader(self) -> torch.utils.data.DataLoader:
        """One DataLoader for every epoch (its sampler's keys change), so persistent workers stay alive."""
        if self.loader is None:
            workers = self.num_workers > 0
            self.loader = torch.utils.data.DataLoader(
                _EpochIndexed(self.dataset),
                batch_size=self.batch_size,
                sampler=self.sampler,
                num_workers=self.num_workers,
                collate_fn=Batch.concat,
                pin_memory=self.pin_memory,
                persistent_workers=self.persistent_workers,
                prefetch_factor=4 if workers else None,  # batches each worker decodes ahead
            )
        return self.loader

    def __iter__(self) -> Iterator[Batch]:
        return self.iterate()


def create_dataset(opt: Any, shard: bool = False) -> DatasetLoader:
    """Build the dataset named by ``opt.dataset_mode`` and its loader; prints the dataset summary line.

    ``shard``: serve only this torchrun rank's share (the training set; validation and test read everything)."""
    loader = DatasetLoader(opt, shard)
    summary = getattr(loader.dataset, "summary", None)
    if summary:
        print(summary)
    return loader
