"""Generators: exact parameter counts (the original's), structure, noise, dropout, diff map, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.networks import (
    LATENT_DIM,
    ChannelNoise,
    UnetBlock,
    count_parameters,
    define_G,
    get_norm_layer,
    init_weights,
    mask_channel,
    set_noise_truncation,
)
from models.networks.generators import LatentChannels


def _count_on_meta(**kwargs) -> int:
    # Meta tensors have shapes but no storage: counting a 54M-parameter U-Net costs nothing.
    with torch.device("meta"):
        return count_parameters(define_G(**kwargs))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"netG": "unet_256"}, 54_413_955),
        ({"netG": "unet_256", "mask_input": True, "noise": "decoder"}, 59_952_771),
        ({"netG": "unet_128", "mask_input": True, "noise": "decoder"}, 46_188_163),
        ({"netG": "unet_256", "mask_input": True, "noise": "encoder_one"}, 54_423_171),
        ({"netG": "unet_256", "mask_input": True, "noise": "encoder_all"}, 54_800_003),
    ],
)
def test_unet_parameter_counts_match_spec(kwargs: dict, expected: int) -> None:
    assert _count_on_meta(ngf=64, norm="batch", **kwargs) == expected


def test_resnet_parameter_counts_match_pix2pix() -> None:
    assert _count_on_meta(netG="resnet_9blocks", ngf=64, norm="batch") == 11_383_427
    assert _count_on_meta(netG="resnet_9blocks", ngf=64, norm="instance") == 11_378_179


def _tiny_g(netG: str = "unet_64", **kwargs) -> nn.Module:
    return define_G(netG, ngf=8, **kwargs)


@pytest.mark.parametrize(("netG", "size"), [("unet_64", 64), ("unet_128", 128), ("unet_256", 256)])
def test_unet_output_shape_and_range(netG: str, size: int) -> None:
    torch.manual_seed(0)
    out = _tiny_g(netG, mask_input=True, noise="decoder")(torch.rand(2, 4, size, size) * 2 - 1)
    assert out.shape == (2, 3, size, size)
    assert out.abs().max() <= 1


def test_unet_256_skip_concatenation_sizes() -> None:
    # The original's U-Net at ngf 64: 1024 ch at 2, 4, 8, 16 px; 512 at 32; 256 at 64; 128 at 128. ngf 8: 1/8 of it.
    net = _tiny_g("unet_256")
    shapes = []
    for block in _blocks(net)[1:]:
        block.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    net(torch.zeros(1, 3, 256, 256))
    assert shapes == [(128, 2, 2), (128, 4, 4), (128, 8, 8), (128, 16, 16), (64, 32, 32), (32, 64, 64),
                      (16, 128, 128)]


def test_unet_rejects_sides_not_divisible() -> None:
    with pytest.raises(ValueError, match="divisible by 64"):
        _tiny_g()(torch.zeros(1, 3, 96, 96))


@pytest.mark.parametrize("noise", ["encoder_one", "encoder_all", "decoder", "latent"])
def test_noise_makes_output_stochastic_and_seedable(noise: str) -> None:
    net = _tiny_g(noise=noise).eval()  # eval: no dropout, so noise is the only randomness
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.manual_seed(1)
        a = net(x)
        b = net(x)
        torch.manual_seed(1)
        c = net(x)
    assert not torch.equal(a, b)
    assert torch.equal(a, c)


def test_no_noise_eval_is_deterministic() -> None:
    net = _tiny_g(noise="none").eval()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_channel_noise_is_spatially_constant_with_std_0_8() -> None:
    torch.manual_seed(0)
    out = ChannelNoise(8)(torch.zeros(4000, 2, 3, 5))
    noise = out[:, 2:]
    assert out.shape == (4000, 10, 3, 5)
    assert torch.equal(out[:, :2], torch.zeros(4000, 2, 3, 5))
    assert torch.equal(noise, noise[:, :, :1, :1].expand_as(noise))
    assert noise[:, :, 0, 0].std().item() == pytest.approx(0.8, rel=0.03)


def _samples(net: nn.Module, x: torch.Tensor, seeds: range) -> torch.Tensor:
    with torch.no_grad():
        return torch.stack([(torch.manual_seed(seed), net(x))[1] for seed in seeds])


@pytest.mark.parametrize("noise", ["encoder_all", "decoder", "latent"])
def test_truncation_shrinks_the_spread_between_seeds_and_zero_removes_it(noise: str) -> None:
    torch.manual_seed(0)
    net = _tiny_g(noise=noise).eval()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    untouched = _samples(net, x, range(6))
    spreads = {}
    for truncation in (1.0, 0.5, 0.0):
        set_noise_truncation(net, truncation)
        samples = _samples(net, x, range(6))
        spreads[truncation] = samples.std(dim=0).mean().item()
        if truncation == 1.0:  # the training spread: the very samples of a network never truncated
            assert torch.equal(samples, untouched)
    assert spreads[0.0] == 0.0  # every seed paints the same
    assert 0.0 < spreads[0.5] < 0.75 * spreads[1.0]


def test_truncation_counts_noise_inputs_and_refuses_negative_values() -> None:
    assert set_noise_truncation(_tiny_g(noise="decoder"), 0.5) == 5  # every decoder level but the outermost
    assert set_noise_truncation(_tiny_g(noise="encoder_one"), 0.5) == 1
    assert set_noise_truncation(_tiny_g(noise="latent"), 0.5) == 1  # one code for every level
    assert set_noise_truncation(_tiny_g(noise="none"), 0.5) == 0
    with pytest.raises(ValueError, match="must be >= 0"):
        set_noise_truncation(_tiny_g(noise="decoder"), -0.1)


def test_latent_code_given_is_used_at_every_decoder_level_and_checked() -> None:
    """A latent U-Net paints the same for the same code and differently for another; the code reaches the five
    decoder levels as spatially constant maps; a wrong shape, or a code for a U-Net without one, is refused."""
    torch.manual_seed(0)
    net = _tiny_g(noise="latent").eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    code = torch.randn(2, LATENT_DIM)
    seen = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: seen.append(out[:, -LATENT_DIM:]))
             for layer in net.modules() if isinstance(layer, LatentChannels)]
    with torch.no_grad():
        a, b, other = net(x, code), net(x, code), net(x, torch.randn(2, LATENT_DIM))
    for hook in hooks:
        hook.remove()
    assert torch.equal(a, b)
    assert (a - other).abs().mean().item() > 1e-3
    assert len(seen) == 3 * 5  # three calls, five decoder levels
    for maps in seen[:5]:
        torch.testing.assert_close(maps, code[:, :, None, None].expand_as(maps))
    with pytest.raises(ValueError, match="expected \\(2, 8\\)"):
        net(x, torch.randn(2, 4))
    with pytest.raises(ValueError, match="takes no latent code"):
        _tiny_g(noise="decoder")(x, code)


def test_latent_code_columns_start_with_unit_variance_preserving_weights() -> None:
    """So that a code moves G's features from the first step (at the general 0.02 it would be ignored)."""
    torch.manual_seed(0)
    projections = [block.decoder_noise[1] for block in _blocks(define_G("unet_64", ngf=32, noise="latent"))
                   if block.decoder_noise is not None]
    assert len(projections) == 5
    for projection in projections:
        code_columns = projection.weight[:, -LATENT_DIM:]
        feature_columns = projection.weight[:, :-LATENT_DIM]
        assert code_columns.std().item() == pytest.approx(LATENT_DIM ** -0.5, rel=0.1)
        assert feature_columns.std().item() == pytest.approx(0.02, rel=0.1)


