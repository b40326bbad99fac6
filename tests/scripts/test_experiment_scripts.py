"""The experiment scripts: --help works, and --dry-run prints the thesis commands with the overrides applied."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "experiments"


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPTS / script), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


@pytest.mark.parametrize("script", ["psgan.sh", "progan.sh", "pix2pix.sh"])
def test_help_names_the_overrides(script):
    result = run(script, "--help")
    assert result.returncode == 0
    for name in ("DATAROOT", "NAME", "SEED", "VARIANT", "EXTRA", "--dry-run"):
        assert name in result.stdout


def test_dry_run_prints_the_thesis_single_stage_commands_with_overrides():
    result = run("psgan.sh", "--dry-run", DATAROOT="/data/x", SEED="22", EXTRA="--num_threads 4")
    assert result.returncode == 0
    train, test = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert "train.py --dataroot /data/x --name EXP_SINGLE_STAGE_readme_seed22 --seed 22" in train
    assert "--netG_noise decoder --pool_size_image 50 --pool_size_person 50" in train
    assert train.endswith("--num_threads 4") and "--bbox_noise" not in train
    assert "test.py" in test and "--epoch best --num_test 500" in test


def test_thesis2021_variant_adds_the_era_defaults_after_the_readme_flags():
    result = run("progan.sh", "train", "--dry-run", VARIANT="thesis2021")
    (train,) = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert "--name EXP_TWO_STAGE_thesis2021_seed12" in train
    # argparse keeps the last value, so the era's clip 0.5 replaces the README's 10.
    assert train.index("--clip_value 10") < train.index("--clip_value 0.5")
    assert "--bbox_noise original" in train and "--pool_size_image 50" in train


def test_bad_arguments_fail_clearly():
    assert run("pix2pix.sh", "bogus").returncode == 2
    result = run("pix2pix.sh", "--dry-run", VARIANT="2019")
    assert result.returncode == 2 and "VARIANT must be readme or thesis2021" in result.stderr
