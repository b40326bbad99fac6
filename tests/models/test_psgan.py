"""psgan and pix2pix at tiny sizes: updates, resume, logs, and what test.py writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import test as test_script
import train as train_script
from data import create_dataset
from models import create_model
from models.checkpoint_set import CheckpointError
from models.loading import export_model_file
from options.train_options import TrainOptions
from tests.evaluation.test_evaluate import TinyInception

TINY = ["--crop_size", "64", "--load_size", "72", "--preprocess", "resize_crop_contrast", "--netG", "unet_64",
        "--ngf", "8", "--ndf", "8", "--gpu_ids", "-1", "--quiet", "--val_metric", "box_l1"]


def train_args(dataroot: Path, checkpoints: Path, *extra: str) -> list[str]:
    return ["--dataroot", str(dataroot), "--checkpoints_dir", str(checkpoints), *TINY, *extra]


def build(dataroot: Path, tmp_path: Path, *extra: str):
    opt = TrainOptions().parse(train_args(dataroot, tmp_path, *extra))
    torch.manual_seed(0)
    model = create_model(opt)
    model.setup()
    batch = next(iter(create_dataset(opt)))
    model.set_input(batch)
    return model


def snapshot(model) -> dict[str, dict[str, torch.Tensor]]:
    return {name: {k: v.clone() for k, v in model.network(name).state_dict().items()}
            for name in model.model_names}


@pytest.mark.parametrize("extra", [
    ("--model", "psgan", "--netG_mask_input", "--netG_noise", "decoder", "--pool_size_image", "2",
     "--pool_size_person", "2"),
    ("--model", "psgan", "--update_order", "faithful"),
    ("--model", "psgan", "--gan_mode_image", "wgangp", "--gan_mode_person", "lsgan", "--disc_label_noise", "0.1"),
    ("--model", "psgan", "--EL_person", "--EL_image", "--use_L1_mask", "--fake_B_display"),
    ("--model", "psgan", "--batch_size", "3", "--netD_person", "gap"),
    ("--model", "pix2pix",),
], ids=["readme", "faithful", "wgangp", "embedding-losses", "batch3-gap", "pix2pix"])
def test_one_training_step_changes_every_trained_network(crop_dataroot, tmp_path, extra):
    model = build(crop_dataroot, tmp_path, *extra)
    before = snapshot(model)
    model.optimize_parameters()
    after = snapshot(model)
    expected = ["G", "D"] if "pix2pix" in extra else ["G", "D_image", "D_person"]
    assert model.model_names == expected
    for name in expected:
        changed = [k for k in before[name] if not torch.equal(before[name][k], after[name][k])]
        assert changed, f"{name} did not change"
    losses = model.get_current_losses()
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert "G_L1" in losses and losses["G_L1"] > 0


def count_generator_forwards(model) -> list[int]:
    calls = [0]
    model.netG.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("order, forwards", [("default", 1), ("faithful", 3)])
def test_update_order_sets_the_number_of_generator_forwards(crop_dataroot, tmp_path, order, forwards):
    model = build(crop_dataroot, tmp_path, "--update_order", order)
    calls = count_generator_forwards(model)
    model.optimize_parameters()
    assert calls[0] == forwards


def test_person_discriminator_sees_each_sample_crop(crop_dataroot, tmp_path):
    model = build(crop_dataroot, tmp_path, "--batch_size", "3")
    seen = []
    model.netD_person.register_forward_hook(lambda _m, inputs, _o: seen.append(tuple(inputs[0].shape)))
    model.optimize_parameters()
    boxes = model.boxes.tolist()
    expected = {(1, 3, y2 - y1, x2 - x1) for x1, y1, x2, y2 in boxes}
    assert expected <= set(seen)


def run_training(dataroot: Path, checkpoints: Path, *extra: str) -> int:
    return train_script.main(train_args(dataroot, checkpoints, "--name", "run", "--n_epochs", "1",
                                        "--n_epochs_decay", "1", "--print_freq", "2", "--save_latest_freq", "3",
                                        "--netG_mask_input", "--netG_noise", "decoder", "--pool_size_image", "3",
                                        "--pool_size_person", "3", "--disc_label_noise", "0.05", "--save_val_freq", "5",
                                        *extra))


@pytest.fixture(scope="module")
def trained_run(crop_dataroot, tmp_path_factory) -> Path:
    """One finished 2-epoch run (checkpoints folder), shared by the tests that only read it."""
    checkpoints = tmp_path_factory.mktemp("trained")
    assert run_training(crop_dataroot, checkpoints) == 0
    return checkpoints


def final_weights(checkpoints: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {path.name: torch.load(path, weights_only=True)
            for path in sorted((checkpoints / "run").glob("latest_net_*.pth"))}


@pytest.mark.parametrize("stop_after_steps", [4, 6], ids=["mid-epoch", "epoch-boundary"])
def test_interrupted_and_continued_run_ends_bit_identical(crop_dataroot, trained_run, tmp_path, monkeypatch,
                                                          stop_after_steps):
    reference = final_weights(trained_run)

    from models.psgan_model import PsganModel
    original_step = PsganModel.optimize_parameters
    steps = [0]

    def interrupting_step(self):
        if steps[0] == stop_after_steps:
            raise KeyboardInterrupt
        steps[0] += 1
        original_step(self)

    monkeypatch.setattr(PsganModel, "optimize_parameters", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        run_training(crop_dataroot, tmp_path / "resumed")
    monkeypatch.setattr(PsganModel, "optimize_parameters", original_step)
    assert run_training(crop_dataroot, tmp_path / "resumed", "--continue_train") == 0

    resumed = final_weights(tmp_path / "resumed")
    assert resumed.keys() == reference.keys() and len(reference) == 3
    for name, state in reference.items():
        for key, value in state.items():
            assert torch.equal(value, resumed[name][key]), f"{name}:{key} differs after resume"


LOSS_LINE = re.compile(r"^\(epoch: \d+, iters: \d+, lr: \d\.\d{7}, t_comp: \d+\.\d{3}, t_load: \d+\.\d{3}\) "
                       r"(?:[A-Za-z0-9_]+: -?\d+\.\d{3} )+$")


def test_init_from_starts_a_new_run_from_another_runs_weights(crop_dataroot, trained_run, tmp_path):
    """--init_from: every network starts as the other run's --epoch checkpoint; its optimizer and schedule start
    fresh (the learning rate is the full --lr again), and the other run's folder is left as it was."""
    source = trained_run / "run"
    before = {path.name: path.read_bytes() for path in source.iterdir() if path.is_file()}
    opt = TrainOptions().parse(train_args(crop_dataroot, tmp_path, "--name", "tuned", "--init_from", str(source),
                                          "--epoch", "latest", "--netG_mask_input", "--netG_noise", "decoder"))
    model = create_model(opt)
    model.setup()
    for name in model.training_networks():
        saved = torch.load(source / f"latest_net_{name}.pth", weights_only=True)
        assert all(torch.equal(value, saved[key]) for key, value in model.network(name).state_dict().items())
    assert all(not optimizer.state for optimizer in model.optimizers.values())
    assert model.current_lr() == opt.lr
    assert {path.name: path.read_bytes() for path in source.iterdir() if path.is_file()} == before


