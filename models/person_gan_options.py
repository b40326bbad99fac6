"""Flags shared by the person-aware models (psgan and progan), SPEC_ORIGINAL §2.4."""

from __future__ import annotations

import argparse


def add_person_gan_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
    """Options both psgan and progan take; the caller adds its own on top."""
    group = parser.add_argument_group("person GAN")
    group.add_argument("--fake_B_display", action="store_true",
                       help="show the image D the composite (real background + generated box), not the raw output")
    if is_train:
        group.add_argument("--lambda_L1", type=float, default=100.0, help="weight of the L1 loss")
        group.add_argument("--lambda_person", type=float, default=1.0, help="weight of G's person-GAN term")
        group.add_argument("--lambda_image", type=float, default=1.0, help="weight of G's image-GAN term")
        group.add_argument("--EL_person", action="store_true",
                           help="replace G's person-GAN term by feature matching on the person D's activations")
        group.add_argument("--EL_image", action="store_true",
                           help="replace G's image-GAN term by the MSE between D(fake) and D(real)")
    return parser
