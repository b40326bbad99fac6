"""progan at tiny sizes (128 px crops, G1 unet_64 on 64 px, G2 unet_128): schedule, freezing, resume, best, test."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import test as test_script
import train as train_script
from models.base_model import CheckpointError
from models.networks import define_G
from models.person_gan import composite
from models.progan_model import ProganModel
from options.train_options import TrainOptions
from training.trainer import Trainer
from training.validation import Validator


def load_data_fixtures():
    """tests/data/conftest.py by path (its write_sample writes AB crops + JSON boxes of any size)."""
    spec = importlib.util.spec_from_file_location("data_fixtures", Path(__file__).parents[1] / "data" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data_fixtures = load_data_fixtures()
CROP = 128
TINY = ["--model", "progan", "--crop_size", str(CROP), "--load_size", "136", "--preprocess", "resize_crop",
        "--netG", "unet_64", "--netG2", "unet_128", "--ngf", "8", "--ndf", "8", "--gpu_ids", "-1", "--quiet",
        "--val_metric", "box_l1", "--netG_mask_input", "--netG2_mask_input", "--unet_diff_map"]
# A short two-stage run: epoch 1 is stage 1 (4 steps), epoch 2 stage 2 (1 pretraining step, then G2 learns).
RUN = ["--name", "run", "--n_epochs", "2", "--n_epochs_decay", "0", "--stage_1_epochs", "1",
       "--pretrain_iters_stage_2", "1", "--save_latest_freq", "6", "--print_freq", "2", "--display_freq", "3",
       "--pool_size_image", "2", "--pool_size_person", "2", "--disc_label_noise", "0.05",
       "--disc_label_noise_stage_2", "0.05"]
STAGE_TWO_SCORE_PENALTY = 10.0


@contextmanager
def single_thread() -> Iterator[None]:
    """Tiny tensors gain nothing from a second intra-op thread; on shared cores it made runs ~10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture(scope="module")
def progan_dataroot(tmp_path_factory) -> Path:
    """128 px crops; boxes stay >= 16 px (min_box_side at 128) and are 20 x 45 at the 64 px stage-1 size."""
    root = tmp_path_factory.mktemp("crops128")
    for phase, count in (("train", 4), ("val", 2), ("val5", 1), ("test", 2)):
        for i in range(count):
            box = (40 + 4 * i, 20, 80 + 4 * i, 110)
            data_fixtures.write_sample(root, f"city_{i:06d}_{phase}", box=box, phase=phase, size=CROP, seed=i)
    return root


def train_args(dataroot: Path, checkpoints: Path, *extra: str) -> list[str]:
    return ["--dataroot", str(dataroot), "--checkpoints_dir", str(checkpoints), *TINY, *extra]


def parameters(model, name: str) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.network(name).named_parameters()}


def changed_networks(model, before: dict[str, dict[str, torch.Tensor]]) -> set[str]:
    return {name for name, params in before.items()
            if any(not torch.equal(value, dict(model.network(name).named_parameters())[key])
                   for key, value in params.items())}


def test_g1_parameter_count_at_readme_settings():
    opt = TrainOptions().parse_keywords(model="progan", netG_mask_input=True)
    assert (opt.netG, opt.netG2, opt.netG_noise, opt.netD_person) == ("unet_128", "unet_256", "decoder", "spp_128")
    with torch.device("meta"):
        g1 = define_G(opt.netG, 3, 3, opt.ngf, opt.norm, mask_input=True, noise=opt.netG_noise)
        g2 = define_G(opt.netG2, 3, 3, opt.ngf, opt.norm, mask_input=True, noise=opt.netG_noise, diff_map=True)
    assert sum(p.numel() for p in g1.parameters()) == 46_188_163
    assert sum(p.numel() for p in g2.parameters()) == 59_952_771


@pytest.mark.parametrize("batch_size", [1, 2])
def test_stage_switch_pretraining_and_frozen_g1(progan_dataroot, tmp_path, batch_size):
    opt = TrainOptions().parse(train_args(progan_dataroot, tmp_path, "--stage_1_epochs", "1",
                                          "--pretrain_iters_stage_2", "2", "--batch_size", str(batch_size)))
    torch.manual_seed(0)
    trainer = Trainer(opt)
    model, batches_per_epoch = trainer.model, 4 // batch_size
    assert model.stage_1_steps == batches_per_epoch
    batch = next(iter(trainer.dataset))
    names = ["G1", "G2", "D_image1", "D_image2", "D_person1", "D_person2"]
    assert model.model_names == names
    expected = ([{"G1", "D_image1", "D_person1"}] * batches_per_epoch + [{"D_image2", "D_person2"}] * 2
                + [{"G2", "D_image2", "D_person2"}])
    seen = []
    for _ in expected:
        before = {name: parameters(model, name) for name in names}
        model.set_input(batch)
        model.optimize_parameters()
        seen.append(changed_networks(model, before))
    assert seen == expected
    assert model.current_stage() == 2 and model.best_prefixes() == ["best"]
    assert not any(p.requires_grad for p in model.netG1.parameters())
    assert all(torch.isfinite(torch.tensor(v)) for v in model.get_current_losses().values())


