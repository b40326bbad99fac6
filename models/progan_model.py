"""progan: the thesis's two-stage anonymizer (128 px generation, then 256 px refinement).

Stage 1 trains G1 on the half-resolution input with D_image1 (conditional) and D_person1. Stage 2 freezes G1,
upsamples its output (bilinear) to full size and trains G2 on it with D_image2 (unconditional) and D_person2; its
first ``--pretrain_iters_stage_2`` steps update only the stage-2 discriminators.

The stage is derived from the number of optimizer steps taken (``steps_done``, saved with the training state) on
every step: stage 1 while ``steps_done < stage_1_epochs x batches per epoch``. Each stage owns its pools and loss
weights from construction on, so a run resumed anywhere, in either stage, continues exactly
(docs/differences_from_original.md#exact-resume).

``--stage_1_epochs 0`` trains stage 2 from the first step on a trained G1 read from the run folder:
``stage_one_best_net_G1.pth``, else ``best_net_G1.pth`` (unless ``--continue_train`` loads every network).

``best`` is kept per stage: during stage 1 a new best is saved as ``stage_one_best`` and ``best``; the first
stage-2 validation restarts the tracker and always becomes ``best`` (train.py asks ``current_stage()``).
Label noise (``--disc_label_noise[_stage_2]``) applies to the image objective only, as in psgan.
"""

from __future__ import annotations

import argparse
import re
from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn.functional as F

from data.batch import Batch
from data.boxes import box_masks
from models.base_model import CheckpointError
from models.modes import preserved_buffers
from models.networks import GAN_MODES, IMAGE_D_NAMES, PERSON_D_NAMES, define_D_image, define_D_person, define_G
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

# Where --stage_1_epochs 0 looks for the trained G1, in order.
STAGE_ONE_PREFIXES = ("stage_one_best", "best")


