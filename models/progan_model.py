"""progan: the thesis's two-stage anonymizer (128 px generation, then 256 px refinement)."""

from __future__ import annotations

import argparse

from .person_gan_options import add_person_gan_options

GAN_MODES = ("vanilla", "lsgan", "wgangp")


class ProganModel:
    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(netG="unet_128", netG2="unet_256", netD_image="n_layers", n_layers_D=2,
                            netD_person="spp_128", netG_noise="decoder")
        parser = add_person_gan_options(parser, is_train)
        stage2 = parser.add_argument_group("progan stage 2")
        stage2.add_argument("--unet_diff_map", action="store_true",
                            help="G2 predicts a difference map added to its input (identity at initialisation)")
        stage2.add_argument("--netD2_person", default="spp", choices=("spp", "spp_128", "conv", "gap"),
                            help="stage-2 person discriminator")
        stage2.add_argument("--netD2_image", default="basic", choices=("basic", "n_layers", "pixel"),
                            help="stage-2 image discriminator (unconditional)")
        stage2.add_argument("--n_layers_D2", type=int, default=3, help="depth when netD2_image is n_layers")
        stage2.add_argument("--stage_2_composite_input", action="store_true",
                            help="G2 input = real input with G1's upsampled box pasted in")
        stage2.add_argument("--netG2_mask_input", action="store_true", help="mask channel for G2")
        if is_train:
            stage2.add_argument("--L1_mask", action="store_true", help="stage-1 L1 outside the box only")
            stage2.add_argument("--stage_1_epochs", type=int, default=100, help="epochs spent in stage 1")
            stage2.add_argument("--lambda_L1_stage_2", type=float, default=100.0, help="stage-2 L1 weight")
            stage2.add_argument("--L1_mask_stage_2", action="store_true", help="stage-2 L1 outside the box only")
            stage2.add_argument("--lambda_person_stage_2", type=float, default=1.0, help="stage-2 person weight")
            stage2.add_argument("--lambda_image_stage_2", type=float, default=1.0, help="stage-2 image weight")
            stage2.add_argument("--gan_mode_image2", default="lsgan", choices=GAN_MODES,
                                help="stage-2 image D objective")
            stage2.add_argument("--gan_mode_person2", default="vanilla", choices=GAN_MODES,
                                help="stage-2 person D objective")
            stage2.add_argument("--disc_label_noise_stage_2", type=float, default=0.0,
                                help="stage-2 label noise")
            stage2.add_argument("--pretrain_iters_stage_2", type=int, default=0,
                                help="first stage-2 iterations in which only the stage-2 Ds learn")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        # The options above already parse (the thesis README commands); the two-stage model itself is next.
        raise SystemExit("error: --model progan: the two-stage model is not implemented yet; "
                         "use --model psgan or pix2pix")
