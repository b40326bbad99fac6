"""The thread rule every entry point applies: --threads, an explicit OMP_NUM_THREADS, cores / local processes
(torchrun) minus data-loader workers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from anonymizer import cli
from util.threads import configure_threads, plan_threads

TORCHRUN_2 = {"LOCAL_WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "none", "OMP_NUM_THREADS": "1"}


@pytest.mark.parametrize(("requested", "workers", "env", "cores", "expected"), [
    (None, 0, {}, 2, 2),  # a single process takes the machine
    (None, 0, {"LOCAL_WORLD_SIZE": "2"}, 2, 1),  # two local processes share 2 cores: 1 each, never 2 + 2
    (None, 0, TORCHRUN_2, 16, 8),  # torchrun's own OMP_NUM_THREADS=1 is replaced by cores / processes
    (None, 0, {**TORCHRUN_2, "LOCAL_WORLD_SIZE": "4"}, 2, 1),
    (None, 2, {}, 8, 6),  # each data-loader worker takes a core
    (None, 4, {}, 2, 1),  # at least one thread
    (None, 0, {"OMP_NUM_THREADS": "3"}, 16, 3),  # the user's explicit setting
    (None, 0, {"OMP_NUM_THREADS": "1", "LOCAL_WORLD_SIZE": "2"}, 16, 1),  # explicit (not torchrun's default)
    (5, 2, {"OMP_NUM_THREADS": "3", **TORCHRUN_2}, 2, 5),  # --threads wins over everything
])
def test_thread_plan(requested, workers, env, cores, expected):
    assert plan_threads(requested, workers, env=env, cores=cores).threads == expected


def test_thread_plan_says_why():
    assert plan_threads(None, 1, env={"LOCAL_WORLD_SIZE": "2"}, cores=8).describe() == (
        "3 intra-op threads (8 usable cores / 2 local processes - 1 data-loader worker)")
    assert plan_threads(2, env={}).describe() == "2 intra-op threads (--threads)"
    with pytest.raises(ValueError, match="--threads"):
        plan_threads(0)


def test_configure_threads_sets_torch():
    before = torch.get_num_threads()
    try:
        assert configure_threads(2).threads == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_entry_point_applies_threads_and_rejects_bad_values(tmp_path, capsys):
    before = torch.get_num_threads()
    image = tmp_path / "frame.png"
    Image.fromarray(np.full((64, 96, 3), 90, np.uint8)).save(image)
    (tmp_path / "boxes.json").write_text('{"image": "frame.png", "boxes": [[10, 10, 30, 50]]}')
    common = ["-i", str(image), "-a", str(tmp_path / "boxes.json"), "-o", str(tmp_path / "out"), "--method", "blur"]
    try:
        assert cli.main([*common, "--threads", "2"]) == 0
        assert "[threads] 2 intra-op threads (--threads)" in capsys.readouterr().out
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*common, "--threads", "0"])
    assert exit_info.value.code == 2
    assert "argument --threads: expected an integer >= 1, got '0'" in capsys.readouterr().err
