"""pix2pix: the baseline (U-Net G and conditional PatchGAN, no person discriminator)."""

from __future__ import annotations

import argparse

from util.cli import number

from .person_gan import add_update_order_option
from .psgan_model import PsganModel


class Pix2pixModel(PsganModel):
    """psgan without the person discriminator; its image D is saved as ``D`` (the original's name)."""

    D_IMAGE_NAME = "D"

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(norm="batch", netG="unet_256", netD_person="none", netG2="none", dataset_mode="aligned")
        parser.add_argument("--fake_B_display", action="store_true",
                            help="show the image D the composite (real background + generated box)")
        if is_train:
            parser.set_defaults(gan_mode_person="none", pool_size_image=0, gan_mode_image="vanilla")
            parser.add_argument("--lambda_L1", type=number(minimum=0), default=100.0, help="weight of the L1 loss")
            add_update_order_option(parser)
        return parser

    def uses_person_discriminator(self) -> bool:
        return False
