"""What psgan, progan and pix2pix share: box masks, person crops, composites and the D/G update step.

A *stage* is one generator with its discriminators, objectives and loss weights (psgan and pix2pix have one,
progan two). ``PersonGANModel.optimize_stage`` runs one training iteration of a stage:

- default order: one generator forward whose output feeds the image-D update, the person-D update and the
  G update (standard pix2pix practice, docs/differences_from_original.md#one-forward);
- ``--update_order faithful``: a fresh forward before each of the three updates, as the original did.

``step`` is the one place where backward, the gradient all-reduce of a torchrun run, unscaling (fp16), clipping
and the optimizer step happen; every network forward goes through ``run_network`` (autocast, fp32 outputs).

Person-D batching at batch > 1 (``--person_batching``):

- ``per_sample`` (default, exact): each crop is its own D call, as the original; with ``--norm batch`` each crop
  is normalised with its own statistics.
- ``grouped``: crops of equal size share one D call. Identical to per_sample (up to float rounding) with
  ``--norm instance`` or ``none``; with ``--norm batch`` the group shares BatchNorm statistics (different maths).
  Boxes rarely share a size, so it rarely groups at small batches.
- ``padded``: crops grey-padded (bottom/right) to the batch's largest box, one D call for all. Always
  approximate: D sees the padding and its pyramid pooling covers it; with ``--norm batch`` statistics are shared.
"""

from __future__ import annotations

import argparse
import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from data.batch import Batch
from data.boxes import box_masks
from models.base_model import BaseModel
from models.networks import (
    GANLoss,
    box_l1,
    clip_gradients_,
    discriminator_accuracy,
    feature_matching_loss,
    gradient_penalty,
    kl_to_standard_normal,
    mask_channel,
    masked_l1,
    mode_seeking_loss,
    r1_penalty,
    sample_posterior,
)
from models.networks.augment import augment, parse_policy
from util import distributed
from util.image_pool import ImagePool

PERSON_BATCHING = ("per_sample", "grouped", "padded")
# Suffix of the saved moving-average copy of a generator (``<prefix>_net_G_ema.pth``).
EMA_SUFFIX = "_ema"


def person_crops(images: torch.Tensor, boxes: torch.Tensor) -> list[torch.Tensor]:
    """Each sample's box region as a 1×C×h×w tensor (sizes differ between samples)."""
    return [images[i:i + 1, :, int(y1):int(y2), int(x1):int(x2)]
            for i, (x1, y1, x2, y2) in enumerate(boxes.tolist())]


