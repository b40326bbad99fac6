"""Flags shared by the person-aware models (psgan and progan)."""

from __future__ import annotations

import argparse

from models.networks.augment import AUGMENTATIONS, parse_policy
from util.cli import number


def augmentation_policy(text: str) -> str:
    """argparse type of --diff_augment: the names, checked (a bad one exits with one line naming it) and kept as
    text so that saved options read back the same."""
    try:
        return ",".join(parse_policy(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_person_gan_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
    """Options both psgan and progan take; the caller adds its own on top."""
    group = parser.add_argument_group("person GAN")
    group.add_argument("--fake_B_display", action="store_true",
                       help="show the image D the composite (real background + generated box), not the raw output")
    if is_train:
        group.add_argument("--lambda_L1", type=number(minimum=0), default=100.0, help="weight of the L1 loss")
        group.add_argument("--lambda_person", type=number(minimum=0), default=1.0, help="weight of G's person-GAN term")
        group.add_argument("--lambda_image", type=number(minimum=0), default=1.0, help="weight of G's image-GAN term")
        group.add_argument("--EL_person", action="store_true",
                           help="replace G's person-GAN term by feature matching on the person D's activations")
        group.add_argument("--EL_image", action="store_true",
                           help="replace G's image-GAN term by the MSE between D(fake) and D(real)")
        recipe = parser.add_argument_group("realism recipe (docs/realism_recipe.md; 0 = off, the thesis)")
        recipe.add_argument("--ema_decay", type=number(minimum=0, below=1), default=0.0,
                            help="keep an exponential moving average of G's weights (e.g. 0.999), saved as "
                                 "<prefix>_net_G_ema.pth and used for validation, test.py and anonymize.py")
        recipe.add_argument("--lambda_mode_seeking", type=number(minimum=0), default=0.0,
                            help="weight of the mode-seeking term (a second G forward with fresh noise; pushes "
                                 "different seeds to different people)")
        recipe.add_argument("--mode_seeking_pool", type=number(int, minimum=1), default=1,
                            help="measure the mode-seeking distance between outputs average-pooled over KxK pixels "
                                 "(1 = per pixel, the paper): seeds must differ in colours and shapes, not in "
                                 "pixel noise")
        recipe.add_argument("--L1_box_weight", type=number(minimum=0, maximum=1), default=1.0,
                            help="weight of the L1 term inside the box relative to outside: 1 = the thesis (a "
                                 "strong pull toward the original person, which teaches the mean person), 0 = "
                                 "outside only (as --use_L1_mask)")
        recipe.add_argument("--L1_box_background_weight", type=number(minimum=0, maximum=1), default=None,
                            help="weight of the L1 term on the background inside the box (the pixels that are no "
                                 "person in the crop's person mask, which data_preprocessing.cityscapes writes from "
                                 "gtFine instance ids), relative to outside; --L1_box_weight then weighs only the "
                                 "people. Teaches G to continue the surroundings behind the person it paints. "
                                 "Default: --L1_box_weight for the whole box")
        recipe.add_argument("--r1_gamma", type=number(minimum=0), default=0.0,
                            help="R1 penalty on both discriminators' gradients at real inputs (weight gamma; the "
                                 "person discriminator's is --r1_gamma_person when given)")
        recipe.add_argument("--r1_gamma_person", type=number(minimum=0), default=None,
                            help="R1 weight of the person discriminator alone (default: --r1_gamma); with "
                                 "--r1_gamma 0, R1 on the person discriminator only")
        recipe.add_argument("--diff_augment", type=augmentation_policy, default="", metavar="POLICY",
                            help="differentiable augmentation of everything both discriminators see, real and fake, "
                                 f"in D's and G's updates: a comma list of {', '.join(AUGMENTATIONS)} (keeps D from "
                                 "memorising a small training set)")
    return parser
