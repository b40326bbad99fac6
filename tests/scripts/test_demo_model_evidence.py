"""scripts/demo_model_evidence.sh measures the held-out frames it is asked for: a bad HELDOUT_SEED, or a WORK_DIR
whose frames were made with another seed or number of frames, is one error before any anonymization."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_model_evidence.sh"


def run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WORK_DIR": str(tmp_path / "work"), "RESULTS_DIR": str(tmp_path / "out"),
                               **env})


def test_a_held_out_seed_that_is_not_a_number_is_refused(tmp_path):
    result = run(tmp_path, HELDOUT_SEED="15o3")
    assert result.returncode == 2
    assert result.stderr.strip() == "demo_model_evidence.sh: HELDOUT_SEED must be a whole number, got '15o3'"
    assert not (tmp_path / "work").exists()


def test_frames_made_with_another_seed_or_size_are_not_measured_as_these(tmp_path):
    held_out = tmp_path / "work" / "heldout"
    held_out.mkdir(parents=True)
    (held_out / "identities.json").write_text("{}")
    (held_out / "demo_manifest.json").write_text(json.dumps({"seed": 1503, "total_frames": 48}))
    for asked, wanted in (({"FRAMES": "48"}, "seed 1502, 48 frames"),
                          ({"FRAMES": "12", "HELDOUT_SEED": "1503"}, "seed 1503, 12 frames")):
        result = run(tmp_path, **asked)
        assert result.returncode == 2
        assert (f"{held_out}/demo_manifest.json says seed 1503, 48 frames; HELDOUT_SEED and FRAMES ask for {wanted}"
                in result.stderr)
        assert "use another WORK_DIR" in result.stderr
    (held_out / "demo_manifest.json").unlink()
    result = run(tmp_path, FRAMES="48", HELDOUT_SEED="1503")
    assert result.returncode == 2 and "demo_manifest.json says unreadable (" in result.stderr
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["heldout"]  # nothing anonymized
    assert not (tmp_path / "out").exists()
