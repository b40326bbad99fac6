"""A template for a new model: copy this file to ``models/<name>_model.py`` and rename the class ``<Name>Model``.

It is a complete, working model (``--model template``): one generator trained with an L1 loss to rebuild the real
crop from the box-filled input, no discriminator — the smallest model that train.py, test.py, ``models.load_model``
and the per-epoch validation can run. What each method is for, and who calls it:

- ``modify_commandline_options(parser, is_train)``: the model's flags and defaults (the options call it when
  ``--model`` names the model; test.py inherits every flag added here from the run's train_opt.json);
- ``__init__(opt)``: build the networks as ``self.net<Name>`` and list them in ``model_names`` (saved as
  ``<prefix>_net_<Name>.pth``); ``loss_names`` are logged from ``self.loss_<name>``, ``visual_names`` shown and
  saved by test.py; optimizers only when training;
- ``set_input(batch)``: take a ``data.Batch`` (training, validation, test.py, load_model's users);
- ``forward()``: compute ``fake_B`` from the input (``test()`` runs it without gradients);
- ``optimize_parameters()``: one training iteration; ``step`` does backward, the gradient average under
  torchrun, loss scaling, ``--clip_value`` clipping and the optimizer step, as for every model;
- ``current_discriminator_losses()``: what the val5 log prints (nothing here: there is no discriminator).

A GAN builds stages of generator and discriminators on the same base (``models/person_gan.py``, as psgan does).
"""

from __future__ import annotations

import argparse

from data.batch import Batch
from models.networks import define_G, masked_l1
from util.cli import number

from .person_gan import PersonGANModel


class TemplateModel(PersonGANModel):
    """One generator and an L1 loss; visuals real_A, fake_B, real_B."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        if is_train:
            parser.add_argument("--lambda_L1", type=number(minimum=0), default=100.0, help="weight of the L1 loss")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.netG = define_G(opt.netG, opt.input_nc, opt.output_nc, opt.ngf, opt.norm, not opt.no_dropout,
                             opt.init_type, opt.init_gain, mask_input=opt.netG_mask_input,
                             noise=opt.netG_noise, upsample=opt.netG_upsample).to(self.device)
        self.model_names = ["G"]
        self.loss_names = ["G_L1"]
        self.visual_names = ["real_A", "fake_B", "real_B"]
        if self.isTrain:
            self.optimizers = {"G": self.make_optimizer(["G"])}

    def set_input(self, batch: Batch) -> None:
        self.set_full_size_input(batch)

    def forward(self) -> None:
        self.fake_B = self.run_network("G", self.generator_input(self.real_A, self.inside, self.opt.netG_mask_input))

    def optimize_parameters(self) -> None:
        self.forward()
        self.loss_G_L1 = self.opt.lambda_L1 * masked_l1(self.fake_B, self.real_B)
        self.step("G", ["G"], self.loss_G_L1)

    def current_discriminator_losses(self) -> dict[str, float]:
        return {}
