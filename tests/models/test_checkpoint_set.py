"""Checkpoint sets: the files of one save are committed together, resumed only when complete, never lost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from models import checkpoint_set
from models.checkpoint_set import CheckpointError, record_path

FILES = ("latest_net_G.pth", "latest_net_D.pth", "latest_state.pth")


def writers(version: str) -> dict:
    return {name: (lambda path, name=name: path.write_text(f"{name} {version}")) for name in FILES}


def contents(folder: Path) -> dict[str, str]:
    return {name: (folder / name).read_text() for name in FILES}


def save_in_a_process_that_dies(folder: Path, version: str, die: str) -> None:
    """Save the set from a child process that is killed (os._exit, like kill -9: no cleanup runs) ``die``:
    'after 2 files' are written, or 'after the commit' (record renamed, files not yet), or 'after 1 rename'."""
    script = textwrap.dedent(f"""
        import importlib.util, os, sys
        from pathlib import Path
        root = {str(Path(__file__).resolve().parents[2])!r}
        sys.path.insert(0, root)
        # The module alone, without the models package (which imports torch): the child starts in a moment.
        spec = importlib.util.spec_from_file_location("checkpoint_set", root + "/models/checkpoint_set.py")
        checkpoint_set = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(checkpoint_set)
        files, written = {FILES!r}, []
        def writer(name):
            def write(path):
                if {die!r} == "after 2 files" and len(written) == 2:
                    os._exit(9)
                path.write_text(name + " {version}")
                written.append(name)
            return write
        real_replace = os.replace
        def replace(src, dst):
            if {die!r} == "after the commit" and str(dst).endswith(".pth"):
                os._exit(9)
            real_replace(src, dst)
            if {die!r} == "after 1 rename" and str(dst).endswith(".pth"):
                os._exit(9)
        os.replace = replace
        checkpoint_set.save(Path({str(folder)!r}), "latest", {{name: writer(name) for name in files}})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr


def test_a_save_writes_every_file_and_a_record_that_verifies(tmp_path):
    checkpoint_set.save(tmp_path, "latest", writers("v1"))
    assert contents(tmp_path) == {name: f"{name} v1" for name in FILES}
    for name in FILES:
        checkpoint_set.verify(tmp_path, "latest", name)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_kill_before_the_commit_keeps_the_previous_set_whole(tmp_path):
    checkpoint_set.save(tmp_path, "latest", writers("v1"))
    record = record_path(tmp_path, "latest").read_text()
    save_in_a_process_that_dies(tmp_path, "v2", "after 2 files")
    assert contents(tmp_path) == {name: f"{name} v1" for name in FILES}  # nothing of v2 is in place
    assert record_path(tmp_path, "latest").read_text() == record
    assert len(list(tmp_path.glob(".*.tmp"))) == 2
    removed = checkpoint_set.clean_stale(tmp_path)
    assert len(removed) == 2 and not list(tmp_path.glob(".*.tmp"))
    for name in FILES:
        checkpoint_set.verify(tmp_path, "latest", name)


@pytest.mark.parametrize("die", ["after the commit", "after 1 rename"])
def test_a_kill_after_the_commit_is_finished_on_the_next_load(tmp_path, die):
    checkpoint_set.save(tmp_path, "latest", writers("v1"))
    save_in_a_process_that_dies(tmp_path, "v2", die)
    for name in FILES:  # a mixture until the commit is finished ...
        checkpoint_set.verify(tmp_path, "latest", name)  # ... which the first load does
    assert contents(tmp_path) == {name: f"{name} v2" for name in FILES}
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_file_from_another_save_or_a_truncated_one_is_refused(tmp_path):
    checkpoint_set.save(tmp_path / "a", "latest", writers("v1"))
    checkpoint_set.save(tmp_path / "b", "latest", writers("v2"))
    os.replace(tmp_path / "b" / "latest_net_G.pth", tmp_path / "a" / "latest_net_G.pth")
    with pytest.raises(CheckpointError, match=r"latest_net_G\.pth: does not match the checkpoint record"):
        checkpoint_set.verify(tmp_path / "a", "latest", "latest_net_G.pth")
    (tmp_path / "a" / "latest_state.pth").write_text("latest_state")  # truncated
    with pytest.raises(CheckpointError, match=r"latest_state\.pth: does not match"):
        checkpoint_set.verify(tmp_path / "a", "latest", "latest_state.pth")
    with pytest.raises(CheckpointError, match="not part of the checkpoint latest"):
        checkpoint_set.verify(tmp_path / "a", "latest", "latest_net_X.pth")


def test_sets_without_a_record_load_as_before(tmp_path):
    (tmp_path / "latest_net_G.pth").write_text("an older run's file")
    checkpoint_set.verify(tmp_path, "latest", "latest_net_G.pth")  # no record: nothing to check against