def _blocks(net: nn.Module) -> list[UnetBlock]:
    return [m for m in net.modules() if isinstance(m, UnetBlock)]


def test_decoder_noise_injection_points_unet_256() -> None:
    with torch.device("meta"):
        net = define_G("unet_256", ngf=64, noise="decoder")
    projections = [b.decoder_noise[1] for b in _blocks(net) if b.decoder_noise is not None]
    # From the outermost inwards: 256 (64 px), 512 (32 px), 4 x 1024 (16..2 px), then the 512 bottleneck.
    assert [p.in_channels - p.out_channels for p in projections] == [128] * 6 + [256]
    assert [p.out_channels for p in projections] == [256, 512, 1024, 1024, 1024, 1024, 512]
    assert all(p.kernel_size == (1, 1) and p.bias is None for p in projections)
    assert _blocks(net)[0].decoder_noise is None  # outermost


def test_decoder_projection_has_bias_without_batch_norm() -> None:
    net = _tiny_g(noise="decoder", norm="instance")
    assert all(b.decoder_noise[1].bias is not None for b in _blocks(net) if b.decoder_noise is not None)


def test_bias_only_without_batch_norm_except_outermost_up_conv() -> None:
    net = _tiny_g(norm="batch")
    outermost_up = _blocks(net)[0].up[-1]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert outermost_up.bias is not None
    assert all(c.bias is None for c in convs if c is not outermost_up)
    assert all(c.bias is not None for c in _tiny_g(norm="none").modules() if isinstance(c, nn.Conv2d))