def test_both_stages_weigh_the_box_background_by_their_own_person_masks(progan_dataroot, tmp_path):
    """--L1_box_background_weight in progan: stage 1 sees the masks downscaled with its small crops, stage 2 the
    full-size ones; each stage's L1 weights split its box by them."""
    dataroot = shutil.copytree(progan_dataroot, tmp_path / "crops")
    for i in range(4):
        mask = np.zeros((CROP, CROP), np.uint8)
        mask[30:100, 50 + 4 * i:70 + 4 * i] = 255  # a person inside the box (40+4i..80+4i, 20..110)
        (dataroot / "person_mask" / "train").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save(dataroot / "person_mask" / "train" / f"city_{i:06d}_train.png")
    opt = TrainOptions().parse(train_args(dataroot, tmp_path, "--stage_1_epochs", "1", "--batch_size", "2",
                                          "--L1_box_weight", "0", "--L1_box_background_weight", "1", "--no_flip"))
    torch.manual_seed(0)
    trainer = Trainer(opt)
    model = trainer.model
    model.set_input(next(iter(trainer.dataset)))
    for stage, batch in zip(model.stages(), (model.stage_one_batch(), model.stage_two_batch()), strict=True):
        weights = batch.l1_weights(stage)
        person = batch.person_mask * batch.inside
        assert person.sum() > 0 and (weights[person > 0] == 0).all()
        assert (weights[(batch.inside > 0) & (batch.person_mask == 0)] == 1).all()
    assert model.stage_one_batch().person_mask.shape[-1] == 64 and model.stage_two_batch().person_mask.shape[-1] == CROP


@pytest.mark.parametrize("order, forwards", [("default", 2), ("faithful", 5)])
def test_extra_person_d_and_generator_steps(progan_dataroot, tmp_path, order, forwards):
    opt = TrainOptions().parse(train_args(progan_dataroot, tmp_path, "--person_disc_steps", "2",
                                          "--generator_steps", "2", "--update_order", order))
    trainer = Trainer(opt)
    model = trainer.model
    calls = {"G1": 0, "D_person1": 0}
    for name in calls:
        model.network(name).register_forward_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    model.set_input(next(iter(trainer.dataset)))
    model.optimize_parameters()
    # Each further G step gets a fresh forward; person D: 2 x (fake + real) for its steps, 1 per G step.
    assert calls == {"G1": forwards, "D_person1": 6}


def test_stage_one_visuals_show_the_full_path_without_side_effects(progan_dataroot, tmp_path):
    opt = TrainOptions().parse(train_args(progan_dataroot, tmp_path, "--stage_1_epochs", "1"))
    trainer = Trainer(opt)
    model = trainer.model
    model.set_input(next(iter(trainer.dataset)))
    model.optimize_parameters()
    assert model.current_stage() == 1 and model.best_prefixes() == ["stage_one_best", "best"]
    rng = torch.get_rng_state()
    g2_buffers = {k: v.clone() for k, v in model.netG2.named_buffers()}
    visuals = model.get_current_visuals()
    assert list(visuals) == ["real_A", "stage1_fake", "diff_B", "fake_B", "fake_B_display", "real_B"]
    assert all(v.shape == (1, 3, CROP, CROP) for v in visuals.values())
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, g2_buffers[k]) for k, v in model.netG2.named_buffers())


@pytest.mark.parametrize("composite_input", [False, True], ids=["upsampled", "composite-input"])
def test_fresh_diff_map_g2_is_the_identity_on_its_input(progan_dataroot, tmp_path, composite_input):
    extra = ["--stage_2_composite_input"] if composite_input else []
    trainer = Trainer(TrainOptions().parse(train_args(progan_dataroot, tmp_path, *extra)))
    model = trainer.model
    model.set_input(next(iter(trainer.dataset)))
    model.test()
    expected = composite(model.real_A, model.stage1_fake, model.inside) if composite_input else model.stage1_fake
    assert (model.fake_B - expected).abs().max() < 1e-5
    assert torch.equal(model.diff_B, torch.zeros_like(model.diff_B))
    assert model.stage1_fake.shape == model.real_A.shape == (1, 3, CROP, CROP)
    assert torch.allclose(model.stage1_fake,
                          torch.nn.functional.interpolate(model.fake_B_small, size=(CROP, CROP), mode="bilinear",
                                                          align_corners=False))
    # With composite input, G2's image-GAN term sees the fake with a gradient through the box only.
    batch = model.stage_two_batch()
    fake = batch.fake.detach().requires_grad_(True)
    batch.fake = fake
    model.fake_for_image_d(model.stage2, batch).sum().backward()
    assert torch.equal(fake.grad, model.inside.expand_as(fake) if composite_input else torch.ones_like(fake))


def run_training(dataroot: Path, checkpoints: Path, *extra: str) -> int:
    return train_script.main(train_args(dataroot, checkpoints, *RUN, *extra))


def load_prefix(run: Path, prefix: str) -> dict[str, dict[str, torch.Tensor]]:
    return {path.stem.split("_net_")[1]: torch.load(path, weights_only=True)
            for path in sorted(run.glob(f"{prefix}_net_*.pth"))}


