"""The files of one checkpoint save, written and read as a unit.

A save of prefix ``P`` (``latest``, ``best``, an epoch number, ``iter_<n>``) writes one ``P_net_<Net>.pth`` per
network and, for a training save, ``P_state.pth`` (optimizers, schedulers, pools, random states). Written one after
another, a kill between two of them left new weights beside an old optimizer state, and ``--continue_train``
loaded the mixture without a word. So a save is a two-phase commit:

1. every file is written to ``.<file>.<stamp>.tmp`` (``stamp``: a fresh random id per save), flushed to disk;
2. the record ``P_checkpoint.json`` — the stamp and every file's SHA-256 — replaces the previous record
   atomically: **this rename is the commit**;
3. the temporary files are renamed onto the final names.

Reading (:func:`verify`) checks each file against the record. A file that differs while its temporary file of the
recorded stamp matches (a kill during step 3) is renamed into place, which finishes the commit; anything else (a
truncated or foreign file) is a ``CheckpointError`` naming the file. A kill before step 2 leaves the previous set
and its record untouched: a set is never half old, half new, and a committed set (a numbered epoch's state file
too) is only ever replaced by a complete newer one. :func:`clean_stale` removes the temporary files of saves that
never committed. A prefix without a record (saved before this scheme, or files put there by hand) loads as before.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from util.fileio import atomic_write_json, sha256_file

RECORD_SUFFIX = "_checkpoint.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, or does not fit the network built from the options."""


def record_path(folder: Path, prefix: str) -> Path:
    return folder / f"{prefix}{RECORD_SUFFIX}"


def temporary_path(folder: Path, name: str, stamp: str) -> Path:
    return folder / f".{name}.{stamp}.tmp"


def _write_durably(path: Path, write: Callable[[Path], None]) -> None:
    write(path)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def save(folder: Path, prefix: str, files: dict[str, Callable[[Path], None]]) -> str:
    """Write the set ``{file name: writer(path)}`` of ``prefix`` into ``folder`` as one unit; returns the stamp."""
    folder.mkdir(parents=True, exist_ok=True)
    finish_pending(folder, prefix)  # an earlier interrupted commit of this prefix is completed, not overwritten
    stamp = uuid.uuid4().hex
    digests = {}
    try:
        for name, write in files.items():
            temporary = temporary_path(folder, name, stamp)
            _write_durably(temporary, write)
            digests[name] = sha256_file(temporary)
    except BaseException:
        for name in files:
            temporary_path(folder, name, stamp).unlink(missing_ok=True)
        raise
    atomic_write_json(record_path(folder, prefix), {"prefix": prefix, "stamp": stamp, "files": digests})
    _move_into_place(folder, stamp, digests)
    return stamp


def _move_into_place(folder: Path, stamp: str, digests: dict[str, str]) -> None:
    for name in digests:
        temporary = temporary_path(folder, name, stamp)
        if temporary.exists():
            os.replace(temporary, folder / name)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the renames themselves reach the disk
    finally:
        os.close(fd)


def read_record(folder: Path, prefix: str) -> dict[str, Any] | None:
    """The record of ``prefix`` (None when the prefix has none); an unreadable record is a CheckpointError."""
    path = record_path(folder, prefix)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        if not isinstance(record.get("stamp"), str) or not isinstance(record.get("files"), dict):
            raise ValueError("no stamp or files")
    except (OSError, ValueError, AttributeError) as error:
        raise CheckpointError(f"{path}: unreadable checkpoint record ({error})") from None
    return record


def finish_pending(folder: Path, prefix: str) -> None:
    """Complete a commit that was interrupted after its record was written (step 3 of the module docstring)."""
    record = read_record(folder, prefix)
    if record is None:
        return
    pending = {name: digest for name, digest in record["files"].items()
               if temporary_path(folder, name, record["stamp"]).exists()}
    matching = {name: digest for name, digest in pending.items()
                if sha256_file(temporary_path(folder, name, record["stamp"])) == digest}
    _move_into_place(folder, record["stamp"], matching)


def verify(folder: Path, prefix: str, name: str) -> None:
    """Raise CheckpointError unless file ``name`` is the one the record of ``prefix`` lists (finishing an
    interrupted commit first); a prefix without a record is accepted as it is."""
    finish_pending(folder, prefix)
    record = read_record(folder, prefix)
    if record is None:
        return
    path = folder / name
    expected = record["files"].get(name)
    if expected is None:
        raise CheckpointError(f"{path}: not part of the checkpoint {prefix} recorded in "
                              f"{record_path(folder, prefix).name} (it lists {', '.join(sorted(record['files']))})")
    if not path.is_file() or sha256_file(path) != expected:
        raise CheckpointError(f"{path}: does not match the checkpoint record {record_path(folder, prefix).name} "
                              "(a save interrupted before it finished, or a file changed since); it was not "
                              "loaded, so no mixture of two saves is used")


def clean_stale(folder: Path) -> list[Path]:
    """Remove the temporary files of saves that never committed (after finishing any interrupted commit)."""
    if not folder.is_dir():
        return []
    for record in folder.glob(f"*{RECORD_SUFFIX}"):
        finish_pending(folder, record.name[: -len(RECORD_SUFFIX)])
    removed = []
    for path in sorted(folder.glob(".*.tmp")):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
