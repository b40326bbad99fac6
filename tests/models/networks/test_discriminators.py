"""Discriminators: exact parameter counts (the original's), output shapes, person D on every crop size."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.networks import (
    PERSON_D_MIN_SIDE,
    count_parameters,
    define_D_image,
    define_D_person,
    pad_to_min_side,
)


def _count_on_meta(factory, *args, **kwargs) -> int:
    with torch.device("meta"):
        return count_parameters(factory(*args, **kwargs))


@pytest.mark.parametrize(
    ("netD", "input_nc", "n_layers", "expected"),
    [("basic", 6, 3, 2_768_705), ("basic", 3, 3, 2_765_633), ("n_layers", 6, 2, 666_433),
     ("n_layers", 6, 3, 2_768_705)],
)
def test_image_d_parameter_counts_match_spec(netD: str, input_nc: int, n_layers: int, expected: int) -> None:
    assert _count_on_meta(define_D_image, netD, input_nc, 64, n_layers, "batch") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("spp", 2_765_568), ("spp_128", 2_765_568), ("conv", 2_765_568), ("gap", 2_756_865)],
)
def test_person_d_parameter_counts_match_spec(name: str, expected: int) -> None:
    assert _count_on_meta(define_D_person, name, 3, 64, "batch") == expected


def test_person_d_has_no_conv_bias_with_batch_norm() -> None:
    net = define_D_person("spp", ndf=4, norm="batch")
    assert all(m.bias is None for m in net.modules() if isinstance(m, nn.Conv2d))
    assert all(m.bias is not None for m in define_D_person("spp", ndf=4, norm="instance").modules()
               if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize(("netD", "n_layers", "size", "out"),
                         [("basic", 3, 256, 30), ("n_layers", 2, 128, 30), ("n_layers", 2, 256, 62),
                          ("pixel", 3, 20, 20)])
def test_image_d_output_shapes(netD: str, n_layers: int, size: int, out: int) -> None:
    net = define_D_image(netD, 6, ndf=8, n_layers=n_layers)  # the map size does not depend on ndf
    assert net(torch.zeros(2, 6, size, size)).shape == (2, 1, out, out)


def test_image_d_unsupported_names_are_explained() -> None:
    with pytest.raises(ValueError, match="torchvision.*basic, n_layers, pixel"):
        define_D_image("resnet18", 3)
    with pytest.raises(ValueError, match="basic, n_layers, pixel"):
        define_D_image("patch", 3)
    with pytest.raises(ValueError, match="spp, spp_128, conv, gap"):
        define_D_person("roi")


def _crop_sizes(max_side: int = 70, full_grid: int = 16) -> list[tuple[int, int]]:
    # Rows and columns are handled alike and independently, so: every h x w up to 16 px (all padded), every
    # side up to 70 as a square and against partners that straddle the 14-px minimum or where the original
    # fixed-kernel pooling crashed (crop sides 22 and 31).
    partners = (1, 13, 14, 22, 31, max_side)
    sizes = {(h, w) for h in range(1, full_grid + 1) for w in range(1, full_grid + 1)}
    sizes |= {(s, s) for s in range(1, max_side + 1)}
    sizes |= {(s, p) for s in range(1, max_side + 1) for p in partners}
    sizes |= {(p, s) for s, p in list(sizes)}
    return sorted(sizes)


@pytest.fixture
def single_thread():
    # ~1,000 tiny forwards: with other jobs on the 2 cores, intra-op threading makes them 5-50x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("single_thread")
@pytest.mark.parametrize(("name", "n_logits"), [("spp", 21), ("spp_128", 5)])
def test_spp_gives_fixed_logit_count_for_every_crop_size(name: str, n_logits: int) -> None:
    torch.manual_seed(0)
    net = define_D_person(name, ndf=2)  # train mode: BatchNorm must also cope with the smallest maps
    for h, w in _crop_sizes():
        with torch.no_grad():
            out, features = net(torch.rand(1, 3, h, w) * 2 - 1)
        assert out.shape == (1, n_logits), (h, w)
        assert torch.isfinite(out).all(), (h, w)
        assert len(features) == 5


@pytest.mark.parametrize("size", [(1, 1), (1, 40), (40, 1), (13, 14), (14, 13), (20, 31), (124, 46)])
def test_conv_and_gap_heads_on_any_crop(size: tuple[int, int]) -> None:
    h, w = size
    x = torch.rand(2, 3, h, w) * 2 - 1
    out, features = define_D_person("conv", ndf=4)(x)
    expected = (max(h, PERSON_D_MIN_SIDE) // 2 - 6, max(w, PERSON_D_MIN_SIDE) // 2 - 6)
    assert out.shape == (2, 1, *expected)
    assert features[-1] is out
    out, features = define_D_person("gap", ndf=4)(x)
    assert out.shape == (2, 1) and torch.isfinite(out).all()
    assert features[-1].shape == (2, 32)  # the pooled ndf*8 vector


def test_person_d_map_size_formula_above_minimum() -> None:
    net = define_D_person("conv", ndf=2)
    for h, w in [(14, 14), (32, 32), (124, 46), (33, 71)]:
        out, _ = net(torch.zeros(1, 3, h, w))
        assert out.shape[-2:] == (h // 2 - 6, w // 2 - 6)


def test_person_d_features_are_pre_norm_conv_outputs() -> None:
    torch.manual_seed(0)
    net = define_D_person("spp", ndf=4)
    x = torch.rand(1, 3, 40, 30) * 2 - 1
    out, features = net(x)
    assert [f.shape[1] for f in features] == [4, 8, 16, 32, 1]
    assert torch.equal(features[0], net.conv1(x))
    assert torch.equal(features[1], net.conv2(net.act(features[0])))
    assert out.shape == (1, 21)


def test_person_d_stacked_batch_and_unbatched_crop() -> None:
    net = define_D_person("spp", ndf=4).eval()
    crops = torch.rand(3, 3, 50, 24) * 2 - 1
    out, _ = net(crops)
    assert out.shape == (3, 21)
    single, _ = net(crops[1])  # a 3-D crop is a batch of one
    assert single.shape == (1, 21)
    assert torch.allclose(single, out[1:2], atol=1e-6)


def test_gap_head_follows_ndf() -> None:
    net = define_D_person("gap", ndf=32)
    assert net.fc.in_features == 256
    out, _ = net(torch.rand(3, 3, 32, 32))
    assert out.shape == (3, 1)


def test_pad_to_min_side_replicates_and_centres() -> None:
    x = torch.arange(2.0).view(1, 1, 1, 2)
    padded = pad_to_min_side(x, 4)
    assert padded.shape == (1, 1, 4, 4)
    assert torch.equal(padded[0, 0], torch.tensor([[0.0, 0, 1, 1]] * 4))
    big = torch.zeros(1, 3, 20, 20)
    assert pad_to_min_side(big) is big
