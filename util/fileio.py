"""Atomic file writes: a reader never sees a half-written file, and an interrupted write loses nothing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` for a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp_name)
    # mkstemp creates 0600 files; give the result the permissions any new file would get under the umask.
    os.chmod(tmp_path, 0o666 & ~_current_umask())
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def torch_writer(obj: Any) -> Callable[[Path], None]:
    """A ``write`` for :func:`atomic_write` that ``torch.save``s ``obj``. It writes through a file object: given a
    path, torch names the archive's inner folder after the file, here the random temporary name, so the same
    object would give different bytes (and SHA-256) on every save."""
    import torch  # here, so that the JSON and text writers do not need torch

    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            torch.save(obj, handle)
    return write


def atomic_write_bytes(path: str | Path, payload: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(payload))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def append_json_line(path: str | Path, obj: Any) -> None:
    """Append ``obj`` as one JSON line to ``path``, durably: a single ``write`` on an O_APPEND descriptor (the line
    lands whole, after every earlier one), then fsync. A kill can at worst leave the last line incomplete, which
    :func:`read_json_lines` skips."""
    line = (json.dumps(obj, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json_lines(path: str | Path) -> list[Any]:
    """Every complete JSON line of a file written by :func:`append_json_line` ([] when it does not exist)."""
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:  # the empty tail, or a line cut off by a kill
            continue
    return records
