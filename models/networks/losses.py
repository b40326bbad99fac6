"""GAN objectives, gradient penalty, D accuracy, feature matching, L1, gradient clipping."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

GAN_MODES = ("vanilla", "lsgan", "wgangp")


class GANLoss(nn.Module):
    """``loss(prediction, target_is_real)`` for ``vanilla`` (BCE on logits), ``lsgan`` (MSE) or ``wgangp``.

    Targets are 1 (real) / 0 (fake), broadcast to the prediction. ``label_noise`` adds uniform
    [-label_noise, label_noise] noise to each target element, for lsgan only (as the original); it applies to
    G's targets too, since G calls the same loss. ``wgangp`` is -mean(pred) for real and +mean(pred) for fake.
    """

    def __init__(self, mode: str, label_noise: float = 0.0) -> None:
        super().__init__()
        if mode not in GAN_MODES:
            raise ValueError(f"GAN mode {mode!r} is not supported; choose one of {', '.join(GAN_MODES)}")
        if label_noise < 0:
            raise ValueError(f"label_noise must be >= 0 (got {label_noise})")
        self.mode = mode
        self.label_noise = label_noise

    def target(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
        if self.mode == "lsgan" and self.label_noise > 0:
            target = target + (torch.rand_like(prediction) * 2 - 1) * self.label_noise
        return target

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        if self.mode == "wgangp":
            return -prediction.mean() if target_is_real else prediction.mean()
        target = self.target(prediction, target_is_real)
        if self.mode == "vanilla":
            return F.binary_cross_entropy_with_logits(prediction, target)
        return F.mse_loss(prediction, target)


def _scores(netD: Callable[[torch.Tensor], torch.Tensor | tuple], x: torch.Tensor) -> torch.Tensor:
    out = netD(x)
    return out[0] if isinstance(out, tuple) else out  # person Ds return (output, features)


def gradient_penalty(
    netD: Callable[[torch.Tensor], torch.Tensor | tuple],
    real: torch.Tensor,
    fake: torch.Tensor,
    lambda_gp: float = 10.0,
    constant: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP: lambda_gp * mean over samples of (||grad_x D(x_hat)||_2 - constant)^2.

    x_hat = a * real + (1 - a) * fake with one a ~ U(0, 1) per sample. The graph is kept (create_graph), so
    the penalty can be added to D's loss and back-propagated into D's parameters.
    """
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = _scores(netD, x_hat)
    (grads,) = torch.autograd.grad(outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores),
                                   create_graph=True)
    # The small epsilon keeps the norm differentiable where the gradient is exactly zero.
    norms = (grads.flatten(1).pow(2).sum(dim=1) + 1e-12).sqrt()
    return lambda_gp * ((norms - constant) ** 2).mean()


def r1_penalty(netD: Callable[[torch.Tensor], torch.Tensor | tuple], real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): gamma / 2 * mean over samples of ||grad_x D(x)||^2 at the real inputs.

    Keeps D smooth on the data, the regulariser of the StyleGAN family; the graph is kept so it trains D."""
    real = real.detach().requires_grad_(True)
    scores = _scores(netD, real)
    (grads,) = torch.autograd.grad(outputs=scores.sum(), inputs=real, create_graph=True)
    return 0.5 * gamma * grads.flatten(1).pow(2).sum(dim=1).mean()


def mode_seeking_loss(fake: torch.Tensor, other_fake: torch.Tensor, inside: torch.Tensor, pool: int = 1,
                      eps: float = 1e-5) -> torch.Tensor:
    """Mode seeking (Mao et al. 2019): 1 / (mean |G(z1) - G(z2)| inside the box + eps).

    The two outputs differ only in the generator's internal noise, whose distance has a fixed expectation, so
    the ratio of the paper reduces to the image distance; minimising this pushes different seeds apart. With
    ``pool`` > 1 the outputs (and the box mask, as a coverage weight) are first averaged over pool x pool pixels:
    per-pixel distance is cheapest to grow with high-frequency noise, pooled distance only with different colours
    and shapes (docs/realism_recipe.md)."""
    if pool > 1:
        fake, other_fake, inside = (F.avg_pool2d(x, pool, ceil_mode=True) for x in (fake, other_fake, inside))
    area = (inside.sum() * fake.shape[1]).clamp(min=1.0)
    distance = ((fake - other_fake).abs() * inside).sum() / area
    return 1.0 / (distance + eps)


def discriminator_accuracy(prediction: torch.Tensor, target_is_real: bool, mode: str) -> float:
    """Fraction of prediction elements on the correct side of the threshold.

    Threshold 0.5 for lsgan (targets 0/1); 0 for vanilla logits (= sigmoid >= 0.5, fixing the original's 0.5
    on logits: docs/differences_from_original.md#discriminator-accuracy) and for wgangp scores. Not rounded: logging
    does that.
    """
    if mode not in GAN_MODES:
        raise ValueError(f"GAN mode {mode!r} is not supported; choose one of {', '.join(GAN_MODES)}")
    threshold = 0.5 if mode == "lsgan" else 0.0
    predicted_real = prediction.detach() >= threshold
    correct = predicted_real if target_is_real else ~predicted_real
    return correct.float().mean().item()


def feature_matching_loss(
    fake_features: Sequence[torch.Tensor], real_features: Sequence[torch.Tensor]
) -> torch.Tensor:
    """EL_person: sum over the feature list of MSE(fake feature, real feature)."""
    if len(fake_features) != len(real_features) or not fake_features:
        raise ValueError(f"feature lists differ in length or are empty ({len(fake_features)} vs "
                         f"{len(real_features)})")
    return sum((F.mse_loss(f, r) for f, r in zip(fake_features, real_features, strict=True)),
               start=torch.zeros((), device=fake_features[0].device, dtype=fake_features[0].dtype))


def masked_l1(
    fake: torch.Tensor, real: torch.Tensor, outside_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """mean |fake - real| over all pixels; with ``outside_mask`` (1 outside the box; or any per-pixel weights
    >= 0) both are multiplied by it first and the mean is still over all pixels, as the original (so masked-out
    box pixels count as zeros)."""
    if outside_mask is not None:
        fake = fake * outside_mask
        real = real * outside_mask
    return F.l1_loss(fake, real)


def box_l1(fake: torch.Tensor, real: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Mean |fake - real| over the pixels where ``inside`` (N×1×H×W, 1 in the box) is 1 and over the channels."""
    area = inside.sum().clamp(min=1.0) * fake.shape[1]
    return ((fake - real).abs() * inside).sum() / area


def clip_gradients_(parameters: Iterable[nn.Parameter] | nn.Parameter, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place (value, not norm, clipping)."""
    if clip_value <= 0:
        raise ValueError(f"clip_value must be > 0 (got {clip_value})")
    nn.utils.clip_grad_value_(parameters, clip_value)
