"""The one error type of the data package: a bad file or folder, named first in the message."""

from __future__ import annotations

import os


class DatasetError(ValueError):
    """A problem with one dataset file or folder.

    ``str(err)`` is ``"<path>: <problem>"`` so the caller can print it as a one-line error. ``kind`` is a
    short category (``"missing JSON"``, ``"box outside the image"``, ...) used to count skipped samples.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str = "", kind: str = "") -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.kind = kind or "bad sample"
        # A single argument is taken as the whole message, so the class can be rebuilt from a string
        # (DataLoader workers re-raise exceptions that way).
        super().__init__(f"{self.path}: {problem}" if problem else self.path)

    def __reduce__(self) -> tuple[type[DatasetError], tuple[str, str, str]]:
        # Keep path/problem/kind across pickling (multiprocessing workers).
        return (type(self), (self.path, self.problem, self.kind))