@pytest.mark.parametrize(("netG", "n_dropout"), [("unet_64", 1), ("unet_128", 2), ("unet_256", 3)])
def test_dropout_only_in_512_to_512_blocks(netG: str, n_dropout: int) -> None:
    with torch.device("meta"):
        net = define_G(netG, ngf=64, use_dropout=True)
        off = define_G(netG, ngf=64, use_dropout=False)
    blocks = [b for b in _blocks(net) if any(isinstance(m, nn.Dropout) for m in b.up)]
    assert len(blocks) == n_dropout
    for b in blocks:
        conv = b.down[1]
        assert conv.in_channels == conv.out_channels == 512 and b.submodule is not None
        assert isinstance(b.up[-1], nn.Dropout) and b.up[-1].p == 0.5
        assert isinstance(b.up[-2], nn.BatchNorm2d)  # dropout comes after the norm
    assert not any(isinstance(m, nn.Dropout) for m in off.modules())


def test_mask_channel_is_plus_one_outside_minus_one_inside() -> None:
    box = torch.zeros(1, 1, 4, 4)
    box[..., 1:3, 1:3] = 1
    m = mask_channel(box)
    assert torch.equal(m[..., 1:3, 1:3], -torch.ones(1, 1, 2, 2))
    assert m.sum().item() == 16 - 2 * 4


def test_diff_map_is_identity_at_init() -> None:
    torch.manual_seed(0)
    net = _tiny_g(mask_input=True, noise="decoder", diff_map=True)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    out, d = net(torch.cat([x, torch.ones(2, 1, 64, 64)], dim=1))
    assert torch.equal(d, torch.zeros_like(d))
    assert (out - x).abs().max().item() < 1e-5
    edge = torch.cat([torch.ones(1, 3, 64, 32), -torch.ones(1, 3, 64, 32)], dim=3)
    out, _ = net(torch.cat([edge, torch.ones(1, 1, 64, 64)], dim=1))
    assert torch.isfinite(out).all()
    out.sum().backward()  # clamped atanh keeps the graph finite too
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_unet_upsample_modes_keep_shapes_and_diff_map_identity(upsample: str) -> None:
    torch.manual_seed(0)
    net = _tiny_g(mask_input=True, noise="decoder", diff_map=True, upsample=upsample)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    out, d = net(torch.cat([x, torch.ones(2, 1, 64, 64)], dim=1))
    assert out.shape == (2, 3, 64, 64)
    assert torch.equal(d, torch.zeros_like(d))  # zero_init_output finds the last convolution in both modes
    transposed = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(transposed) == (6 if upsample == "transpose" else 0)


def _interior_spread_of_flat_input(upsample: str) -> float:
    """The spread, inside the border, of the outermost up-convolution's output for a spatially constant input."""
    torch.manual_seed(3)
    net = _tiny_g(norm="none", upsample=upsample)
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight)  # any weights: evenness must not depend on training
    out = _blocks(net)[0].up(torch.ones(1, 16, 8, 8))[..., 2:-2, 2:-2]
    return (out.amax(dim=(-2, -1)) - out.amin(dim=(-2, -1))).max().item()


def test_resize_upsampling_has_no_checkerboard_on_flat_input() -> None:
    # A transposed 4x4/2 convolution paints a flat input with a period-2 pattern (each output parity uses other
    # kernel taps); nearest resize + 3x3 convolution gives a flat output for any weights.
    assert _interior_spread_of_flat_input("transpose") > 0.5
    assert _interior_spread_of_flat_input("resize") < 1e-5


def test_resnet_generator_with_mask_input() -> None:
    net = define_G("resnet_6blocks", ngf=4, mask_input=True)
    assert net(torch.zeros(1, 4, 32, 32)).shape == (1, 3, 32, 32)
    with pytest.raises(ValueError, match="noise"):
        define_G("resnet_6blocks", ngf=4, noise="decoder")
    with pytest.raises(ValueError, match="resize"):
        define_G("resnet_6blocks", ngf=4, upsample="resize")


def test_define_g_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unet_256"):
        define_G("unet_512")
    with pytest.raises(ValueError, match="encoder_one"):
        define_G("unet_64", ngf=4, noise="everywhere")
    with pytest.raises(ValueError, match="transpose, resize"):
        define_G("unet_64", ngf=4, upsample="bilinear")


