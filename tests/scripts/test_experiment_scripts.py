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


REPRODUCE = SCRIPTS.parent


@pytest.mark.parametrize("script", ["reproduce_thesis.sh", "reproduce_mini.sh"])
def test_reproduce_scripts_dry_run_lists_the_whole_pipeline(script, tmp_path):
    result = subprocess.run(["bash", str(REPRODUCE / script), "--dry-run"], capture_output=True, text=True,
                            env={**os.environ, "WORK": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert sum("train.py" in c for c in commands) == 9 and sum("test.py" in c for c in commands) == 9
    assert sum("evaluation.evaluate" in c and "--baselines blur,pixelate,mask,noise" in c for c in commands) == 9
    for model in ("PSGAN", "PROGAN", "PIX2PIX"):
        for seed in (12, 22, 32):
            assert any(f"--name EXP_{model}_readme_seed{seed} --seed {seed}" in c for c in commands)
    assert "scripts/make_tables.py" in commands[-1] and "--seeds 12,22,32" in commands[-1]
    assert "data_preprocessing.cityscapes" in commands[0] or "make_demo_data" in commands[0]


def test_reproduce_skips_finished_steps_and_continues_interrupted_training(tmp_path):
    (tmp_path / ".done").mkdir()
    (tmp_path / ".done" / "dataset").touch()
    (tmp_path / ".done" / "train_test_psgan_12").touch()
    state = tmp_path / "checkpoints" / "EXP_PSGAN_readme_seed22" / "latest_state.pth"
    state.parent.mkdir(parents=True)
    state.touch()
    result = subprocess.run(["bash", str(REPRODUCE / "reproduce_mini.sh"), "--dry-run"], capture_output=True,
                            text=True, env={**os.environ, "WORK": str(tmp_path), "MODELS": "psgan"}, timeout=120)
    assert "== dataset: done before, skipped" in result.stdout
    assert "== train_test_psgan_12: done before, skipped" in result.stdout
    train_22 = next(c for c in result.stdout.splitlines() if "train.py" in c and "seed22" in c)
    assert train_22.rstrip().endswith("--continue_train")
