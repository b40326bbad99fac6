"""The latent encoder of the cVAE-GAN branch, its posterior samples and the KL term."""

from __future__ import annotations

import pytest
import torch

from models.networks import LATENT_DIM, LatentEncoder, kl_to_standard_normal, sample_posterior


@pytest.mark.parametrize("size", [(64, 64), (48, 32), (16, 16)])
def test_encoder_gives_a_mean_and_log_variance_per_sample_for_any_size(size: tuple[int, int]) -> None:
    encoder = LatentEncoder(4, ndf=8)
    mean, log_variance = encoder(torch.randn(3, 4, *size))
    assert mean.shape == log_variance.shape == (3, LATENT_DIM)
    assert torch.isfinite(mean).all() and torch.isfinite(log_variance).all()


def test_encoder_refuses_inputs_smaller_than_its_four_downsamplings() -> None:
    with pytest.raises(ValueError, match="needs sides >= 16"):
        LatentEncoder(4, ndf=8)(torch.randn(1, 4, 15, 64))


def test_kl_is_zero_at_the_prior_and_grows_away_from_it() -> None:
    zeros = torch.zeros(5, LATENT_DIM)
    assert kl_to_standard_normal(zeros, zeros).item() == 0.0
    # Unit mean in every dimension, unit variance: 0.5 * 1 per dimension.
    assert kl_to_standard_normal(torch.ones(5, LATENT_DIM), zeros).item() == pytest.approx(0.5 * LATENT_DIM)
    # Zero mean, variance e^-2: 0.5 * (e^-2 - 1 + 2) per dimension.
    narrow = torch.full((5, LATENT_DIM), -2.0)
    expected = 0.5 * (torch.exp(torch.tensor(-2.0)).item() + 1.0) * LATENT_DIM
    assert kl_to_standard_normal(zeros, narrow).item() == pytest.approx(expected, rel=1e-6)


def test_posterior_samples_have_its_mean_and_spread_and_pass_gradients() -> None:
    torch.manual_seed(0)
    mean = torch.full((20000, LATENT_DIM), 1.5, requires_grad=True)
    log_variance = torch.full((20000, LATENT_DIM), 2 * torch.log(torch.tensor(0.5)).item(), requires_grad=True)
    codes = sample_posterior(mean, log_variance)
    assert codes.mean().item() == pytest.approx(1.5, abs=0.01)
    assert codes.std().item() == pytest.approx(0.5, rel=0.02)
    codes.sum().backward()
    assert mean.grad is not None and log_variance.grad is not None
    assert log_variance.grad.abs().sum().item() > 0
