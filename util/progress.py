"""Progress bars for long loops (tqdm with rate and ETA); ``quiet`` turns them off for logs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_bar(items: Iterable[T], total: int | None = None, desc: str = "", quiet: bool = False,
                 unit: str = "it") -> tqdm:
    return tqdm(items, total=total, desc=desc, disable=quiet, unit=unit, dynamic_ncols=True, leave=False)