def grouped_by_size(crops: list[torch.Tensor]) -> list[list[int]]:
    """Indices of the crops, grouped by crop size (first-seen order)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, crop in enumerate(crops):
        groups.setdefault(tuple(crop.shape[-2:]), []).append(i)
    return list(groups.values())


def pad_crops(crops: list[torch.Tensor]) -> torch.Tensor:
    """The crops grey-padded (0 in [-1, 1]) at the bottom and right to the largest height and width, stacked."""
    height = max(crop.shape[-2] for crop in crops)
    width = max(crop.shape[-1] for crop in crops)
    return torch.cat([F.pad(crop, (0, width - crop.shape[-1], 0, height - crop.shape[-2])) for crop in crops])


def split_prediction(prediction: tuple, index: int) -> tuple:
    """Sample ``index`` of a batched person-D output ``(logits, features)``, keeping a batch dimension of 1."""
    logits, features = prediction
    return logits[index:index + 1], [feature[index:index + 1] for feature in features]


def composite(real: torch.Tensor, fake: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """The anonymized image: ``real`` everywhere except the box, which comes from ``fake``."""
    return real * (1.0 - inside) + fake * inside


@dataclass
class Stage:
    """One generator with its discriminators, objectives and weights."""

    G: str
    D_image: str
    D_person: str | None
    conditional_image_D: bool
    gan_image: GANLoss
    gan_mode_image: str
    gan_person: GANLoss | None
    gan_mode_person: str
    lambda_L1: float
    lambda_image: float
    lambda_person: float
    L1_outside_only: bool
    image_pool: ImagePool
    person_pool: ImagePool
    # G's image-GAN term sees the fake with its gradient stopped outside the box (progan's composite input).
    image_grad_inside_only: bool = False
    pool_seed_offset: int = 0
    # The realism recipe (docs/realism_recipe.md); 0 = off, the thesis's behaviour.
    lambda_mode_seeking: float = 0.0
    mode_seeking_pool: int = 1
    r1_gamma: float = 0.0
    r1_gamma_person: float = 0.0
    # Weight of the L1 term inside the box relative to outside (1 = the thesis; L1_outside_only means 0).
    L1_box_weight: float = 1.0
    # The same for the box's background pixels (the batch's person masks); None = L1_box_weight for the whole box.
    L1_box_background_weight: float | None = None
    # The cVAE-GAN branch (psgan --lambda_vae_L1): the latent encoder's network name and the weights of the box's
    # reconstruction from the encoded code and of the KL term; None = off.
    encoder: str | None = None
    lambda_vae_L1: float = 0.0
    lambda_kl: float = 0.0
    discriminators: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.discriminators = [self.D_image] + ([self.D_person] if self.D_person else [])


@dataclass
class StageBatch:
    """One forward of a stage: the conditioning input, target, generated image and box geometry."""

    condition: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    boxes: torch.Tensor
    inside: torch.Tensor
    person_mask: torch.Tensor | None = None  # N×1×H×W, 1 on the target's people (only when the loss needs it)
    generator_input: torch.Tensor | None = None  # what G saw (the cVAE branch runs G again on it)

    def l1_weights(self, stage: Stage) -> torch.Tensor | None:
        """Per-pixel weights of the L1 term: 1 outside the box; inside it ``L1_box_weight``, or with
        ``L1_box_background_weight`` that weight on the box's background and ``L1_box_weight`` on its people.
        None means 1 everywhere (the thesis)."""
        if stage.L1_box_background_weight is None:
            return None if stage.L1_box_weight == 1.0 else 1.0 - (1.0 - stage.L1_box_weight) * self.inside
        if self.person_mask is None:
            raise ValueError("--L1_box_background_weight needs person masks in the batch (the training crops' "
                             "person_mask/ folder)")
        box_weight = stage.L1_box_weight * self.person_mask + stage.L1_box_background_weight * (1 - self.person_mask)
        return 1.0 - (1.0 - box_weight) * self.inside

    @property
    def composite(self) -> torch.Tensor:
        return composite(self.real, self.fake, self.inside)


def add_update_order_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--update_order", default="default", choices=("default", "faithful"),
                        help="default: one G forward per iteration shared by all updates; faithful: a fresh "
                             "forward before each of the D_image, D_person and G updates (the original)")


def add_person_batching_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--person_batching", default="per_sample", choices=PERSON_BATCHING,
                        help="batch > 1: per_sample = one person-D call per crop (exact, the original); grouped = "
                             "equal-size crops share a call (exact unless --norm batch); padded = crops padded to "
                             "a common size, one call (approximate, fastest)")
    parser.add_argument("--use_padding", dest="person_batching", action="store_const", const="padded",
                        help="the original's flag for padded person crops: the same as --person_batching padded")


class PersonGANModel(BaseModel):
    """Shared training machinery; subclasses build their stages and forward passes."""

    # Logged loss names (fixed by the original's loss_log.txt format).
    LOSS_NAMES_PERSON = ["G_image", "G_person", "G_L1", "D_image_real", "D_image_fake", "D_person_real",
                         "D_person_fake", "acc_D_image_real", "acc_D_image_fake", "acc_D_person_real",
                         "acc_D_person_fake"]
    LOSS_NAMES_IMAGE_ONLY = ["G_image", "G_L1", "D_image_real", "D_image_fake", "acc_D_image_real",
                             "acc_D_image_fake"]

    def make_pools(self, seed_offset: int) -> tuple[ImagePool, ImagePool]:
        """Image and person pools with their own seeded generators (saved with the training state)."""
        pools = []
        for k, size in enumerate((self.opt.pool_size_image, self.opt.pool_size_person)):
            # Each torchrun rank has its own pools and streams (rank 0's seed is the single-process one).
            generator = torch.Generator().manual_seed(distributed.rank_seed(self.opt.seed) * 1000
                                                      + seed_offset * 10 + k)
            pools.append(ImagePool(size, generator))
        return pools[0], pools[1]

    def make_stage(self, *, G: str, D_image: str, D_person: str | None, conditional_image_D: bool,
                   gan_mode_image: str, gan_mode_person: str, label_noise: float, lambda_L1: float,
                   lambda_image: float, lambda_person: float, L1_outside_only: bool, pool_seed_offset: int,
                   image_grad_inside_only: bool = False) -> Stage:
        """A stage with its GAN objectives and its own seeded pools (label noise on the image objective only)."""
        image_pool, person_pool = self.make_pools(pool_seed_offset)
        return Stage(
            G=G, D_image=D_image, D_person=D_person, conditional_image_D=conditional_image_D,
            gan_image=GANLoss(gan_mode_image, label_noise).to(self.device), gan_mode_image=gan_mode_image,
            gan_person=GANLoss(gan_mode_person, 0.0).to(self.device) if D_person else None,
            gan_mode_person=gan_mode_person, lambda_L1=lambda_L1, lambda_image=lambda_image,
            lambda_person=lambda_person, L1_outside_only=L1_outside_only, image_pool=image_pool,
            person_pool=person_pool, image_grad_inside_only=image_grad_inside_only,
            pool_seed_offset=pool_seed_offset,
            lambda_mode_seeking=getattr(self.opt, "lambda_mode_seeking", 0.0),
            mode_seeking_pool=getattr(self.opt, "mode_seeking_pool", 1),
            r1_gamma=getattr(self.opt, "r1_gamma", 0.0),
            r1_gamma_person=self.person_r1_gamma(),
            L1_box_weight=0.0 if L1_outside_only else getattr(self.opt, "L1_box_weight", 1.0),
            L1_box_background_weight=getattr(self.opt, "L1_box_background_weight", None))

    def person_r1_gamma(self) -> float:
        """The person discriminator's R1 weight: --r1_gamma_person, else --r1_gamma (both alike)."""
        person = getattr(self.opt, "r1_gamma_person", None)
        return getattr(self.opt, "r1_gamma", 0.0) if person is None else person

    def loss_names_for(self, stage: Stage) -> list[str]:
        names = self.LOSS_NAMES_PERSON if stage.D_person else self.LOSS_NAMES_IMAGE_ONLY
        return (names + (["G_mode_seeking"] if stage.lambda_mode_seeking > 0 else [])
                + (["G_vae_L1", "G_kl"] if stage.encoder else []))

    # -- moving average of the generators (--ema_decay) -----------------------------------------------------
    def build_ema(self, generator_names: list[str]) -> None:
        """Training with ``--ema_decay > 0``: a frozen copy ``<G>_ema`` of each generator, saved with the
        checkpoints and used for every sample (validation, test.py, anonymize.py)."""
        self.sampling = False
        if not self.isTrain or getattr(self.opt, "ema_decay", 0.0) <= 0:
            return
        for name in generator_names:
            setattr(self, f"net{name}{EMA_SUFFIX}", copy.deepcopy(self.network(name)).requires_grad_(False))
            self.model_names.append(name + EMA_SUFFIX)

    def update_ema(self, generator: str) -> None:
        """ema <- decay * ema + (1 - decay) * G for the weights; buffers (BatchNorm statistics) are copied."""
        name = generator + EMA_SUFFIX
        if name not in self.model_names:
            return
        decay = self.opt.ema_decay
        with torch.no_grad():
            ema, live = self.network(name), self.network(generator)
            for ema_param, param in zip(ema.parameters(), live.parameters(), strict=True):
                ema_param.lerp_(param, 1.0 - decay)
            for ema_buffer, buffer in zip(ema.buffers(), live.buffers(), strict=True):
                ema_buffer.copy_(buffer)

    def init_from_model_file(self, path: Path) -> None:
        """A shipped file holds what the run sampled with: it becomes both the live generators and their moving
        averages; the discriminators start fresh."""
        live = [name for name in self.inference_networks() if not name.endswith(EMA_SUFFIX)]
        self.load_model_file(path, live)
        for name in live:
            if name + EMA_SUFFIX in self.model_names:
                self.network(name + EMA_SUFFIX).load_state_dict(self.network(name).state_dict())
        print(f"[checkpoint] loaded the generators of {path}; the discriminators start fresh")

    def sampling_network(self, generator: str) -> str:
        """The generator to run: its moving average while sampling (``test()``), when the run keeps one."""
        ema = generator + EMA_SUFFIX
        return ema if getattr(self, "sampling", False) and ema in self.model_names else generator

    def test(self) -> None:
        self.sampling = True
        try:
            super().test()
        finally:
            self.sampling = False

    def checkpoint_network_name(self, prefix: str, name: str) -> str:
        """Testing a run trained with ``--ema_decay``: the generators load their saved moving average."""
        ema = name + EMA_SUFFIX
        if not self.isTrain and name in self.inference_networks() and self.network_path(prefix, ema).is_file():
            print(f"[checkpoint] {name}: using the moving average of its weights ({ema})")
            return ema
        return name

    def make_optimizer(self, names: list[str]) -> torch.optim.Optimizer:
        params = [p for name in names for p in self.network(name).parameters()]
        # The fused kernel updates all tensors at once; the default per-tensor loop is several times slower on CPU.
        return torch.optim.Adam(params, lr=self.opt.lr, betas=(self.opt.beta1, 0.999), fused=True)

    def generator_input(self, image: torch.Tensor, inside: torch.Tensor, use_mask: bool) -> torch.Tensor:
        return torch.cat([image, mask_channel(inside)], dim=1) if use_mask else image

    def set_full_size_input(self, batch: Batch) -> None:
        """The full-size input, target, boxes and painted region every model keeps (what composites and val
        use)."""
        self.real_A = batch.A.to(self.device, non_blocking=True)  # overlaps a pinned-memory copy
        self.real_B = batch.B.to(self.device, non_blocking=True)
        self.boxes = batch.boxes.to(self.device)
        # What G paints: each box, or the person's shape where the batch has a hole (data.holes).
        self.inside = (box_masks(self.boxes, self.real_A.shape[2], self.real_A.shape[3]) if batch.hole is None
                       else batch.hole.to(self.device))
        self.person_mask = None if batch.person_mask is None else batch.person_mask.to(self.device)
        self.image_paths = list(batch.paths)

    # -- the stage being trained --------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        """Every training stage (their pools are saved with the training state); [] when testing."""
        return []

    def active_stage(self) -> tuple[Stage, Callable[[], StageBatch]]:
        """The stage of the current training step and the forward that produces its batches."""
        raise NotImplementedError

    def current_discriminator_losses(self) -> dict[str, float]:
        """D losses and accuracies of the active stage on the current input, no update (the val5 log)."""
        stage, forward = self.active_stage()
        with torch.no_grad():
            batch = forward()
        return self.discriminator_losses(stage, batch)

    def training_state(self) -> dict:
        state = super().training_state()
        state["pools"] = self.pool_states()
        return state

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        self.load_pool_states(state["pools"])

    def pool_states(self) -> list:
        return [[s.image_pool.state_dict(), s.person_pool.state_dict()] for s in self.stages()]

    def load_pool_states(self, states: list) -> None:
        for stage, (image_pool, person_pool) in zip(self.stages(), states, strict=True):
            stage.image_pool.load_state_dict(image_pool)
            stage.person_pool.load_state_dict(person_pool)

    def rank_training_state(self) -> dict:
        return {"pools": self.pool_states()}

    def load_rank_training_state(self, state: dict | None) -> None:
        if state is not None:
            self.load_pool_states(state["pools"])
            return
        for stage in self.stages():  # a rank the saved run did not have: fresh pools of its own
            stage.image_pool, stage.person_pool = self.make_pools(stage.pool_seed_offset)

    def validation_loss(self) -> torch.Tensor:
        """Mean absolute error inside the box at full size (the fallback validation score without Inception)."""
        return box_l1(self.fake_B, self.real_B, self.inside)

    # -- one iteration ------------------------------------------------------------------------------------
    def optimize_stage(self, stage: Stage, forward: Callable[[], StageBatch], update_generator: bool = True,
                       person_disc_steps: int = 1, generator_steps: int = 1) -> StageBatch:
        """D_image step, person-D step(s), G step(s). Returns the batch of the last forward."""
        faithful = self.opt.update_order == "faithful"
        batch = forward()
        self.update_image_discriminator(stage, batch)
        for _ in range(person_disc_steps if stage.D_person else 0):
            if faithful:
                batch = forward()
            self.update_person_discriminator(stage, batch)
        for k in range(generator_steps):
            if faithful or k > 0:
                batch = forward()  # a further G step needs a fresh output: the last one's graph is spent
            # Mode seeking compares this output with one from fresh noise on the same input.
            other = forward().fake if stage.lambda_mode_seeking > 0 else None
            self.update_generator(stage, batch, apply_step=update_generator, other_fake=other)
            if update_generator:
                self.update_ema(stage.G)
        self.synchronise_buffers()
        return batch

    def step(self, optimizer_name: str, net_names: list[str], loss: torch.Tensor, apply_step: bool = True) -> None:
        """zero_grad, backward, gradient average over the ranks, [unscale], element-wise clipping, Adam step."""
        optimizer = self.optimizers[optimizer_name]
        scaler = self.scalers.get(optimizer_name)
        optimizer.zero_grad(set_to_none=True)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        # Averaged before unscaling: an overflow on any rank reaches all, so all skip the step together.
        distributed.all_reduce_gradients(p for name in net_names for p in self.network(name).parameters())
        if scaler is not None:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        for name in net_names:
            clip_gradients_(self.network(name).parameters(), self.opt.clip_value)
        if apply_step and scaler is not None:
            scaler.step(optimizer)  # skipped when the unscaled gradients hold inf/nan
        elif apply_step:
            optimizer.step()
        if scaler is not None:
            scaler.update()

    def synchronise_buffers(self) -> None:
        """torchrun: rank 0's BatchNorm statistics to every rank after each iteration (DDP's broadcast_buffers
        semantics; with --sync_bn they already agree)."""
        if distributed.world_size() > 1:
            distributed.broadcast_tensors([b for name in self.model_names for b in self.network(name).buffers()])

    def discriminate(self, name: str, x: torch.Tensor) -> torch.Tensor | tuple:
        """A discriminator's forward; while training (grad enabled) its input first goes through --diff_augment,
        so D's and G's updates alike see augmented images (docs/realism_recipe.md). Logged validation losses
        (no grad) see the images as they are."""
        if self.d_augment_policy and torch.is_grad_enabled():
            x = augment(x, self.d_augment_policy)
        return self.run_network(name, x)

    @functools.cached_property
    def d_augment_policy(self) -> tuple[str, ...]:
        """--diff_augment's names, parsed once (the option itself was checked when parsed)."""
        return parse_policy(getattr(self.opt, "diff_augment", ""))

    # -- image discriminator ------------------------------------------------------------------------------
    def image_d_input(self, stage: Stage, batch: StageBatch, image: torch.Tensor) -> torch.Tensor:
        return torch.cat([batch.condition, image], dim=1) if stage.conditional_image_D else image

    def fake_for_image_d(self, stage: Stage, batch: StageBatch) -> torch.Tensor:
        fake = batch.composite if getattr(self.opt, "fake_B_display", False) else batch.fake
        if stage.image_grad_inside_only:
            # Same values, but G only gets the image-D gradient through its box pixels.
            fake = composite(fake.detach(), fake, batch.inside)
        return fake

    def image_discriminator_loss(self, stage: Stage, batch: StageBatch, use_pool: bool = True) -> torch.Tensor:
        """Image-D loss on the batch (sets the logged losses and accuracies)."""
        def netD(x: torch.Tensor) -> torch.Tensor:
            return self.discriminate(stage.D_image, x)

        fake_input = self.image_d_input(stage, batch, self.fake_for_image_d(stage, batch)).detach()
        real_input = self.image_d_input(stage, batch, batch.real)
        pred_fake = netD(stage.image_pool.query(fake_input) if use_pool else fake_input)
        pred_real = netD(real_input)
        self.loss_D_image_fake = stage.gan_image(pred_fake, False)
        self.loss_D_image_real = stage.gan_image(pred_real, True)
        loss = 0.5 * (self.loss_D_image_fake + self.loss_D_image_real)
        if stage.gan_mode_image == "wgangp" and torch.is_grad_enabled():
            loss = loss + gradient_penalty(netD, real_input, fake_input)
        if stage.r1_gamma > 0 and torch.is_grad_enabled():
            loss = loss + r1_penalty(netD, real_input, stage.r1_gamma)
        self.acc_D_image_fake = discriminator_accuracy(pred_fake, False, stage.gan_mode_image)
        self.acc_D_image_real = discriminator_accuracy(pred_real, True, stage.gan_mode_image)
        return loss

    def update_image_discriminator(self, stage: Stage, batch: StageBatch) -> None:
        self.set_requires_grad([self.network(stage.D_image)], True)
        self.step(stage.D_image, [stage.D_image], self.image_discriminator_loss(stage, batch))

    # -- person discriminator -----------------------------------------------------------------------------
    def person_predictions(self, name: str, crops: list[torch.Tensor]) -> list[tuple]:
        """(logits, features) for each crop, batched per ``--person_batching`` (see the module docstring)."""
        mode = getattr(self.opt, "person_batching", "per_sample")
        if mode == "per_sample" or len(crops) == 1:
            return [self.discriminate(name, crop) for crop in crops]
        if mode == "padded":
            batched = self.discriminate(name, pad_crops(crops))
            return [split_prediction(batched, i) for i in range(len(crops))]
        predictions: list[tuple | None] = [None] * len(crops)
        for group in grouped_by_size(crops):
            batched = self.discriminate(name, torch.cat([crops[i] for i in group]))
            for k, i in enumerate(group):
                predictions[i] = split_prediction(batched, k)
        return predictions

    def person_gan_loss(self, stage: Stage, predictions: list[tuple], target_is_real: bool) -> torch.Tensor:
        return torch.stack([stage.gan_person(logits, target_is_real) for logits, _ in predictions]).mean()

    def person_accuracy(self, stage: Stage, predictions: list[tuple], target_is_real: bool) -> float:
        return sum(discriminator_accuracy(logits, target_is_real, stage.gan_mode_person)
                   for logits, _ in predictions) / len(predictions)

    def person_discriminator_loss(self, stage: Stage, batch: StageBatch, use_pool: bool = True) -> torch.Tensor:
        """Person-D loss over the batch's person crops (sets the logged losses and accuracies)."""
        name = stage.D_person
        fake_crops = [crop.detach() for crop in person_crops(batch.fake, batch.boxes)]
        real_crops = person_crops(batch.real, batch.boxes)
        pred_fake = self.person_predictions(name, stage.person_pool.query(fake_crops) if use_pool else fake_crops)
        pred_real = self.person_predictions(name, real_crops)
        self.loss_D_person_fake = self.person_gan_loss(stage, pred_fake, False)
        self.loss_D_person_real = self.person_gan_loss(stage, pred_real, True)
        loss = 0.5 * (self.loss_D_person_fake + self.loss_D_person_real)
        if stage.gan_mode_person == "wgangp" and torch.is_grad_enabled():
            penalties = [gradient_penalty(lambda x: self.discriminate(name, x)[0], real, fake)
                         for real, fake in zip(real_crops, fake_crops, strict=True)]
            loss = loss + torch.stack(penalties).mean()
        if stage.r1_gamma_person > 0 and torch.is_grad_enabled():
            penalties = [r1_penalty(lambda x: self.discriminate(name, x), real, stage.r1_gamma_person)
                         for real in real_crops]
            loss = loss + torch.stack(penalties).mean()
        self.acc_D_person_fake = self.person_accuracy(stage, pred_fake, False)
        self.acc_D_person_real = self.person_accuracy(stage, pred_real, True)
        return loss

    def update_person_discriminator(self, stage: Stage, batch: StageBatch) -> None:
        self.set_requires_grad([self.network(stage.D_person)], True)
        self.step(stage.D_person, [stage.D_person], self.person_discriminator_loss(stage, batch))

    def discriminator_losses(self, stage: Stage, batch: StageBatch) -> dict[str, float]:
        """The D losses and accuracies of a batch without any update or pool (for the val5 log)."""
        with torch.no_grad():
            self.image_discriminator_loss(stage, batch, use_pool=False)
            if stage.D_person:
                self.person_discriminator_loss(stage, batch, use_pool=False)
        return {name: value for name, value in self.get_current_losses().items() if not name.startswith("G_")}

    # -- generator ----------------------------------------------------------------------------------------
    def generator_image_term(self, stage: Stage, batch: StageBatch) -> torch.Tensor:
        fake_input = self.image_d_input(stage, batch, self.fake_for_image_d(stage, batch))
        pred_fake = self.discriminate(stage.D_image, fake_input)
        if getattr(self.opt, "EL_image", False):
            with torch.no_grad():
                pred_real = self.run_network(stage.D_image, self.image_d_input(stage, batch, batch.real))
            return F.mse_loss(pred_fake, pred_real)
        return stage.gan_image(pred_fake, True)

    def generator_person_term(self, stage: Stage, batch: StageBatch) -> torch.Tensor:
        pred_fake = self.person_predictions(stage.D_person, person_crops(batch.fake, batch.boxes))
        if getattr(self.opt, "EL_person", False):
            with torch.no_grad():
                pred_real = self.person_predictions(stage.D_person, person_crops(batch.real, batch.boxes))
            return torch.stack([feature_matching_loss(fake_feats, real_feats)
                                for (_, fake_feats), (_, real_feats) in zip(pred_fake, pred_real, strict=True)
                                ]).mean()
        return self.person_gan_loss(stage, pred_fake, True)

    def update_generator(self, stage: Stage, batch: StageBatch, apply_step: bool = True,
                         other_fake: torch.Tensor | None = None) -> None:
        """G step on the batch; ``other_fake`` (same input, other noise) feeds the mode-seeking term."""
        self.set_requires_grad([self.network(name) for name in stage.discriminators], False)
        self.loss_G_image = stage.lambda_image * self.generator_image_term(stage, batch)
        self.loss_G_L1 = stage.lambda_L1 * masked_l1(batch.fake, batch.real, batch.l1_weights(stage))
        loss = self.loss_G_image + self.loss_G_L1
        if stage.D_person:
            self.loss_G_person = stage.lambda_person * self.generator_person_term(stage, batch)
            loss = loss + self.loss_G_person
        if other_fake is not None:
            self.loss_G_mode_seeking = stage.lambda_mode_seeking * mode_seeking_loss(
                batch.fake, other_fake, batch.inside, pool=stage.mode_seeking_pool)
            loss = loss + self.loss_G_mode_seeking
        if stage.encoder:
            loss = loss + self.latent_reconstruction_loss(stage, batch)
        self.step(stage.G, [stage.G] + ([stage.encoder] if stage.encoder else []), loss, apply_step=apply_step)
        self.set_requires_grad([self.network(name) for name in stage.discriminators], True)

    def latent_reconstruction_loss(self, stage: Stage, batch: StageBatch) -> torch.Tensor:
        """The cVAE-GAN branch: the encoder reads the real box (the rest zeroed, the box mask beside it), G paints
        the box again from the same input with a code drawn from the encoder's posterior, and the box is pulled
        toward the real one (L1 over the box's pixels) while KL keeps the posterior near the sampling prior."""
        if batch.generator_input is None:
            raise ValueError("the cVAE branch needs the generator's input in the stage batch")
        encoder_input = torch.cat([batch.real * batch.inside, mask_channel(batch.inside)], dim=1)
        mean, log_variance = self.run_network(stage.encoder, encoder_input)
        reconstruction = self.run_network(stage.G, batch.generator_input, sample_posterior(mean, log_variance))
        self.loss_G_vae_L1 = stage.lambda_vae_L1 * box_l1(reconstruction, batch.real, batch.inside)
        self.loss_G_kl = stage.lambda_kl * kl_to_standard_normal(mean, log_variance)
        return self.loss_G_vae_L1 + self.loss_G_kl

    def get_current_losses(self) -> dict[str, float]:
        losses = {}
        for name in self.loss_names:
            value = getattr(self, f"loss_{name}", None)
            if value is None:
                value = getattr(self, name, 0.0)
            losses[name] = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
        return losses
