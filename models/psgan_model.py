"""psgan: the thesis's single-stage anonymizer (U-Net G, image PatchGAN and SPP person discriminator)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from data.batch import Batch
from data.holes import person_silhouette
from models.networks import LatentEncoder, define_D_image, define_D_person, define_G, mask_channel
from util.cli import number

from .person_gan import (
    PersonGANModel,
    Stage,
    StageBatch,
    add_person_batching_option,
    add_update_order_option,
    composite,
)
from .person_gan_options import add_person_gan_options


class PsganModel(PersonGANModel):
    """One generator at full resolution; visuals real_A, fake_B, fake_B_display, real_B."""

    # Network names under which the image and person discriminators are saved.
    D_IMAGE_NAME = "D_image"
    D_PERSON_NAME = "D_person"

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(norm="batch", netG="unet_256", dataset_mode="aligned")
        parser = add_person_gan_options(parser, is_train)
        parser.add_argument("--netG_silhouette_input", action="store_true",
                            help="add the silhouette of the person to paint as a generator input channel (+1 "
                                 "elsewhere, -1 on it): in training the crop's own person mask inside the box; "
                                 "anonymize.py draws a stranger's silhouette from the model's bank for a whole box "
                                 "and gives the person's own shape with --instance_ids (docs/realism_recipe.md). "
                                 "Needs person_mask/ beside the crops")
        if is_train:
            parser.add_argument("--use_L1_mask", action="store_true",
                                help="L1 on the region outside the box only")
            parser.add_argument("--person_hole_fraction", type=number(minimum=0, maximum=1), default=0.0,
                                help="fraction of training crops in which G paints only the person's shape (its "
                                     "mask inside the box, grown by a pixel; the rest of the box stays real), "
                                     "the others the whole box (anonymize.py --instance_ids paints such shapes "
                                     "with any psgan; docs/realism_recipe.md). Needs person_mask/ beside the crops")
            parser.add_argument("--pretrain_iters_D", type=number(int, minimum=0), default=0,
                                help="first iterations in which only the discriminators learn (G's weights and "
                                     "their moving average unchanged): after --init_from a model file, whose "
                                     "discriminators start fresh, they learn the generator before it learns from them")
            parser.add_argument("--lambda_vae_L1", type=number(minimum=0), default=0.0,
                                help="the cVAE-GAN branch of BicycleGAN (docs/realism_recipe.md): an encoder E "
                                     "reads the real box and gives G its latent code, and G's box painted from that "
                                     "code is pulled toward the real one with this L1 weight (BicycleGAN: 10); "
                                     "sampling draws the code from N(0, I). 0 = off. Needs --netG_noise latent")
            parser.add_argument("--lambda_kl", type=number(minimum=0), default=0.01,
                                help="weight of the KL term that keeps E's codes near N(0, I) (with --lambda_vae_L1)")
            add_update_order_option(parser)
            add_person_batching_option(parser)
        return parser

    @staticmethod
    def option_problem(opt: argparse.Namespace) -> str | None:
        if getattr(opt, "lambda_vae_L1", 0.0) > 0 and opt.netG_noise != "latent":
            return (f"--lambda_vae_L1 gives G an encoded latent code: it needs --netG_noise latent "
                    f"(got --netG_noise {opt.netG_noise})")
        if getattr(opt, "person_hole_fraction", 0.0) > 0 and opt.bbox_noise == "original":
            return ("--person_hole_fraction fills the person's shape with --bbox_noise none or random; "
                    "'original' is noise baked into the crop's box")
        return None

    def __init__(self, opt: argparse.Namespace) -> None:
        problem = self.option_problem(opt)
        if problem:
            raise ValueError(problem)
        super().__init__(opt)
        self.silhouette_input = getattr(opt, "netG_silhouette_input", False)  # psgan's flag; pix2pix shares the class
        self.visual_names = ["real_A", "fake_B", "fake_B_display", "real_B"]
        self.netG = define_G(opt.netG, opt.input_nc, opt.output_nc, opt.ngf, opt.norm, not opt.no_dropout,
                             opt.init_type, opt.init_gain, mask_input=opt.netG_mask_input,
                             noise=opt.netG_noise, upsample=opt.netG_upsample,
                             silhouette_input=self.silhouette_input).to(self.device)
        self.model_names = ["G"]
        self.steps_done = 0  # optimizer iterations, saved with the training state (--pretrain_iters_D)
        if self.isTrain:
            self.build_training_stage()
        self.build_ema(["G"])

    def uses_person_discriminator(self) -> bool:
        return self.opt.netD_person != "none" and self.opt.gan_mode_person != "none"

    def build_training_stage(self) -> None:
        opt = self.opt
        self.netD_image = define_D_image(opt.netD_image, opt.input_nc + opt.output_nc, opt.ndf, opt.n_layers_D,
                                         opt.norm, opt.init_type, opt.init_gain).to(self.device)
        setattr(self, f"net{self.D_IMAGE_NAME}", self.netD_image)
        self.model_names.append(self.D_IMAGE_NAME)
        person_name = None
        if self.uses_person_discriminator():
            person_name = self.D_PERSON_NAME
            self.netD_person = define_D_person(opt.netD_person, opt.output_nc, opt.ndf, opt.norm, opt.init_type,
                                               opt.init_gain).to(self.device)
            self.model_names.append(person_name)
        self.stage = self.make_stage(
            G="G", D_image=self.D_IMAGE_NAME, D_person=person_name, conditional_image_D=True,
            gan_mode_image=opt.gan_mode_image, gan_mode_person=opt.gan_mode_person,
            label_noise=opt.disc_label_noise, lambda_L1=opt.lambda_L1,
            lambda_image=getattr(opt, "lambda_image", 1.0), lambda_person=getattr(opt, "lambda_person", 1.0),
            L1_outside_only=getattr(opt, "use_L1_mask", False), pool_seed_offset=0)
        if getattr(opt, "lambda_vae_L1", 0.0) > 0:  # pix2pix shares the class, not the flag
            # E reads the real box with the box mask beside it; it learns in G's step, with G's optimizer.
            self.netE = LatentEncoder(opt.output_nc + 1, opt.ndf).to(self.device)
            self.model_names.append("E")
            self.stage.encoder, self.stage.lambda_vae_L1, self.stage.lambda_kl = "E", opt.lambda_vae_L1, opt.lambda_kl
        self.loss_names = self.loss_names_for(self.stage)
        self.optimizers = {name: self.make_optimizer([name, "E"] if name == "G" and self.stage.encoder else [name])
                           for name in self.model_names if name != "E"}

    def stages(self) -> list[Stage]:
        return [self.stage] if self.isTrain else []

    def active_stage(self) -> tuple[Stage, Callable[[], StageBatch]]:
        return self.stage, self.stage_batch

    def set_input(self, batch: Batch) -> None:
        self.set_full_size_input(batch)
        self.silhouette = None
        if self.silhouette_input:
            if self.person_mask is None:
                raise ValueError("--netG_silhouette_input: the batch has no person masks (the crops need a "
                                 "person_mask/ folder; anonymize.py gives each window a silhouette)")
            self.silhouette = person_silhouette(self.person_mask, self.inside)

    def forward(self) -> None:
        g_input = self.generator_input(self.real_A, self.inside, self.opt.netG_mask_input)
        if self.silhouette is not None:
            g_input = torch.cat([g_input, mask_channel(self.silhouette)], dim=1)
        self.g_input = g_input  # kept for the cVAE branch
        self.fake_B = self.run_network(self.sampling_network("G"), g_input)
        self.fake_B_display = composite(self.real_B, self.fake_B, self.inside).detach()

    def stage_batch(self) -> StageBatch:
        self.forward()
        return StageBatch(condition=self.real_A, real=self.real_B, fake=self.fake_B, boxes=self.boxes,
                          inside=self.inside, person_mask=self.person_mask, generator_input=self.g_input)

    def optimize_parameters(self) -> None:
        update_generator = self.steps_done >= getattr(self.opt, "pretrain_iters_D", 0)  # pix2pix has no such flag
        self.optimize_stage(self.stage, self.stage_batch, update_generator=update_generator)
        self.steps_done += 1

    def training_state(self) -> dict:
        return {**super().training_state(), "steps_done": self.steps_done}

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        # Runs saved before the count was kept resume as past any discriminator pretraining.
        self.steps_done = int(state.get("steps_done", getattr(self.opt, "pretrain_iters_D", 0)))
