"""The thesis README's commands parse unchanged; unknown flags fail; resolved options are saved."""

from __future__ import annotations

import json
import shlex

import pytest

from options.test_options import TestOptions
from options.train_options import TrainOptions

SINGLE_STAGE_TRAIN = (
    "--dataroot datasets --name EXP_SINGLE_STAGE --model psgan --preprocess resize_crop_contrast --batch_size 1 "
    "--n_epochs 100 --n_epochs_decay 100 --lr 0.0002 --clip_value 100 --netG unet_256 --netG_mask_input "
    "--netG_noise decoder --pool_size_image 50 --pool_size_person 50")
SINGLE_STAGE_TEST = (
    "--dataroot datasets --name EXP_SINGLE_STAGE --model psgan --phase test --epoch best --num_test 500 "
    "--preprocess resize --load_size 256 --crop_size 256 --netG unet_256 --netG_mask_input --netG_noise decoder")
TWO_STAGE_TRAIN = (
    "--dataroot datasets --name EXP_TWO_STAGE --model progan --preprocess resize_crop_contrast --load_size 286 "
    "--crop_size 256 --batch_size 1 --n_epochs 150 --n_epochs_decay 50 --stage_1_epochs 100 "
    "--pretrain_iters_stage_2 1000 --lr 0.00012 --clip_value 10 --lambda_L1 80 --lambda_L1_stage_2 80 "
    "--netG unet_128 --netG2 unet_256 --netG_mask_input --netG2_mask_input --netG_noise decoder --unet_diff_map "
    "--netD_image n_layers --n_layers_D 2 --netD2_image basic --netD_person spp_128 --netD2_person spp")
TWO_STAGE_TEST = (
    "--dataroot datasets --name EXP_TWO_STAGE --model progan --epoch best --num_test 500 --preprocess resize "
    "--load_size 256 --crop_size 256 --netG unet_128 --netG2 unet_256 --netG_mask_input --netG2_mask_input "
    "--netG_noise decoder --unet_diff_map --netD_person spp_128 --netD2_person spp")


def parse_train(args: str, tmp_path):
    return TrainOptions().parse(shlex.split(args) + ["--checkpoints_dir", str(tmp_path)])


def test_single_stage_readme_train_command_parses(tmp_path):
    opt = parse_train(SINGLE_STAGE_TRAIN, tmp_path)
    assert (opt.model, opt.netG, opt.netG_noise, opt.netG_mask_input) == ("psgan", "unet_256", "decoder", True)
    assert (opt.pool_size_image, opt.pool_size_person, opt.clip_value) == (50, 50, 100.0)
    assert (opt.gan_mode_image, opt.gan_mode_person, opt.bbox_noise, opt.norm) == ("lsgan", "vanilla", "none", "batch")
    assert opt.lambda_L1 == 100.0 and opt.isTrain


def test_two_stage_readme_train_command_parses_with_progan_defaults(tmp_path):
    opt = parse_train(TWO_STAGE_TRAIN, tmp_path)
    assert (opt.stage_1_epochs, opt.pretrain_iters_stage_2, opt.lambda_L1_stage_2) == (100, 1000, 80.0)
    assert (opt.netD_image, opt.n_layers_D, opt.netD2_image, opt.netD_person) == ("n_layers", 2, "basic", "spp_128")
    assert opt.unet_diff_map and opt.netG2_mask_input and opt.lr == pytest.approx(0.00012)


def test_progan_sets_its_own_defaults(tmp_path):
    opt = parse_train("--dataroot d --model progan", tmp_path)
    assert (opt.netG, opt.netG2, opt.netD_image, opt.n_layers_D) == ("unet_128", "unet_256", "n_layers", 2)
    assert (opt.netD_person, opt.netG_noise) == ("spp_128", "decoder")


def test_pix2pix_has_no_person_discriminator(tmp_path):
    opt = parse_train("--dataroot d --model pix2pix", tmp_path)
    assert (opt.netD_person, opt.gan_mode_person, opt.gan_mode_image) == ("none", "none", "vanilla")


