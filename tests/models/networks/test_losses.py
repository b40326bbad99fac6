"""GAN losses, gradient penalty, accuracy, feature matching, masked L1, gradient clipping."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from models.networks import (
    GANLoss,
    clip_gradients_,
    define_D_image,
    define_D_person,
    discriminator_accuracy,
    feature_matching_loss,
    gradient_penalty,
    masked_l1,
)


def test_vanilla_is_bce_on_logits() -> None:
    loss = GANLoss("vanilla")
    assert loss(torch.zeros(1, 21), True).item() == pytest.approx(math.log(2))
    assert loss(torch.zeros(1, 21), False).item() == pytest.approx(math.log(2))
    assert loss(torch.full((3, 1, 4, 4), 2.0), True).item() == pytest.approx(math.log1p(math.exp(-2)))
    assert loss(torch.full((3,), 2.0), False).item() == pytest.approx(math.log1p(math.exp(2)))


def test_lsgan_is_mse_to_one_or_zero() -> None:
    loss = GANLoss("lsgan")
    pred = torch.tensor([[0.0, 0.5, 1.0, 2.0]])
    assert loss(pred, True).item() == pytest.approx((1 + 0.25 + 0 + 1) / 4)
    assert loss(pred, False).item() == pytest.approx((0 + 0.25 + 1 + 4) / 4)


def test_wgangp_is_signed_mean() -> None:
    loss = GANLoss("wgangp")
    pred = torch.tensor([1.0, 2.0, 6.0])
    assert loss(pred, True).item() == pytest.approx(-3.0)
    assert loss(pred, False).item() == pytest.approx(3.0)


def test_label_noise_is_uniform_per_element_for_lsgan_only() -> None:
    torch.manual_seed(0)
    pred = torch.zeros(100_000)
    real = GANLoss("lsgan", label_noise=0.1).target(pred, True)
    fake = GANLoss("lsgan", label_noise=0.1).target(pred, False)
    assert real.min() >= 0.9 and real.max() <= 1.1 and real.std() > 0.05
    assert fake.min() >= -0.1 and fake.max() <= 0.1
    assert real.mean().item() == pytest.approx(1.0, abs=0.002)
    assert fake.std().item() == pytest.approx(0.2 / math.sqrt(12), rel=0.02)  # U(-0.1, 0.1)
    assert torch.equal(GANLoss("vanilla", label_noise=0.1).target(pred, True), torch.ones(100_000))
    torch.manual_seed(3)
    a = GANLoss("lsgan", 0.2)(torch.zeros(8), True)
    torch.manual_seed(3)
    assert torch.equal(a, GANLoss("lsgan", 0.2)(torch.zeros(8), True))


def test_gan_loss_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="vanilla, lsgan, wgangp"):
        GANLoss("hinge")


def test_accuracy_thresholds() -> None:
    logits = torch.tensor([0.1, -0.1, 0.0, 0.4])
    assert discriminator_accuracy(logits, True, "vanilla") == pytest.approx(0.75)  # 0.1 and 0.0 count as real
    assert discriminator_accuracy(logits, False, "vanilla") == pytest.approx(0.25)
    assert discriminator_accuracy(logits, True, "lsgan") == pytest.approx(0.0)
    assert discriminator_accuracy(torch.tensor([0.5, 0.6, 0.49]), True, "lsgan") == pytest.approx(2 / 3)
    assert discriminator_accuracy(torch.tensor([3.0, -1.0]), True, "wgangp") == pytest.approx(0.5)


def test_gradient_penalty_is_positive_and_trains_d() -> None:
    torch.manual_seed(0)
    net = define_D_image("basic", 3, ndf=4)
    real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    penalty = gradient_penalty(net, real, fake, lambda_gp=10.0)
    assert penalty.dim() == 0 and penalty.item() > 0
    penalty.backward()
    # Every parameter but the last conv's bias (which cannot change dD/dx) gets a finite gradient.
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    assert missing == ["model.11.bias"]
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    assert net.model[0].weight.grad.abs().sum() > 0


def test_gradient_penalty_accepts_person_d_tuple_output() -> None:
    net = define_D_person("spp", ndf=2)
    penalty = gradient_penalty(net, torch.rand(1, 3, 40, 20), torch.rand(1, 3, 40, 20))
    assert penalty.item() > 0


def test_gradient_penalty_of_unit_slope_critic_is_zero() -> None:
    critic = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))  # ||grad|| = 1 everywhere
    assert gradient_penalty(critic, torch.rand(5, 4), torch.rand(5, 4)).item() == pytest.approx(0, abs=1e-6)


def test_feature_matching_is_sum_of_mse() -> None:
    fake = [torch.zeros(1, 2, 3, 3), torch.ones(1, 21)]
    real = [torch.full((1, 2, 3, 3), 2.0), torch.zeros(1, 21)]
    assert feature_matching_loss(fake, real).item() == pytest.approx(4.0 + 1.0)
    with pytest.raises(ValueError):
        feature_matching_loss(fake, real[:1])


def test_feature_matching_on_person_d_features_backpropagates() -> None:
    net = define_D_person("spp", ndf=2)
    fake = torch.rand(1, 3, 36, 18, requires_grad=True)
    _, fake_features = net(fake)
    _, real_features = net(torch.rand(1, 3, 36, 18))
    feature_matching_loss(fake_features, real_features).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


def test_masked_l1_averages_over_all_pixels() -> None:
    fake = torch.ones(1, 3, 4, 4)
    real = torch.zeros(1, 3, 4, 4)
    assert masked_l1(fake, real).item() == pytest.approx(1.0)
    outside = torch.ones(1, 1, 4, 4)
    outside[..., :2, :] = 0  # half the image is the box
    assert masked_l1(fake, real, outside).item() == pytest.approx(0.5)


def test_clip_gradients_clamps_each_element_in_place() -> None:
    a = nn.Parameter(torch.zeros(3))
    b = nn.Parameter(torch.zeros(2))
    a.grad = torch.tensor([-5.0, 0.2, 7.0])
    grad_storage = a.grad
    clip_gradients_([a, b], 0.5)  # b has no gradient: skipped
    assert torch.equal(a.grad, torch.tensor([-0.5, 0.2, 0.5]))
    assert a.grad is grad_storage
    assert b.grad is None
    with pytest.raises(ValueError):
        clip_gradients_([a], 0)
