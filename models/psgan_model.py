"""psgan: the thesis's single-stage anonymizer (U-Net G, image PatchGAN and SPP person discriminator)."""

from __future__ import annotations

import argparse

import torch

from models.networks import GANLoss, define_D_image, define_D_person, define_G

from .person_gan import PersonGANModel, Stage, StageBatch, add_update_order_option, box_masks, composite
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
        if is_train:
            parser.add_argument("--use_L1_mask", action="store_true",
                                help="L1 on the region outside the box only")
            add_update_order_option(parser)
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.visual_names = ["real_A", "fake_B", "fake_B_display", "real_B"]
        self.netG = define_G(opt.netG, opt.input_nc, opt.output_nc, opt.ngf, opt.norm, not opt.no_dropout,
                             opt.init_type, opt.init_gain, mask_input=opt.netG_mask_input,
                             noise=opt.netG_noise).to(self.device)
        self.model_names = ["G"]
        if self.isTrain:
            self.build_training_stage()

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
        image_pool, person_pool = self.make_pools(0)
        self.stage = Stage(
            G="G", D_image=self.D_IMAGE_NAME, D_person=person_name, conditional_image_D=True,
            gan_image=GANLoss(opt.gan_mode_image, opt.disc_label_noise).to(self.device),
            gan_mode_image=opt.gan_mode_image,
            gan_person=GANLoss(opt.gan_mode_person, 0.0).to(self.device) if person_name else None,
            gan_mode_person=opt.gan_mode_person,
            lambda_L1=opt.lambda_L1, lambda_image=getattr(opt, "lambda_image", 1.0),
            lambda_person=getattr(opt, "lambda_person", 1.0), L1_outside_only=getattr(opt, "use_L1_mask", False),
            image_pool=image_pool, person_pool=person_pool)
        self.loss_names = self.LOSS_NAMES_PERSON if person_name else self.LOSS_NAMES_IMAGE_ONLY
        self.optimizers = {name: self.make_optimizer([name]) for name in self.model_names}

    def stages(self) -> list[Stage]:
        return [self.stage] if self.isTrain else []

    def set_input(self, batch: dict) -> None:
        self.real_A = batch["A"].to(self.device)
        self.real_B = batch["B"].to(self.device)
        self.boxes = batch["bbox"].to(self.device)
        self.inside = box_masks(self.boxes, self.real_A.shape[2], self.real_A.shape[3])
        self.image_paths = list(batch["A_paths"])

    def forward(self) -> None:
        self.fake_B = self.netG(self.generator_input(self.real_A, self.inside, self.opt.netG_mask_input))
        self.fake_B_display = composite(self.real_B, self.fake_B, self.inside).detach()

    def stage_batch(self) -> StageBatch:
        self.forward()
        return StageBatch(condition=self.real_A, real=self.real_B, fake=self.fake_B, boxes=self.boxes,
                          inside=self.inside)

    def optimize_parameters(self) -> None:
        self.optimize_stage(self.stage, self.stage_batch)

    def current_discriminator_losses(self) -> dict[str, float]:
        """D losses and accuracies on the current input, no update (the val5 log)."""
        with torch.no_grad():
            batch = self.stage_batch()
        return self.discriminator_losses(self.stage, batch)

    def training_state(self) -> dict:
        state = super().training_state()
        state["pools"] = [[s.image_pool.state_dict(), s.person_pool.state_dict()] for s in self.stages()]
        return state

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        for stage, (image_pool, person_pool) in zip(self.stages(), state["pools"], strict=True):
            stage.image_pool.load_state_dict(image_pool)
            stage.person_pool.load_state_dict(person_pool)

    def validation_loss(self) -> torch.Tensor:
        """Mean absolute error inside the box (the fallback validation score when no Inception is found)."""
        area = self.inside.sum().clamp(min=1.0)
        return ((self.fake_B - self.real_B).abs() * self.inside).sum() / (area * self.fake_B.shape[1])