@pytest.mark.parametrize("args", [SINGLE_STAGE_TEST, TWO_STAGE_TEST])
def test_readme_test_commands_parse(args, tmp_path):
    opt = TestOptions().parse(shlex.split(args) + ["--checkpoints_dir", str(tmp_path)])
    assert (opt.epoch, opt.num_test, opt.load_size, opt.phase, opt.isTrain) == ("best", 500, 256, "test", False)


def test_unknown_flag_fails_like_argparse(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_train("--dataroot d --no_such_flag 3", tmp_path)
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no_such_flag 3" in capsys.readouterr().err


def test_stage_two_flags_are_unknown_to_psgan(tmp_path):
    with pytest.raises(SystemExit):
        parse_train("--dataroot d --model psgan --stage_1_epochs 3", tmp_path)


@pytest.mark.parametrize("args, message", [
    ("--preprocess resize_zoom", "unknown token"),
    ("--preprocess resize_crop --load_size 100 --crop_size 256", "--load_size (100) must be >= --crop_size"),
    ("--gpu_ids a,b", "--gpu_ids"),
    ("--netG inpaint --netG_noise latent", "--netG inpaint: the inpaint generator injects noise 'none' or 'decoder'"),
    ("--model progan --netG unet_64 --netG2 inpaint --unet_diff_map", "--netG2 inpaint: the inpaint generator has no"),
    ("--netG resnet_6blocks --netG_noise decoder", "--netG resnet_6blocks: resnet_6blocks supports neither"),
    ("--netG_noise decoder --lambda_vae_L1 10", "--lambda_vae_L1 gives G an encoded latent code: it needs "
                                                "--netG_noise latent (got --netG_noise decoder)"),
    ("--person_hole_fraction 1 --bbox_noise original", "--person_hole_fraction fills the person's shape"),
])
def test_inconsistent_flags_name_the_flag(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_train(f"--dataroot d {args}", tmp_path)
    assert message in capsys.readouterr().err


def test_help_lists_the_model_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        TrainOptions().parse(["--model", "progan", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--dataroot", "--stage_1_epochs", "--unet_diff_map", "--netG_noise", "--pool_size_person"):
        assert flag in out


def test_resolved_options_are_saved_with_non_defaults_marked(tmp_path):
    options = TrainOptions()
    opt = options.parse(shlex.split(SINGLE_STAGE_TRAIN) + ["--checkpoints_dir", str(tmp_path)])
    text_path, json_path = options.save_options(opt, tmp_path / opt.name, "train")
    text = text_path.read_text()
    assert "pool_size_image: 50" in text and "[default: 0]" in text
    line = next(line for line in text.splitlines() if line.strip().startswith("lambda_L1:"))
    assert "[default" not in line  # 100 is the default
    saved = json.loads(json_path.read_text())
    assert saved["netG_noise"] == "decoder" and saved["max_dataset_size"] == "inf" and saved["isTrain"] is True


def test_test_options_take_network_flags_from_train_opt_json(tmp_path):
    options = TrainOptions()
    opt = options.parse(shlex.split("--dataroot d --name run --model progan --ngf 8 --netG_mask_input "
                                    "--unet_diff_map") + ["--checkpoints_dir", str(tmp_path)])
    options.save_options(opt, tmp_path / "run", "train")
    test_options = TestOptions()
    test_opt = test_options.parse(["--dataroot", "d", "--name", "run", "--checkpoints_dir", str(tmp_path),
                                   "--ngf", "16"])
    assert (test_opt.model, test_opt.netG_mask_input, test_opt.unet_diff_map) == ("progan", True, True)
    assert test_opt.ngf == 16  # an explicit flag wins over the saved value
    assert "model" in test_options.inherited


def test_test_load_size_follows_crop_size(tmp_path):
    opt = TestOptions().parse(["--dataroot", "d", "--crop_size", "64", "--checkpoints_dir", str(tmp_path)])
    assert opt.load_size == 64


def test_progan_needs_a_generator_named_with_its_size(tmp_path, capsys):
    assert parse_train("--dataroot d --model progan --netG unet_64", tmp_path).small_input_size == 64
    assert parse_train("--dataroot d --model psgan", tmp_path).small_input_size is None
    with pytest.raises(SystemExit):
        parse_train("--dataroot d --model progan --netG resnet_9blocks", tmp_path)
    assert "needs a generator name ending in its size" in capsys.readouterr().err
