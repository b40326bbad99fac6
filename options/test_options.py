"""Test flags (SPEC_ORIGINAL §2.3)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .base_options import BaseOptions, new_parser, probe

# Flags that describe the trained networks and their input; test.py takes them from train_opt.json unless given.
INHERITED_FROM_TRAINING = (
    "model", "input_nc", "output_nc", "ngf", "netG", "netG2", "norm", "no_dropout", "netG_mask_input",
    "netG_noise", "netG2_mask_input", "unet_diff_map", "stage_2_composite_input", "netD_person", "crop_size",
    "direction", "bbox_noise", "init_type", "init_gain", "fake_B_display",
)


class TestOptions(BaseOptions):
    is_train = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser = super().initialize(parser)
        parser.add_argument("--results_dir", default="./results/", help="where results are saved")
        parser.add_argument("--aspect_ratio", type=float, default=1.0, help="aspect ratio of saved images")
        parser.add_argument("--phase", default="test", help="data sub-folder: train, val, test, ...")
        parser.add_argument("--eval", action="store_true",
                            help="eval mode: BatchNorm uses running statistics and dropout is off")
        parser.add_argument("--num_test", type=int, default=50, help="how many test images to run")
        # At test time images are not rescaled before cropping (the original's override): load_size follows
        # crop_size unless given.
        parser.set_defaults(load_size=None)
        return parser

    def build_parser(self, argv: list[str] | None) -> argparse.ArgumentParser:
        """As the base parser, but defaults for the network flags come from the run's train_opt.json."""
        parser = self.initialize(new_parser("test.py"))
        known = probe(parser, argv)
        saved = load_training_options(Path(known.checkpoints_dir) / known.name / "train_opt.json")
        if "model" in saved:
            parser.set_defaults(model=saved["model"])
        parser = super().build_parser_from(parser, argv)
        inherited = {key: saved[key] for key in INHERITED_FROM_TRAINING if key in saved and has_option(parser, key)}
        parser.set_defaults(**inherited)
        self.inherited = sorted(inherited)
        return parser

    def finalise(self, opt: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        if opt.load_size is None:
            opt.load_size = opt.crop_size
        super().finalise(opt, parser)
        if opt.num_test < 1:
            parser.error(f"--num_test must be at least 1, got {opt.num_test}")


def load_training_options(path: Path) -> dict:
    """The options a run was trained with ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"error: {path}: cannot be read ({error})") from None


def has_option(parser: argparse.ArgumentParser, dest: str) -> bool:
    return any(action.dest == dest for action in parser._actions)
