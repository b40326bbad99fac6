"""The latent encoder of the cVAE-GAN branch (psgan ``--lambda_vae_L1``).

BicycleGAN (Zhu et al., "Toward Multimodal Image-to-Image Translation", NeurIPS 2017) trains a conditional
generator with a latent code in two ways at once; its cVAE-GAN half is this: an encoder E reads the real target and
gives a Gaussian posterior over the code, G reproduces the target from the input and a code drawn from it, and a
KL term keeps the posterior near N(0, I), from which codes are drawn when sampling. G then has a reason to make
its output depend on the code (the reconstruction needs it) and a supervised signal that teaches coherent
colour fills fast, without a pull toward the mean person: a random code paints a different, plausible stranger.
"""

from __future__ import annotations

import torch
from torch import nn

from .generators import LATENT_DIM

# Four stride-2 convolutions: inputs need sides of at least this many pixels.
ENCODER_MIN_SIDE = 16


class LatentEncoder(nn.Module):
    """4x4/2 convolutions with LeakyReLU (ndf, 2ndf, 4ndf, 4ndf channels), a global average, and two linear
    heads: the posterior's mean and log-variance, N x ``latent_dim`` each. Any input size of at least 16 px."""

    def __init__(self, input_nc: int, ndf: int = 32, latent_dim: int = LATENT_DIM) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = input_nc
        for mult in (1, 2, 4, 4):
            layers += [nn.Conv2d(channels, ndf * mult, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = ndf * mult
        self.features = nn.Sequential(*layers)
        self.mean = nn.Linear(channels, latent_dim)
        self.log_variance = nn.Linear(channels, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if min(x.shape[-2:]) < ENCODER_MIN_SIDE:
            raise ValueError(f"latent encoder input of {tuple(x.shape[-2:])} px; needs sides >= {ENCODER_MIN_SIDE}")
        pooled = self.features(x).mean(dim=(2, 3))
        return self.mean(pooled), self.log_variance(pooled)


def sample_posterior(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """A code from N(mean, exp(log_variance)) by the reparameterisation trick (gradients reach the encoder)."""
    return mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)


def kl_to_standard_normal(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_variance)) || N(0, I)), summed over the code's dimensions, averaged over the batch."""
    per_sample = 0.5 * (mean.pow(2) + log_variance.exp() - 1.0 - log_variance).sum(dim=1)
    return per_sample.mean()
