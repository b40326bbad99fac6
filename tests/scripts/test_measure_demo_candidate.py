"""scripts/measure_demo_candidate.sh refuses bad arguments at once, before any export or evaluation."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "measure_demo_candidate.sh"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=30)


def test_wrong_argument_count_prints_the_usage(tmp_path):
    result = run("only_one", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: bash scripts/measure_demo_candidate.sh RUN_DIR MODEL_FILE EVAL_ROOT" in result.stderr


def test_a_folder_that_is_not_a_training_run_is_named(tmp_path):
    (tmp_path / "not_a_run").mkdir()
    result = run("not_a_run", "out/model.pth", "evals", cwd=tmp_path)
    assert result.returncode == 2
    run_dir = (tmp_path / "not_a_run").resolve()
    assert f"RUN_DIR {run_dir} is not a training run (no train_opt.json there)" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "evals").exists()
