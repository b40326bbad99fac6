"""Options shared by training and testing, parsed in two passes as in pix2pix.

Pass one reads the base flags leniently to learn ``--model`` and ``--dataset_mode``; the chosen model and dataset
then add or override their own flags, and the final parse is strict, so unknown flags fail as argparse does.
The resolved options are printed (non-defaults marked) and saved as ``<phase>_opt.txt`` and ``<phase>_opt.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import data
import models
from data.aligned_dataset import DIRECTIONS
from data.boxes import FILL_MODES
from models.networks import (
    GENERATOR_NAMES,
    IMAGE_D_NAMES,
    INIT_TYPES,
    NOISE_MODES,
    NORM_TYPES,
    PERSON_D_NAMES,
    UPSAMPLE_MODES,
    generator_problem,
)
from util.cli import number
from util.fileio import atomic_write_text
from util.precision import AMP_MODES, amp_problem, choose_amp, cuda_requested

# Argument groups describing the trained networks and their input (with every flag a model adds: test.py
# inherits them from the run's train_opt.json).
MODEL_GROUP = "model"
NETWORK_INPUT_GROUP = "network input"


class OptionsError(ValueError):
    """Options given as keywords (``parse_keywords``) that the command line would reject; the message says why."""


class BaseOptions:
    """Flags common to train.py and test.py (the original's names and defaults)."""

    is_train: bool = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        basic = parser.add_argument_group("basic")
        basic.add_argument("--dataroot", required=True,
                           help="dataset root holding images/<phase>/ and bbox/<phase>/")
        basic.add_argument("--name", default="experiment_name",
                           help="experiment name: the folder under checkpoints_dir and results_dir")
        basic.add_argument("--gpu_ids", default="0",
                           help="GPU ids, e.g. 0 or 0,1,2; -1 for CPU. Without CUDA the CPU is used")
        basic.add_argument("--checkpoints_dir", default="./checkpoints", help="where models and logs are saved")
        basic.add_argument("--seed", type=number(int, minimum=0, maximum=2**32 - 1), default=42,
                           help="seed for python, numpy and torch")
        basic.add_argument("--quiet", action="store_true", help="no progress bars (for logs)")

        model = parser.add_argument_group(MODEL_GROUP)
        model.add_argument("--model", default="psgan", choices=models.available_models(),
                           help="which model to train or test")
        model.add_argument("--input_nc", type=number(int, minimum=1), default=3,
                           help="input image channels (mask/noise added inside)")
        model.add_argument("--output_nc", type=number(int, minimum=1), default=3, help="output image channels")
        model.add_argument("--ngf", type=number(int, minimum=1), default=64,
                           help="generator filters in the last conv layer")
        model.add_argument("--ndf", type=number(int, minimum=1), default=64,
                           help="discriminator filters in the first conv layer")
        model.add_argument("--netD_image", default="basic", choices=IMAGE_D_NAMES,
                           help="image discriminator: basic = 70x70 PatchGAN, n_layers, pixel")
        model.add_argument("--netD_person", default="spp", choices=(*PERSON_D_NAMES, "none"),
                           help="person discriminator on the box crop (spp: 21 pyramid logits, spp_128: 5)")
        model.add_argument("--netG", default="unet_256", choices=GENERATOR_NAMES,
                           help="generator (G1 for progan): unet_* (the thesis's), resnet_*, or inpaint = dilated "
                                "residual blocks at a quarter of the side, built to fill holes (no normalisation, "
                                "its own fan-in init; noise none or decoder)")
        model.add_argument("--netG2", default="none", choices=("none", *GENERATOR_NAMES),
                           help="stage-2 generator (progan)")
        model.add_argument("--netG_mask_input", action="store_true",
                           help="add the box mask (+1 outside, -1 inside) as an extra generator input channel")
        model.add_argument("--netG_noise", default="none", choices=NOISE_MODES,
                           help="where the generator injects noise")
        model.add_argument("--netG_upsample", default="transpose", choices=UPSAMPLE_MODES,
                           help="how the U-Net decoder doubles the side: transpose = 4x4/2 transposed convolution "
                                "(the original's), resize = 2x nearest upsampling + 3x3 convolution (no "
                                "checkerboard pattern; fewer weights; at the demo sizes a training step is as fast: "
                                "scripts/benchmark.py --only generator_upsample)")
        model.add_argument("--n_layers_D", type=number(int, minimum=1), default=3,
                           help="image D depth when netD_image is n_layers")
        model.add_argument("--norm", default="batch", choices=NORM_TYPES,
                           help="normalisation of every network but the inpaint generator, which has none")
        model.add_argument("--init_type", default="normal", choices=INIT_TYPES,
                           help="weight initialisation (the inpaint generator sets its own)")
        model.add_argument("--init_gain", type=number(above=0), default=0.02,
                           help="scale for normal, xavier, orthogonal")
        model.add_argument("--no_dropout", action="store_true", help="no dropout in the U-Net generator")

        # What the trained networks see; test.py takes these, like the model group, from the run's options.
        network_input = parser.add_argument_group(NETWORK_INPUT_GROUP)
        network_input.add_argument("--direction", default="BtoA", choices=DIRECTIONS,
                                   help="BtoA: the input is the right (box-filled) half, the target the left "
                                        "(clean) half")
        network_input.add_argument("--crop_size", type=number(int, minimum=1), default=256,
                                   help="the networks' input size: images are cropped (or resized) to it")
        network_input.add_argument("--bbox_noise", default="none", choices=FILL_MODES,
                                   help="box fill of the input: none = solid grey (HEAD default), random = fresh "
                                        "black/grey/white noise, original = the noise baked into the PNG (thesis "
                                        "2021)")

        dataset = parser.add_argument_group("dataset")
        dataset.add_argument("--dataset_mode", default="aligned", choices=data.available_dataset_modes(),
                             help="how the dataset is read")
        dataset.add_argument("--serial_batches", action="store_true", help="take samples in order, no shuffle")
        dataset.add_argument("--num_threads", type=number(int, minimum=0), default=0,
                             help="data loader worker processes")
        dataset.add_argument("--batch_size", type=number(int, minimum=1), default=1, help="input batch size")
        dataset.add_argument("--load_size", type=number(int, minimum=1), default=286, help="scale images to this size")
        dataset.add_argument("--max_dataset_size", type=number(minimum=1, allow_inf=True), default=float("inf"),
                             help="use at most this many samples")
        # The original's default 'resize' with load_size 286 would feed 286 px images to a 256 px U-Net.
        dataset.add_argument("--preprocess", default="resize_crop",
                             help="tokens: resize, crop, scale_width, color, contrast, none "
                                  "(e.g. resize_crop_contrast)")
        dataset.add_argument("--no_flip", action="store_true", help="no horizontal flip augmentation")
        dataset.add_argument("--skip_bad_samples", action="store_true",
                             help="skip unreadable samples with a warning instead of stopping")
        dataset.add_argument("--display_winsize", type=number(int, minimum=1), default=256,
                             help="image width in HTML pages")

        other = parser.add_argument_group("other")
        other.add_argument("--epoch", default="latest",
                           help="checkpoint prefix to load: latest, best, stage_one_best or an epoch number")
        other.add_argument("--load_iter", type=number(int, minimum=0), default=0,
                           help="if > 0, load iter_<load_iter> instead")
        other.add_argument("--verbose", action="store_true", help="print the network structures")
        other.add_argument("--inception_weights", default=None,
                           help="FID Inception file; default: searched offline (see util/weights.py)")
        other.add_argument("--trust_torchscript", action="store_true",
                           help="load a TorchScript --inception_weights file other than the pinned FID network "
                                "(loading TorchScript runs the code inside it)")
        other.add_argument("--suffix", default="",
                           help="appended to --name, formatted with the options, e.g. {model}_{netG}")

        speed = parser.add_argument_group("precision and threads")
        speed.add_argument("--amp", default="auto", choices=AMP_MODES,
                           help="mixed precision of the forward passes; auto = bf16 on a bf16-capable GPU, or on a "
                                "CPU with native bf16 where a cached micro-benchmark measured it faster, else none "
                                "(the resolved value is saved with the options); fp16 needs CUDA")
        speed.add_argument("--threads", type=number(int, minimum=1), default=None,
                           help="torch intra-op threads of this process; default: OMP_NUM_THREADS if set, else "
                                "usable cores / processes on this machine (torchrun) - data-loader workers")
        return parser

    # -- parsing --------------------------------------------------------------------------------------------

    def build_parser(self, argv: list[str] | None) -> argparse.ArgumentParser:
        """The full parser for these arguments: base flags, then the chosen model's and dataset's."""
        return self.build_parser_from(self.initialize(new_parser(Path(sys.argv[0]).name)), argv)

    def build_parser_from(self, parser: argparse.ArgumentParser, argv: list[str] | None,
                          selected: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
        """Add the chosen model's and dataset's flags to a parser holding the base flags, then help.

        ``selected``: ``model`` / ``dataset_mode`` given as keywords (they win over a model's defaults)."""
        selected = {key: value for key, value in (selected or {}).items() if key in ("model", "dataset_mode")}
        parser.set_defaults(**selected)
        before = option_names(parser)
        parser = models.get_option_setter(probe(parser, argv).model)(parser, self.is_train)
        self.model_options = option_names(parser) - before
        parser.set_defaults(**selected)
        parser = data.get_option_setter(probe(parser, argv).dataset_mode)(parser, self.is_train)
        parser.add_argument("-h", "--help", action="help", help="show this help message and exit")
        return parser

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        """Parse, resolve derived values and check consistency; unknown flags exit as argparse does."""
        parser = self.build_parser(argv)
        return self.finish(parser.parse_args(argv), parser)

    def parse_keywords(self, **values: Any) -> argparse.Namespace:
        """The options ``parse`` returns for the equivalent flags, from keyword values instead of a command line:
        ``TrainOptions().parse_keywords(model="psgan", ngf=8, gpu_ids="-1")``. ``--dataroot`` is optional here
        (None: a model needs no data). Unknown names, invalid choices and failed checks raise OptionsError."""
        parser = self.build_keyword_parser(values)
        return self.finish(keyword_namespace(parser, values), parser)

    def build_keyword_parser(self, values: Mapping[str, Any]) -> argparse.ArgumentParser:
        """As ``build_parser``, with the model and dataset mode taken from ``values``."""
        parser = self.initialize(new_parser(Path(sys.argv[0]).name, raise_errors=True))
        return self.build_parser_from(parser, [], selected=values)

    def finish(self, opt: argparse.Namespace, parser: argparse.ArgumentParser) -> argparse.Namespace:
        opt.isTrain = self.is_train
        self.finalise(opt, parser)
        self.parser = parser
        return opt

    def finalise(self, opt: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        """Derived values and checks shared by train and test."""
        if opt.suffix:
            opt.name = f"{opt.name}_{opt.suffix.format(**vars(opt))}"
        try:
            opt.gpu_ids = [int(i) for i in str(opt.gpu_ids).split(",") if i.strip() and int(i) >= 0]
        except ValueError:
            parser.error(f"--gpu_ids: expected a comma-separated list of integers, got {opt.gpu_ids!r}")
        unknown_tokens = set(opt.preprocess.split("_")) - {"resize", "crop", "scale", "width", "color",
                                                            "contrast", "none"}
        if unknown_tokens:
            parser.error(f"--preprocess: unknown token(s) {sorted(unknown_tokens)} in {opt.preprocess!r}")
        if "resize" in opt.preprocess and "crop" not in opt.preprocess and opt.load_size != opt.crop_size:
            parser.error(f"--preprocess {opt.preprocess} feeds the networks --load_size ({opt.load_size}) px images: "
                         f"set --load_size to --crop_size ({opt.crop_size}) or add 'crop'")
        if "crop" in opt.preprocess and opt.load_size < opt.crop_size:
            parser.error(f"--load_size ({opt.load_size}) must be >= --crop_size ({opt.crop_size}) "
                         f"when --preprocess has 'crop'")
        model_class = models.find_model_using_name(opt.model)
        try:
            opt.small_input_size = model_class.small_input_size(opt)
        except ValueError as error:
            parser.error(str(error))
        problem = model_class.option_problem(opt)
        if problem:
            parser.error(problem)
        for flag, netG, diff_map in (("--netG", opt.netG, False),
                                     ("--netG2", getattr(opt, "netG2", "none"), getattr(opt, "unet_diff_map", False))):
            problem = None if netG == "none" else generator_problem(netG, opt.netG_noise, diff_map, opt.netG_upsample)
            if problem:
                parser.error(f"{flag} {netG}: {problem}")
        on_cuda = cuda_requested(opt.gpu_ids)
        opt.amp = choose_amp(opt.amp, on_cuda)
        problem = amp_problem(opt.amp, on_cuda, self.gan_modes(opt))
        if problem:
            parser.error(problem)

    def gan_modes(self, opt: argparse.Namespace) -> tuple[str, ...]:
        """The GAN objectives in use (training only: fp16 cannot scale the WGAN-GP penalty's inner gradient)."""
        return ()

    # -- reporting ------------------------------------------------------------------------------------------

    def format_options(self, opt: argparse.Namespace) -> str:
        """One line per option; values that differ from the default are marked with their default."""
        lines = ["----------------- Options ---------------"]
        for key, value in sorted(vars(opt).items()):
            default = self.parser.get_default(key)
            marker = f"\t[default: {default}]" if default is not None and value != default else ""
            lines.append(f"{key:>25}: {value!s:<30}{marker}")
        lines.append("----------------- End -------------------")
        return "\n".join(lines) + "\n"

    def save_options(self, opt: argparse.Namespace, folder: str | Path, phase: str) -> tuple[Path, Path]:
        """Write ``<phase>_opt.txt`` (human) and ``<phase>_opt.json`` (machine) into ``folder``, atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        text_path = folder / f"{phase}_opt.txt"
        json_path = folder / f"{phase}_opt.json"
        atomic_write_text(text_path, self.format_options(opt))
        atomic_write_text(json_path, json.dumps(options_to_json(opt), indent=2, sort_keys=True) + "\n")
        return text_path, json_path


class KeywordParser(argparse.ArgumentParser):
    """A parser for options given as keywords: a problem raises OptionsError instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise OptionsError(message)


def new_parser(prog: str, raise_errors: bool = False) -> argparse.ArgumentParser:
    # Help is added after the model's and dataset's flags, so that --help lists them too.
    parser_class = KeywordParser if raise_errors else argparse.ArgumentParser
    return parser_class(prog=prog, add_help=False, formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def keyword_namespace(parser: argparse.ArgumentParser, values: Mapping[str, Any]) -> argparse.Namespace:
    """The parser's defaults with ``values`` in place of the given options, checked as the command line would be
    (names and choices); nothing is required."""
    actions = {action.dest: action for action in parser._actions if action.dest != "help"}
    unknown = sorted(set(values) - set(actions))
    if unknown:
        parser.error(f"unknown option(s): {', '.join(unknown)}")
    values = dict(values)
    if isinstance(values.get("gpu_ids"), (list, tuple)):
        values["gpu_ids"] = ",".join(str(i) for i in values["gpu_ids"])
    for key, value in values.items():
        choices = actions[key].choices
        if choices is not None and value not in choices:
            parser.error(f"--{key}: invalid choice {value!r} (choose from {', '.join(map(str, choices))})")
        if isinstance(value, int | float) and not isinstance(value, bool) and callable(actions[key].type):
            try:  # the range checks of the flag's type (argparse only applies types to strings)
                actions[key].type(str(value))
            except (argparse.ArgumentTypeError, ValueError) as error:
                parser.error(f"--{key}: {error}")
    for action in actions.values():
        action.required = False
    parser.set_defaults(**values)
    return parser.parse_args([])


def option_names(parser: argparse.ArgumentParser, group: str | None = None) -> set[str]:
    """The destinations of the parser's options (of one argument group when ``group`` names it)."""
    if group is None:
        return {action.dest for action in parser._actions}
    return {action.dest for found in parser._action_groups if found.title == group
            for action in found._group_actions}


def probe(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Read the flags known so far, ignoring the rest and any missing required flag (pass one)."""
    required = [action for action in parser._actions if action.required]
    for action in required:
        action.required = False
    try:
        return parser.parse_known_args(argv)[0]
    finally:
        for action in required:
            action.required = True


def options_to_json(opt: argparse.Namespace) -> dict:
    """The options as JSON-safe values (inf becomes the string "inf")."""
    out = {}
    for key, value in vars(opt).items():
        if isinstance(value, float) and value == float("inf"):
            value = "inf"
        out[key] = value
    return out
