"""scripts/demo_gan_rows.sh refuses bad arguments before measuring anything, and skips a set already measured."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_gan_rows.sh"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=30)


def test_too_few_arguments_print_the_usage(tmp_path):
    result = run("model.pth", "out", "out/gan_", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: bash scripts/demo_gan_rows.sh MODEL_FILE OUT DEST_PREFIX SEED..."


def test_a_missing_model_file_or_a_seed_that_is_not_a_number_is_named_and_nothing_is_made(tmp_path):
    result = run("missing.pth", "out", "rows/gan_", "1502", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"demo_gan_rows.sh: MODEL_FILE {(tmp_path / 'missing.pth').resolve()} not found"
    (tmp_path / "model.pth").write_bytes(b"weights")
    result = run("model.pth", "out", "rows/gan_", "1502", "15o3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "demo_gan_rows.sh: SEED must be a whole number, got '15o3'"
    assert not (tmp_path / "out").exists() and not (tmp_path / "rows").exists()


def test_a_set_whose_row_was_copied_is_not_measured_again(tmp_path):
    """A rerun after an interruption resumes: the sets already copied are skipped (no work folder, no log)."""
    (tmp_path / "model.pth").write_bytes(b"weights")
    (tmp_path / "rows").mkdir()
    for seed in ("1502", "1503"):
        (tmp_path / "rows" / f"gan_{seed}.json").write_text("{}")
    result = run("model.pth", "out", "rows/gan_", "1502", "1503", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == []
    assert (tmp_path / "rows" / "gan_1502.json").read_text() == "{}"