@pytest.fixture(scope="module")
def straight_run(progan_dataroot, tmp_path_factory) -> Path:
    """One uninterrupted two-epoch run; the stage-2 validation score is made worse than stage 1's."""
    checkpoints = tmp_path_factory.mktemp("straight")
    original_run = Validator.run

    def penalised_run(self, model, epoch):
        return original_run(self, model, epoch) + (STAGE_TWO_SCORE_PENALTY if model.current_stage() == 2 else 0)

    with pytest.MonkeyPatch.context() as patch, single_thread():
        patch.setattr(Validator, "run", penalised_run)
        assert run_training(progan_dataroot, checkpoints) == 0
    return checkpoints / "run"


def test_best_is_tracked_per_stage(straight_run):
    scores = [float(line.split("box_l1: ")[1].split(",")[0])
              for line in (straight_run / "val" / "fidelity_log.txt").read_text().splitlines()]
    assert len(scores) == 2 and scores[1] > scores[0]  # stage 2 scored worse, yet its first score is the best
    latest, best, stage_one = (load_prefix(straight_run, p) for p in ("latest", "best", "stage_one_best"))
    assert sorted(best) == sorted(stage_one) == ["D_image1", "D_image2", "D_person1", "D_person2", "G1", "G2"]
    for name, state in latest.items():  # best was written by the epoch-2 (stage-2) validation
        assert all(torch.equal(value, best[name][key]) for key, value in state.items()), name
    assert not torch.equal(stage_one["D_image2"]["model.0.weight"], best["D_image2"]["model.0.weight"])
    for key, value in stage_one["G1"].items():  # G1 frozen in stage 2 (its BatchNorm statistics still move)
        if "running_" not in key and "num_batches_tracked" not in key:
            assert torch.equal(value, best["G1"][key]), key
    progress = torch.load(straight_run / "latest_state.pth", weights_only=True)["progress"]
    assert progress["best_stage"] == 2 and progress["best_score"] == pytest.approx(scores[1], abs=1e-4)


def test_stage_two_only_needs_a_trained_g1(progan_dataroot, tmp_path, straight_run):
    opt = TrainOptions().parse(train_args(progan_dataroot, tmp_path, "--name", "run", "--stage_1_epochs", "0"))
    with pytest.raises(CheckpointError, match=r"run/stage_one_best_net_G1\.pth or .*run/best_net_G1\.pth not found"):
        Trainer(opt)
    (tmp_path / "run").mkdir(exist_ok=True)
    shutil.copy(straight_run / "stage_one_best_net_G1.pth", tmp_path / "run")
    model = Trainer(opt).model
    assert model.current_stage() == 2 and model.stage_1_steps == 0
    saved = torch.load(straight_run / "stage_one_best_net_G1.pth", weights_only=True)
    assert all(torch.equal(value, saved[key]) for key, value in model.netG1.state_dict().items())


def test_resume_inside_stage_two_is_bit_identical(progan_dataroot, tmp_path, monkeypatch, straight_run):
    reference = load_prefix(straight_run, "latest")
    original_step = ProganModel.optimize_parameters
    steps = [0]

    def interrupting_step(self):
        if steps[0] == 7:  # latest was saved after step 6, inside stage 2 (steps 5-8)
            raise KeyboardInterrupt
        steps[0] += 1
        original_step(self)

    monkeypatch.setattr(ProganModel, "optimize_parameters", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        run_training(progan_dataroot, tmp_path)
    monkeypatch.setattr(ProganModel, "optimize_parameters", original_step)
    state = torch.load(tmp_path / "run" / "latest_state.pth", weights_only=True)
    assert state["model"]["steps_done"] == 6 and state["progress"]["batches_done"] == 2
    assert run_training(progan_dataroot, tmp_path, "--continue_train") == 0
    resumed = load_prefix(tmp_path / "run", "latest")
    assert resumed.keys() == reference.keys() and len(reference) == 6
    for name, net_state in reference.items():
        for key, value in net_state.items():
            assert torch.equal(value, resumed[name][key]), f"{name}:{key} differs after resume"


def test_test_py_writes_the_progan_visuals_for_best(straight_run, progan_dataroot):
    results = straight_run.parent / "results"
    assert test_script.main(["--dataroot", str(progan_dataroot), "--checkpoints_dir", str(straight_run.parent),
                             "--name", "run", "--results_dir", str(results), "--gpu_ids", "-1", "--quiet",
                             "--epoch", "best", "--inception_weights", str(results / "none.pt")]) == 0
    out = results / "run" / "test_best"
    stems = sorted(p.name.split(".")[0] for p in (progan_dataroot / "images" / "test").glob("*.png"))
    for label in ("real_A", "stage1_fake", "diff_B", "fake_B", "fake_B_display", "real_B"):
        assert sorted(p.name for p in (out / "images" / label).glob("*.png")) == [f"{s}_{label}.png" for s in stems]
    info = json.loads((out / "test_info.json").read_text())
    assert sorted(Path(p).name for p in info["checkpoints"]) == ["best_net_G1.pth", "best_net_G2.pth"]
