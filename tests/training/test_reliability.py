"""The training loop fails loudly and keeps good checkpoints: mixed or truncated sets, divergence, a tiny val split."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import train as train_script
from models import checkpoint_set

TINY = ["--crop_size", "64", "--load_size", "72", "--preprocess", "resize_crop", "--netG", "unet_64", "--ngf", "8",
        "--ndf", "8", "--gpu_ids", "-1", "--quiet", "--val_metric", "box_l1", "--name", "run", "--n_epochs", "1",
        "--n_epochs_decay", "1", "--save_epoch_freq", "1", "--print_freq", "100"]


def train(dataroot: Path, checkpoints: Path, *extra: str) -> int:
    return train_script.main(["--dataroot", str(dataroot), "--checkpoints_dir", str(checkpoints), *TINY, *extra])


@pytest.fixture(scope="module")
def finished_run(crop_dataroot, tmp_path_factory) -> Path:
    """A 2-epoch run with the sets latest, 1, 2 and best."""
    checkpoints = tmp_path_factory.mktemp("reliability")
    assert train(crop_dataroot, checkpoints) == 0
    return checkpoints


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def copy_run(finished_run: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished_run / "run", tmp_path / "run")
    return tmp_path / "run"


def test_continue_train_refuses_new_weights_beside_an_old_state(crop_dataroot, finished_run, tmp_path, capsys):
    # What a kill between the files of a save left: one network from a newer save than the optimizer state.
    run = copy_run(finished_run, tmp_path)
    shutil.copy(run / "1_net_G.pth", run / "latest_net_G.pth")
    capsys.readouterr()
    assert train(crop_dataroot, tmp_path, "--continue_train") == 2
    line = one_error_line(capsys.readouterr().err)
    assert "latest_net_G.pth: does not match the checkpoint record latest_checkpoint.json" in line


def test_a_truncated_state_file_is_one_error(crop_dataroot, finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    state = (run / "latest_state.pth").read_bytes()
    (run / "latest_state.pth").write_bytes(state[: len(state) // 2])
    capsys.readouterr()
    assert train(crop_dataroot, tmp_path, "--continue_train") == 2
    assert "latest_state.pth: does not match the checkpoint record" in one_error_line(capsys.readouterr().err)
    (run / "latest_checkpoint.json").unlink()  # a run saved before checkpoint records: the load itself fails
    assert train(crop_dataroot, tmp_path, "--continue_train") == 2
    assert "latest_state.pth: cannot be read as a training state" in one_error_line(capsys.readouterr().err)


def test_leftovers_of_an_interrupted_save_are_removed_and_the_run_continues(crop_dataroot, finished_run, tmp_path,
                                                                            capsys):
    run = copy_run(finished_run, tmp_path)
    (run / ".latest_net_G.pth.0123abcd.tmp").write_bytes(b"half a network")
    numbered = {path.name: path.read_bytes() for path in run.glob("1_*")}
    assert train(crop_dataroot, tmp_path, "--continue_train", "--n_epochs_decay", "2") == 0
    assert "removed .latest_net_G.pth.0123abcd.tmp, left by an interrupted save" in capsys.readouterr().out
    assert not list(run.glob(".*.tmp"))
    assert {path.name: path.read_bytes() for path in run.glob("1_*")} == numbered  # epoch 1's set is untouched
    assert (run / "3_state.pth").is_file()


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(crop_dataroot, tmp_path, capsys,
                                                                             monkeypatch):
    # --clip_value nan used to train a NaN model to the end with exit 0.
    from models.psgan_model import PsganModel

    real_step, steps = PsganModel.optimize_parameters, []

    def step_that_diverges_at_the_eighth(self):
        steps.append(1)
        if len(steps) == 8:  # epoch 2 (6 crops per epoch): epoch 1's checkpoints exist
            self.real_A = torch.full_like(self.real_A, float("nan"))
        real_step(self)

    monkeypatch.setattr(PsganModel, "optimize_parameters", step_that_diverges_at_the_eighth)
    assert train(crop_dataroot, tmp_path, "--n_epochs_decay", "3") == 1
    line = one_error_line(capsys.readouterr().err)
    assert "non-finite loss at epoch 2, iteration 8" in line
    assert "the last good checkpoint is latest = 1 (after 6 iterations)" in line
    run = tmp_path / "run"
    assert len(steps) == 8 and not (run / "2_state.pth").exists()
    state = torch.load(run / "latest_state.pth", weights_only=True)
    assert state["progress"]["total_iters"] == 6
    for name in ("G", "D_image", "D_person"):
        checkpoint_set.verify(run, "latest", f"latest_net_{name}.pth")
        weights = torch.load(run / f"latest_net_{name}.pth", weights_only=True)
        assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
    monkeypatch.setattr(PsganModel, "optimize_parameters", real_step)
    assert train(crop_dataroot, tmp_path, "--n_epochs_decay", "3", "--continue_train") == 0  # resumes from it


def test_a_val_split_of_one_crop_is_refused_before_training(crop_dataroot, tmp_path, capsys):
    # The per-epoch FID raised "needs at least 2 samples" only after a whole epoch of training.
    dataroot = tmp_path / "data"
    shutil.copytree(crop_dataroot, dataroot)
    for extra in sorted((dataroot / "images" / "val").glob("*.png"))[1:]:
        extra.unlink()
    capsys.readouterr()
    code = train_script.main(["--dataroot", str(dataroot), "--checkpoints_dir", str(tmp_path),
                              *[a if a != "box_l1" else "fid" for a in TINY]])
    assert code == 2
    line = one_error_line(capsys.readouterr().err)
    assert "images/val: 1 crop: the per-epoch FID needs at least 2" in line and "--val_metric box_l1" in line
    assert not list((tmp_path / "run").glob("*.pth"))
