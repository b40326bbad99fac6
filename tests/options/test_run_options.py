"""Options without a command line: keywords resolve as the equivalent flags would, a run's options from its folder."""

from __future__ import annotations

import json

import pytest

from options import OptionsError, model_file_options, run_options
from options.test_options import TestOptions
from options.train_options import TrainOptions

RUN_FLAGS = ["--model", "progan", "--ngf", "8", "--netG", "unet_64", "--netG2", "unet_128", "--crop_size", "128",
             "--load_size", "143", "--netG_mask_input", "--unet_diff_map", "--bbox_noise", "random"]


def train_run(tmp_path, name: str = "run"):
    options = TrainOptions()
    opt = options.parse(["--dataroot", "d", "--name", name, "--checkpoints_dir", str(tmp_path), *RUN_FLAGS])
    options.save_options(opt, tmp_path / name, "train")
    return tmp_path / name


def test_keywords_resolve_exactly_as_the_equivalent_flags(tmp_path):
    from_flags = TrainOptions().parse(["--dataroot", "d", "--checkpoints_dir", str(tmp_path), *RUN_FLAGS])
    from_keywords = TrainOptions().parse_keywords(
        dataroot="d", checkpoints_dir=str(tmp_path), model="progan", ngf=8, netG="unet_64", netG2="unet_128",
        crop_size=128, load_size=143, netG_mask_input=True, unet_diff_map=True, bbox_noise="random")
    assert vars(from_keywords) == vars(from_flags)


def test_run_options_equal_what_test_py_resolves_for_the_run(tmp_path):
    run = train_run(tmp_path)
    test_py = TestOptions().parse(["--dataroot", "d", "--name", "run", "--checkpoints_dir", str(tmp_path),
                                   "--epoch", "best"])
    loaded = run_options(run, epoch="best")
    assert loaded.dataroot is None
    assert {**vars(loaded), "dataroot": "d"} == vars(test_py)
    assert (loaded.model, loaded.netG, loaded.netG2, loaded.ngf, loaded.crop_size, loaded.load_size) == (
        "progan", "unet_64", "unet_128", 8, 128, 128)
    assert loaded.netG_mask_input and loaded.unet_diff_map and loaded.bbox_noise == "random"
    assert not loaded.isTrain


def test_keyword_overrides_win_over_the_saved_options(tmp_path):
    loaded = run_options(train_run(tmp_path), ngf=16, eval=True, gpu_ids=[-1])
    assert (loaded.ngf, loaded.eval, loaded.gpu_ids, loaded.netG) == (16, True, [], "unet_64")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"ngff": 8}, "unknown option(s): ngff"),
    ({"netG": "unet_1000"}, "--netG: invalid choice 'unet_1000'"),
    ({"num_test": 0}, "--num_test: expected an integer >= 1, got '0'"),
])
def test_bad_keywords_raise_one_clear_error(tmp_path, overrides, message):
    with pytest.raises(OptionsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_options(train_run(tmp_path), **overrides)


def test_a_folder_without_train_opt_json_is_named_in_the_error(tmp_path):
    with pytest.raises(OptionsError, match="train_opt.json: not found"):
        run_options(tmp_path / "no_run")


def test_an_unreadable_train_opt_json_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "train_opt.json").write_text("{not json")
    with pytest.raises(OptionsError, match="train_opt.json: cannot be read"):
        run_options(tmp_path / "run")


def test_a_model_file_takes_its_options_from_the_json_beside_it(tmp_path):
    saved = json.loads((train_run(tmp_path) / "train_opt.json").read_text())
    small = {key: saved[key] for key in ("model", "netG", "netG2", "ngf", "crop_size", "netG_mask_input",
                                         "unet_diff_map", "bbox_noise")}
    (tmp_path / "shipped.json").write_text(json.dumps(small))
    loaded = model_file_options(tmp_path / "shipped.pth")
    assert (loaded.model, loaded.netG, loaded.ngf, loaded.crop_size, loaded.bbox_noise) == (
        "progan", "unet_64", 8, 128, "random")
    assert loaded.norm == "batch" and not loaded.netG2_mask_input  # not in the file: the defaults
    with pytest.raises(OptionsError, match="other.json: not found"):
        model_file_options(tmp_path / "other.pth")


def test_a_run_records_the_scale_its_model_saw_people_at(tmp_path):
    """256 px training crops, resized to 143 and cut to 128: one model input is a 229 px square of the frame."""
    run = train_run(tmp_path)
    assert run_options(run).source_window_side is None  # a run that does not record its crops' side
    saved = json.loads((run / "train_opt.json").read_text())
    (run / "train_opt.json").write_text(json.dumps({**saved, "source_crop_size": 256}))
    assert run_options(run).source_window_side == 229
    (run / "train_opt.json").write_text(json.dumps({**saved, "source_crop_size": 256, "preprocess": "crop"}))
    assert run_options(run).source_window_side == 128  # no resize: people at frame scale