def test_init_from_a_model_file_starts_the_generators_from_it(crop_dataroot, trained_run, tmp_path):
    """--init_from MODEL_FILE (a shipped generator, e.g. models/shipped/demo_psgan.pth): G and its moving average
    start as the file's weights (fp16 in the file); the discriminators start fresh, as in a new run."""
    model_file = export_model_file(trained_run / "run", "latest", tmp_path / "exported.pth")
    args = ("--netG_mask_input", "--netG_noise", "decoder", "--ema_decay", "0.99")
    opt = TrainOptions().parse(train_args(crop_dataroot, tmp_path, "--name", "tuned", "--init_from", str(model_file),
                                          *args))
    model = create_model(opt)
    model.setup()
    exported = torch.load(model_file, weights_only=True)
    for name in ("G", "G_ema"):
        for key, value in model.network(name).state_dict().items():
            torch.testing.assert_close(value, exported[key].to(value.dtype), msg=f"{name}:{key}")
    for name in ("D_image", "D_person"):
        trained = torch.load(trained_run / "run" / f"latest_net_{name}.pth", weights_only=True)
        weights = model.network(name).state_dict()
        assert not any(torch.equal(weights[key], trained[key]) for key in trained if key.endswith("weight"))
    assert model.current_lr() == opt.lr


@pytest.mark.parametrize(("extra", "message"), [
    (("--init_from", "{source}", "--continue_train"), "give one of them"),
    (("--init_from", "{missing}"), "no such run folder or model file"),
    (("--init_from", "{lonely}"), "a model file needs its options beside it"),
])
def test_init_from_refuses_contradictions_and_missing_folders(crop_dataroot, trained_run, tmp_path, capsys, extra,
                                                              message):
    lonely = tmp_path / "lonely.pth"
    lonely.write_bytes(b"weights without their options")
    paths = {"source": str(trained_run / "run"), "missing": str(tmp_path / "nowhere"), "lonely": str(lonely)}
    with pytest.raises(SystemExit):
        TrainOptions().parse(train_args(crop_dataroot, tmp_path, *(part.format(**paths) for part in extra)))
    assert message in capsys.readouterr().err


