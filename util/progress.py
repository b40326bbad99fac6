"""Progress of long loops: a tqdm bar (rate and ETA) on a terminal, one line every 10 % in a log file or pipe,
nothing with ``quiet``.

A bar redraws itself with carriage returns several times a second, which in ``scripts/demo.sh > log`` becomes
megabytes of partial lines; when stderr is not a terminal ``LineProgress`` prints a complete line each time the
loop passes another ``LINE_STEP_PERCENT`` of its total (every ``LINE_STEP_UNKNOWN`` items when the total is
unknown) and one when it ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
LINE_STEP_PERCENT = 10
LINE_STEP_UNKNOWN = 100


def progress_bar(items: Iterable[T], total: int | None = None, desc: str = "", quiet: bool = False,
                 unit: str = "it") -> tqdm | LineProgress:
    """Iterate over ``items`` with progress shown on stderr (``update``, ``set_postfix`` and ``close`` work on both
    kinds)."""
    if quiet or sys.stderr.isatty():
        return tqdm(items, total=total, desc=desc, disable=quiet, unit=unit, dynamic_ncols=True, leave=False)
    return LineProgress(items, total=total, desc=desc, unit=unit)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class LineProgress:
    """Progress as whole lines, e.g. ``epoch 1:  40% 48/120 it [00:12 elapsed, 3.90 it/s, eta 00:18] G_L1=12.3``."""

    def __init__(self, items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it",
                 stream: TextIO | None = None) -> None:
        self.items = items
        self.total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
        self.desc, self.unit = desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.reported = 0  # n at the last printed line
        self.postfix = ""
        self.started = time.perf_counter()
        self.closed = False

    def __iter__(self) -> Iterator[T]:
        try:
            for item in self.items:
                yield item
                self.update(1)
        finally:
            self.close()

    def __len__(self) -> int:
        return self.total or 0

    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self.total:
            step = max(self.total * LINE_STEP_PERCENT // 100, 1)
            crossed = self.n // step > before // step or (self.n >= self.total > before)
        else:
            crossed = self.n // LINE_STEP_UNKNOWN > before // LINE_STEP_UNKNOWN
        if crossed:
            self.print_line()

    def set_postfix(self, ordered_dict: Mapping[str, Any] | None = None, refresh: bool = True, **kwargs: Any) -> None:
        values = {**(ordered_dict or {}), **kwargs}
        self.postfix = " ".join(f"{key}={value}" for key, value in values.items())

    def print_line(self) -> None:
        elapsed = time.perf_counter() - self.started
        rate = self.n / elapsed if elapsed > 0 else 0.0
        if self.total:
            done = f"{100 * self.n // self.total:3d}% {self.n}/{self.total} {self.unit}"
            left = (self.total - self.n) / rate if rate > 0 else 0.0
            timing = f"[{_clock(elapsed)} elapsed, {rate:.2f} {self.unit}/s, eta {_clock(left)}]"
        else:
            done = f"{self.n} {self.unit}"
            timing = f"[{_clock(elapsed)} elapsed, {rate:.2f} {self.unit}/s]"
        prefix = f"{self.desc}: " if self.desc else ""
        self.stream.write(f"{prefix}{done} {timing}{' ' + self.postfix if self.postfix else ''}\n")
        self.stream.flush()
        self.reported = self.n

    def close(self) -> None:
        """Print the final count once, unless the last line already showed it."""
        if not self.closed and self.n != self.reported:
            self.print_line()
        self.closed = True
