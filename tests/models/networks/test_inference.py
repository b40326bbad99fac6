"""Prepacked convolutions: same results, same parameters and names, per-sample outputs independent of the batch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.networks import define_G
from models.networks.inference import PrepackedConv, packing_available, prepack_convolutions_

pytestmark = pytest.mark.skipif(not packing_available(), reason="this torch build has no oneDNN (mkldnn)")


@pytest.fixture(autouse=True)
def one_thread():
    """The packed path runs with one intra-op thread only; these tests exercise it whatever the machine has."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "conv_transpose"])
@pytest.mark.parametrize("bias", [False, True])
def test_prepacked_convolution_equals_the_plain_one_sample_by_sample(transposed, bias):
    torch.manual_seed(0)
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    conv = cls(16, 8, kernel_size=4, stride=2, padding=1, bias=bias)
    packed = PrepackedConv(conv)
    x = torch.randn(3, 16, 8, 8)
    with torch.no_grad():
        expected, out = conv(x), packed(x)
        alone = packed(x[1:2])
    assert out.shape == expected.shape
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.equal(alone[0], out[1])  # a sample's output does not depend on the rest of the batch


def test_prepacking_keeps_parameters_names_and_follows_new_weights():
    torch.manual_seed(0)
    net = define_G("unet_64", input_nc=3, output_nc=3, ngf=8, mask_input=True).eval()
    keys = list(net.state_dict())
    convs = sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in net.modules())
    x = torch.randn(2, 4, 64, 64)
    with torch.no_grad():
        before = net(x)
    assert prepack_convolutions_(net) == convs
    assert list(net.state_dict()) == keys and not any(isinstance(m, nn.Conv2d) for m in net.modules())
    with torch.no_grad():
        assert torch.allclose(net(x), before, atol=1e-5)
        # Weights loaded after packing (a checkpoint) are used, not the stale packed copy.
        other = define_G("unet_64", input_nc=3, output_nc=3, ngf=8, mask_input=True).eval()
        for p in other.parameters():
            p.mul_(1.5)
        net.load_state_dict(other.state_dict())
        assert torch.allclose(net(x), other(x), atol=1e-5)


def test_prepacked_convolution_falls_back_where_packing_cannot_apply():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 4, 3, padding=1)
    packed = PrepackedConv(conv)
    x = torch.randn(1, 4, 6, 6)
    out = packed(x)  # gradients enabled: the plain convolution, which autograd can differentiate
    out.sum().backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert packed(x).dtype == torch.bfloat16  # autocast: the plain (autocast) convolution
    with pytest.raises(ValueError, match="zero padding"):
        PrepackedConv(nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))


def test_prepacked_convolution_runs_the_plain_one_with_more_threads(monkeypatch):
    """With 2 intra-op threads the prepacked operators are slower than the plain convolution (module docstring):
    the packed module must then not call them, and still give the same output."""
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 4, 3, padding=1)
    packed = PrepackedConv(conv)
    x = torch.randn(1, 4, 6, 6)
    with torch.no_grad():
        assert packed._applies(x)
        expected = conv(x)
        torch.set_num_threads(2)
        assert not packed._applies(x)

        def fail(*args, **kwargs):
            raise AssertionError("the prepacked operator ran with 2 threads")

        monkeypatch.setattr(packed, "_pack", fail)
        assert torch.allclose(packed(x), expected, atol=1e-6)