def test_init_from_names_the_missing_checkpoint(crop_dataroot, trained_run, tmp_path):
    opt = TrainOptions().parse(train_args(crop_dataroot, tmp_path, "--init_from", str(trained_run / "run"),
                                          "--epoch", "7", "--netG_mask_input", "--netG_noise", "decoder"))
    model = create_model(opt)
    with pytest.raises(CheckpointError, match=r"7_net_G\.pth: checkpoint not found \(available: .*latest"):
        model.setup()


def test_training_prints_parameter_counts(crop_dataroot, tmp_path, capsys):
    build(crop_dataroot, tmp_path)
    out = capsys.readouterr().out
    for name in ("G", "D_image", "D_person"):
        assert re.search(rf"\[Network {name}\] Total number of parameters : [\d.]+ M \([\d,]+\)", out)


def test_training_writes_logs_checkpoints_and_pages(trained_run):
    run = trained_run / "run"
    lines = [line for line in (run / "loss_log.txt").read_text().splitlines() if line.startswith("(")]
    assert len(lines) == 6 and all(LOSS_LINE.match(line) for line in lines)
    assert "G_person:" in lines[0] and "acc_D_person_fake:" in lines[0]
    for prefix in ("latest", "best", "2"):
        for net in ("G", "D_image", "D_person"):
            assert (run / f"{prefix}_net_{net}.pth").is_file()
    assert (run / "latest_state.pth").is_file()
    # --save_val_freq 5 with 2 epochs: only the last epoch is scored, and it is always scored (a candidate for best).
    scores = (run / "val" / "fidelity_log.txt").read_text().splitlines()
    assert len(scores) == 1 and re.match(r"epoch: 2, iters: 12, box_l1: \d+\.\d{4}, ", scores[0])
    assert (run / "validation_loss_log.txt").read_text().count("sample: ") == 4  # 2 val5 images x 2 epochs
    assert (run / "web" / "index.html").is_file() and (run / "loss_curves.png").is_file()


def run_test(dataroot: Path, tmp_path: Path, *extra: str) -> int:
    return test_script.main(["--dataroot", str(dataroot), "--checkpoints_dir", str(tmp_path), "--name", "run",
                             "--results_dir", str(tmp_path / "results"), "--gpu_ids", "-1", "--quiet",
                             *extra])


def test_test_py_writes_every_visual_and_is_reproducible(crop_dataroot, trained_run, tmp_path, monkeypatch):
    # A small stand-in for the FID Inception (the real one takes a minute per run here; its maths is tested in
    # tests/evaluation): what is under test is test.py's outputs and their reproducibility.
    monkeypatch.setattr(test_script, "InceptionFeatures", lambda *args, **kwargs: TinyInception(tmp_path / "tiny.pth"))
    assert run_test(crop_dataroot, trained_run, "--epoch", "best") == 0
    out = trained_run / "results" / "run" / "test_best"
    for log_name in test_script.FIDELITY_LOGS.values():  # FID/KID of the raw output and of the composite
        assert re.match(r"epoch: best, .*frechet_inception_distance: \d", (out / log_name).read_text())
    stems = sorted(p.name.split(".")[0] for p in (crop_dataroot / "images" / "test").glob("*.png"))
    for label in ("real_A", "fake_B", "fake_B_display", "real_B"):
        files = sorted(p.name for p in (out / "images" / label).glob("*.png"))
        assert files == sorted(f"{stem}_{label}.png" for stem in stems)
    page = (out / "index.html").read_text()
    assert all(f"{stems[0]}_{label}.png" in page for label in ("real_A", "fake_B", "fake_B_display", "real_B"))
    first = {p: p.read_bytes() for p in (out / "images").rglob("*.png")}
    assert run_test(crop_dataroot, trained_run, "--epoch", "best") == 0
    assert {p: p.read_bytes() for p in (out / "images").rglob("*.png")} == first


def test_test_py_fails_loudly_on_missing_or_mismatched_checkpoint(crop_dataroot, trained_run, capsys):
    assert run_test(crop_dataroot, trained_run, "--epoch", "7") == 2
    assert "7_net_G.pth: checkpoint not found (available: 2, best, latest)" in capsys.readouterr().err
    assert run_test(crop_dataroot, trained_run, "--epoch", "best", "--ngf", "16") == 2
    assert "best_net_G.pth: does not match the network built from the options" in capsys.readouterr().err
