"""Test flags; the network flags come from the trained run (docs/differences_from_original.md#test-options)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from data.transforms import TransformConfig, source_window_side
from util.cli import number

from .base_options import MODEL_GROUP, NETWORK_INPUT_GROUP, BaseOptions, OptionsError, new_parser, option_names, probe


class TestOptions(BaseOptions):
    """Test flags; the network flags default to the run's ``train_opt.json``, or to ``training_options`` when
    given (a shipped model's options file)."""

    is_train = False
    __test__ = False  # not a pytest test class despite its name

    def __init__(self, training_options: Mapping[str, Any] | None = None) -> None:
        self.training_options = training_options
        self.inherited: list[str] = []
        self.saved: Mapping[str, Any] = {}

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser = super().initialize(parser)
        parser.add_argument("--results_dir", default="./results/", help="where results are saved")
        parser.add_argument("--aspect_ratio", type=number(above=0), default=1.0, help="aspect ratio of saved images")
        parser.add_argument("--phase", default="test", help="data sub-folder: train, val, test, ...")
        parser.add_argument("--eval", action="store_true",
                            help="eval mode: BatchNorm uses running statistics and dropout is off")
        parser.add_argument("--num_test", type=number(int, minimum=1), default=50, help="how many test images to run")
        # At test time images are not rescaled before cropping (the original's override): load_size follows
        # crop_size unless given.
        parser.set_defaults(load_size=None)
        return parser

    def build_parser(self, argv: list[str] | None) -> argparse.ArgumentParser:
        """As the base parser, but defaults for the network flags come from the run's train_opt.json."""
        parser = self.initialize(new_parser("test.py"))
        try:
            saved = self.saved_training_options(probe(parser, argv))
        except OptionsError as error:
            raise SystemExit(f"error: {error}") from None
        return self.inherit(parser, saved, argv)

    def build_keyword_parser(self, values: Mapping[str, Any]) -> argparse.ArgumentParser:
        parser = self.initialize(new_parser("test.py", raise_errors=True))
        known = argparse.Namespace(**{key: values.get(key, parser.get_default(key))
                                      for key in ("checkpoints_dir", "name")})
        return self.inherit(parser, self.saved_training_options(known), [], selected=values)

    def saved_training_options(self, known: argparse.Namespace) -> Mapping[str, Any]:
        if self.training_options is not None:
            return self.training_options
        return load_training_options(Path(known.checkpoints_dir) / known.name / "train_opt.json")

    def inherit(self, parser: argparse.ArgumentParser, saved: Mapping[str, Any], argv: list[str] | None,
                selected: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
        """The model's and dataset's flags, with the saved network flags as defaults."""
        if "model" in saved:
            parser.set_defaults(model=saved["model"])
        parser = super().build_parser_from(parser, argv, selected)
        self.saved = saved
        inherited = {key: saved[key] for key in self.network_options(parser) if key in saved}
        parser.set_defaults(**inherited)
        self.inherited = sorted(inherited)
        return parser

    def network_options(self, parser: argparse.ArgumentParser) -> set[str]:
        """The flags that describe the trained networks and their input: the model and network-input groups and
        every flag the model adds (what test.py takes from train_opt.json unless given)."""
        return option_names(parser, MODEL_GROUP) | option_names(parser, NETWORK_INPUT_GROUP) | self.model_options

    def finalise(self, opt: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        if opt.load_size is None:
            opt.load_size = opt.crop_size
        opt.source_window_side = training_window_side(self.saved)
        super().finalise(opt, parser)


def training_window_side(saved: Mapping[str, Any]) -> int | None:
    """Source pixels that became one model input in training (``data.transforms.source_window_side``), from the
    saved training options; None for runs that do not record their crops' side (trained before it was saved)."""
    source_side = saved.get("source_crop_size")
    if not source_side or "preprocess" not in saved:
        return None
    try:
        config = TransformConfig.parse(saved["preprocess"], int(saved["load_size"]), int(saved["crop_size"]),
                                       flip=False, jitter=False)
    except (KeyError, TypeError, ValueError) as error:
        raise OptionsError(f"saved training options: cannot derive the training scale ({error})") from None
    return source_window_side(int(source_side), config)


def load_training_options(path: Path) -> dict:
    """The options a run was trained with ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OptionsError(f"{path}: cannot be read ({error})") from None
    if not isinstance(saved, dict):
        raise OptionsError(f"{path}: expected a JSON object of options, got {type(saved).__name__}")
    return saved