class ProganModel(PersonGANModel):
    """G1 (half resolution) then G2 (full resolution); visuals real_A, stage1_fake, [diff_B], fake_B,
    fake_B_display, real_B."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(netG="unet_128", netG2="unet_256", netD_image="n_layers", n_layers_D=2,
                            netD_person="spp_128", netG_noise="decoder")
        parser = add_person_gan_options(parser, is_train)
        stage2 = parser.add_argument_group("progan stage 2")
        stage2.add_argument("--unet_diff_map", action="store_true",
                            help="G2 predicts a difference map added to its input (identity at initialisation)")
        stage2.add_argument("--netD2_person", default="spp", choices=PERSON_D_NAMES,
                            help="stage-2 person discriminator")
        stage2.add_argument("--netD2_image", default="basic", choices=IMAGE_D_NAMES,
                            help="stage-2 image discriminator (unconditional)")
        stage2.add_argument("--n_layers_D2", type=number(int, minimum=1), default=3,
                            help="depth when netD2_image is n_layers")
        stage2.add_argument("--stage_2_composite_input", action="store_true",
                            help="G2 input = real input with G1's upsampled box pasted in")
        stage2.add_argument("--netG2_mask_input", action="store_true", help="mask channel for G2")
        if is_train:
            stage2.add_argument("--L1_mask", action="store_true", help="stage-1 L1 outside the box only")
            stage2.add_argument("--stage_1_epochs", type=number(int, minimum=0), default=100,
                                help="epochs spent in stage 1; 0 = stage 2 only, on the G1 saved in this run "
                                     "folder as stage_one_best (else best)")
            stage2.add_argument("--lambda_L1_stage_2", type=number(minimum=0), default=100.0, help="stage-2 L1 weight")
            stage2.add_argument("--L1_mask_stage_2", action="store_true", help="stage-2 L1 outside the box only")
            stage2.add_argument("--lambda_person_stage_2", type=number(minimum=0), default=1.0,
                                help="stage-2 person weight")
            stage2.add_argument("--lambda_image_stage_2", type=number(minimum=0), default=1.0,
                                help="stage-2 image weight")
            stage2.add_argument("--gan_mode_image2", default="lsgan", choices=GAN_MODES,
                                help="stage-2 image D objective")
            stage2.add_argument("--gan_mode_person2", default="vanilla", choices=GAN_MODES,
                                help="stage-2 person D objective")
            stage2.add_argument("--disc_label_noise_stage_2", type=number(minimum=0, below=1), default=0.0,
                                help="stage-2 label noise")
            stage2.add_argument("--pretrain_iters_stage_2", type=number(int, minimum=0), default=0,
                                help="first stage-2 iterations in which only the stage-2 Ds learn")
            add_update_order_option(parser)
            add_person_batching_option(parser)
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        if opt.netG2 == "none":
            raise ValueError("--model progan needs a stage-2 generator: pass --netG2 (e.g. unet_256)")
        common = dict(ngf=opt.ngf, norm=opt.norm, use_dropout=not opt.no_dropout, init_type=opt.init_type,
                      init_gain=opt.init_gain, noise=opt.netG_noise, upsample=opt.netG_upsample)
        self.netG1 = define_G(opt.netG, opt.input_nc, opt.output_nc, mask_input=opt.netG_mask_input,
                              **common).to(self.device)
        self.netG2 = define_G(opt.netG2, opt.output_nc, opt.output_nc, mask_input=opt.netG2_mask_input,
                              diff_map=opt.unet_diff_map, **common).to(self.device)
        self.model_names = ["G1", "G2"]
        self.visual_names = ["real_A", "stage1_fake", *(["diff_B"] if opt.unet_diff_map else []), "fake_B",
                             "fake_B_display", "real_B"]
        self.steps_done = 0
        self.batches_per_epoch: int | None = None
        # True after a stage-1 training forward: the G1->G2 visuals are computed when first asked for.
        self.visuals_pending = False
        if self.isTrain:
            self.build_training_stages()

    # -- construction -------------------------------------------------------------------------------------
    def build_training_stages(self) -> None:
        opt = self.opt
        if opt.stage_1_epochs < 0:
            raise ValueError(f"--stage_1_epochs must be >= 0, got {opt.stage_1_epochs}")
        discriminators = {
            # Stage 1 judges (input, output) pairs at half resolution; stage 2 judges full-size images alone.
            "D_image1": define_D_image(opt.netD_image, opt.input_nc + opt.output_nc, opt.ndf, opt.n_layers_D,
                                       opt.norm, opt.init_type, opt.init_gain),
            "D_image2": define_D_image(opt.netD2_image, opt.output_nc, opt.ndf, opt.n_layers_D2, opt.norm,
                                       opt.init_type, opt.init_gain),
            "D_person1": self.person_discriminator(opt.netD_person, opt.gan_mode_person),
            "D_person2": self.person_discriminator(opt.netD2_person, opt.gan_mode_person2),
        }
        for name, net in discriminators.items():
            if net is not None:
                setattr(self, f"net{name}", net.to(self.device))
                self.model_names.append(name)
        self.stage1 = self.make_stage(
            G="G1", D_image="D_image1", D_person="D_person1" if discriminators["D_person1"] else None,
            conditional_image_D=True, gan_mode_image=opt.gan_mode_image, gan_mode_person=opt.gan_mode_person,
            label_noise=opt.disc_label_noise, lambda_L1=opt.lambda_L1, lambda_image=opt.lambda_image,
            lambda_person=opt.lambda_person, L1_outside_only=opt.L1_mask, pool_seed_offset=1)
        self.stage2 = self.make_stage(
            G="G2", D_image="D_image2", D_person="D_person2" if discriminators["D_person2"] else None,
            conditional_image_D=False, gan_mode_image=opt.gan_mode_image2, gan_mode_person=opt.gan_mode_person2,
            label_noise=opt.disc_label_noise_stage_2, lambda_L1=opt.lambda_L1_stage_2,
            lambda_image=opt.lambda_image_stage_2, lambda_person=opt.lambda_person_stage_2,
            L1_outside_only=opt.L1_mask_stage_2, pool_seed_offset=2,
            image_grad_inside_only=opt.stage_2_composite_input)
        self.loss_names = self.loss_names_for(self.stage1)
        self.optimizers = {name: self.make_optimizer([name]) for name in self.model_names}
        self.build_ema(["G1", "G2"])

    def person_discriminator(self, name: str, gan_mode: str) -> torch.nn.Module | None:
        if name == "none" or gan_mode == "none":
            return None
        opt = self.opt
        return define_D_person(name, opt.output_nc, opt.ndf, opt.norm, opt.init_type, opt.init_gain)

    def setup(self, load_weights: bool = True) -> None:
        super().setup(load_weights)
        if self.isTrain and not self.opt.continue_train and not self.opt.init_from and self.opt.stage_1_epochs == 0:
            self.load_stage_one_generator()

    def load_stage_one_generator(self) -> None:
        """--stage_1_epochs 0: stage 2 needs a trained G1 from this run folder."""
        for prefix in STAGE_ONE_PREFIXES:
            if self.network_path(prefix, "G1").is_file():
                self.load_networks(prefix, ["G1"])
                return
        wanted = " or ".join(str(self.network_path(prefix, "G1")) for prefix in STAGE_ONE_PREFIXES)
        raise CheckpointError(f"--stage_1_epochs 0 trains stage 2 only and needs a trained G1: {wanted} not found "
                              f"({self.available_prefixes_text()}); train stage 1 first or pass --stage_1_epochs N")

    # -- the stage schedule -------------------------------------------------------------------------------
    def set_batches_per_epoch(self, batches: int) -> None:
        self.batches_per_epoch = int(batches)

    @property
    def stage_1_steps(self) -> int:
        """Optimizer steps spent in stage 1: stage_1_epochs x batches per epoch (so any batch size works)."""
        if self.opt.stage_1_epochs == 0:
            return 0
        if self.batches_per_epoch is None:
            raise RuntimeError("progan needs the number of batches per epoch: call set_batches_per_epoch first")
        return self.opt.stage_1_epochs * self.batches_per_epoch

    def stage_of_step(self, step: int) -> int:
        return 1 if step < self.stage_1_steps else 2

    def current_stage(self) -> int:
        """The stage of the most recent step (of the first one before any): what a validation now measures."""
        if not self.isTrain:
            return 2
        return self.stage_of_step(max(self.steps_done - 1, 0))

    def best_prefixes(self) -> list[str]:
        return ["stage_one_best", "best"] if self.current_stage() == 1 else ["best"]

    def stages(self) -> list[Stage]:
        return [self.stage1, self.stage2] if self.isTrain else []

    def active_stage(self) -> tuple[Stage, Callable[[], StageBatch]]:
        if self.current_stage() == 1:
            return self.stage1, self.stage_one_batch
        return self.stage2, self.stage_two_batch

    def optimize_parameters(self) -> None:
        """One iteration of the stage that step ``steps_done`` belongs to."""
        stage_number = self.stage_of_step(self.steps_done)
        # Stage 1's networks are frozen in stage 2 (set on every step, so a resumed run is in the same state).
        self.set_requires_grad([self.network(name) for name in self.stage1.discriminators + ["G1"]],
                               stage_number == 1)
        if stage_number == 1:
            stage, forward, update_generator = self.stage1, self.stage_one_batch, True
        else:
            pretraining = self.steps_done - self.stage_1_steps < self.opt.pretrain_iters_stage_2
            stage, forward, update_generator = self.stage2, self.stage_two_batch, not pretraining
        self.loss_names = self.loss_names_for(stage)
        self.optimize_stage(stage, forward, update_generator=update_generator,
                            person_disc_steps=self.opt.person_disc_steps, generator_steps=self.opt.generator_steps)
        self.steps_done += 1

    def training_state(self) -> dict:
        return {**super().training_state(), "steps_done": self.steps_done}

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        self.steps_done = int(state["steps_done"])

    # -- inputs and forward passes ------------------------------------------------------------------------
    @staticmethod
    def small_input_size(opt: argparse.Namespace) -> int:
        """G1 works at the size in its name (``unet_128`` -> 128): the batches carry crops down-scaled to it."""
        match = re.search(r"(\d+)$", opt.netG)
        if match is None:
            raise ValueError(f"--model progan needs a generator name ending in its size (e.g. unet_128), "
                             f"got --netG {opt.netG}")
        return int(match.group(1))

    def set_input(self, batch: Batch) -> None:
        """Training and test batches alike: the full-size crops and their small part (G1's input)."""
        if batch.small is None:
            raise ValueError("progan needs batches with a small part (make_batch with small_size)")
        self.set_full_size_input(batch)
        self.real_A_small = batch.small.A.to(self.device, non_blocking=True)
        self.real_B_small = batch.small.B.to(self.device, non_blocking=True)
        self.boxes_small = batch.small.boxes.to(self.device)
        self.inside_small = box_masks(self.boxes_small, self.real_A_small.shape[2], self.real_A_small.shape[3])
        self.person_mask_small = None if batch.small.person_mask is None else batch.small.person_mask.to(self.device)

    def run_stage_one(self) -> None:
        g1_input = self.generator_input(self.real_A_small, self.inside_small, self.opt.netG_mask_input)
        self.fake_B_small = self.run_network(self.sampling_network("G1"), g1_input)

    def run_stage_two(self) -> None:
        """G2 on G1's output upsampled to full size (or on the real input with only its box replaced by it)."""
        self.stage1_fake = F.interpolate(self.fake_B_small.detach(), size=self.real_A.shape[2:], mode="bilinear",
                                         align_corners=False)
        self.stage2_input = (composite(self.real_A, self.stage1_fake, self.inside)
                             if self.opt.stage_2_composite_input else self.stage1_fake)
        out = self.run_network(self.sampling_network("G2"),
                               self.generator_input(self.stage2_input, self.inside, self.opt.netG2_mask_input))
        self.fake_B, self.diff_B = out if self.opt.unet_diff_map else (out, None)
        self.fake_B_display = composite(self.real_B, self.fake_B, self.inside).detach()
        self.visuals_pending = False

    def forward(self) -> None:
        """The full G1 -> G2 path (stage-2 training, validation, test). G1 never gets a gradient here."""
        with torch.no_grad():
            self.run_stage_one()
        self.run_stage_two()

    def stage_one_batch(self) -> StageBatch:
        self.run_stage_one()
        self.visuals_pending = True
        return StageBatch(condition=self.real_A_small, real=self.real_B_small, fake=self.fake_B_small,
                          boxes=self.boxes_small, inside=self.inside_small, person_mask=self.person_mask_small)

    def stage_two_batch(self) -> StageBatch:
        self.forward()
        return StageBatch(condition=self.stage2_input, real=self.real_B, fake=self.fake_B, boxes=self.boxes,
                          inside=self.inside, person_mask=self.person_mask)

    def get_current_visuals(self) -> OrderedDict[str, torch.Tensor]:
        if self.visuals_pending:
            # Stage 1 trains G1 alone; show what the full path makes of its output, without touching the
            # training randomness or G2's BatchNorm statistics.
            devices = [self.device] if self.device.type == "cuda" else []
            with torch.no_grad(), torch.random.fork_rng(devices=devices), preserved_buffers(self):
                self.run_stage_two()
        return super().get_current_visuals()