def test_norm_layers() -> None:
    bn = get_norm_layer("batch")(5)
    inorm = get_norm_layer("instance")(5)
    assert isinstance(bn, nn.BatchNorm2d) and bn.affine and bn.track_running_stats
    assert isinstance(inorm, nn.InstanceNorm2d) and not inorm.affine and not inorm.track_running_stats
    assert isinstance(get_norm_layer("none")(5), nn.Identity)
    with pytest.raises(ValueError):
        get_norm_layer("group")


@pytest.mark.parametrize("init_type", ["normal", "xavier", "kaiming", "orthogonal"])
def test_init_weights(init_type: str) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 64, 4), nn.BatchNorm2d(4096), nn.Linear(512, 256),
                        nn.ConvTranspose2d(8, 8, 3))
    init_weights(net, init_type, 0.02)
    conv, bn, linear, _ = net
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in (conv, bn, linear, net[3]))
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.002)
    assert bn.weight.std().item() == pytest.approx(0.02, rel=0.05)
    if init_type == "normal":
        assert conv.weight.std().item() == pytest.approx(0.02, rel=0.02)
        assert linear.weight.std().item() == pytest.approx(0.02, rel=0.02)
    elif init_type == "kaiming":
        assert conv.weight.std().item() == pytest.approx((2 / (64 * 16)) ** 0.5, rel=0.02)
    elif init_type == "xavier":
        assert linear.weight.std().item() == pytest.approx(0.02 * (2 / (512 + 256)) ** 0.5, rel=0.02)
    else:
        rows = linear.weight / 0.02
        assert torch.allclose(rows @ rows.T, torch.eye(256), atol=1e-4)
    with pytest.raises(ValueError):
        init_weights(net, "uniform")


def _tiny_inpaint(noise: str = "decoder") -> nn.Module:
    return define_G("inpaint", ngf=8, mask_input=True, silhouette_input=True, noise=noise)


def test_inpaint_generator_shapes_range_and_sides() -> None:
    net = _tiny_inpaint()
    out = net(torch.rand(2, 5, 64, 48) * 2 - 1)
    assert out.shape == (2, 3, 64, 48)
    assert out.abs().max().item() < 1.0  # tanh
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.zeros(1, 5, 62, 64))


def test_inpaint_generator_has_no_normalisation_so_training_and_sampling_agree() -> None:
    net = _tiny_inpaint(noise="none")
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm | nn.InstanceNorm2d) for m in net.modules())
    x = torch.rand(3, 5, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(net.train()(x), net.eval()(x))


def test_inpaint_generator_noise_is_seedable_and_truncatable() -> None:
    net = _tiny_inpaint().eval()
    x = torch.rand(1, 5, 32, 32) * 2 - 1
    samples = _samples(net, x, range(4))
    assert samples.std(dim=0).mean().item() > 1e-3  # seeds paint differently
    assert torch.equal(_samples(net, x, range(4)), samples)  # and the same seed the same
    assert set_noise_truncation(net, 0.0) == 3  # before the dilated blocks and before each upsampling
    assert _samples(net, x, range(4)).std(dim=0).max().item() == 0.0


def test_inpaint_generator_keeps_its_signal_scale_at_init() -> None:
    # Without normalisation, the residual blocks' 1/sqrt(2) and the fan-in init keep the features' spread (about
    # 1.9x over the five blocks, 0.5 at the encoder's end): an unscaled residual sum grows it about 11x, the
    # general 0.02-std init leaves the encoder's features at 0.003.
    torch.manual_seed(0)
    net = define_G("inpaint", ngf=16, mask_input=True)
    features = net.down2(net.down1(net.stem(torch.rand(4, 4, 64, 64) * 2 - 1)))
    ratio = (net.middle(features).std() / features.std()).item()
    assert 0.5 < ratio < 3.0
    assert 0.1 < features.std().item() < 2.0


def test_inpaint_generator_sees_the_whole_64_px_crop_from_the_box_centre() -> None:
    torch.manual_seed(0)
    net = _tiny_inpaint(noise="none")
    x = torch.zeros(1, 5, 64, 64, requires_grad=True)
    net(x)[0, :, 32, 32].sum().backward()
    reach = x.grad.abs().sum(dim=1)[0]
    assert all(reach[y, x_].item() > 0 for y, x_ in ((0, 0), (0, 63), (63, 0), (63, 63)))


def test_inpaint_generator_refuses_what_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="'none' or 'decoder'"):
        define_G("inpaint", ngf=4, noise="latent")
    with pytest.raises(ValueError, match="difference map"):
        define_G("inpaint", ngf=4, diff_map=True)
