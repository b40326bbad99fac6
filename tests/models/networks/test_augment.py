"""--diff_augment's operations: what each does to an image, and that gradients pass through them."""

from __future__ import annotations

import pytest
import torch

from models.networks.augment import augment, colour, cutout, parse_policy, translation


def numbered(n: int, channels: int = 3, side: int = 8) -> torch.Tensor:
    """Every pixel value distinct and non-zero, so a shifted image can be matched to its source."""
    return torch.arange(1.0, n * channels * side * side + 1).view(n, channels, side, side)


def test_translation_shifts_whole_pixels_within_an_eighth_and_fills_with_zeros():
    torch.manual_seed(0)
    x = numbered(64, side=16)
    shifted = translation(x)
    for source, out in zip(x, shifted, strict=True):
        kept = out[0] != 0
        # Find the shift: the value at any kept pixel names its source pixel.
        r, c = map(int, kept.nonzero()[0])
        index = int(out[0, r, c].item()) - int(source[0, 0, 0].item())
        dy, dx = r - index // 16, c - index % 16
        assert abs(dy) <= 2 and abs(dx) <= 2  # 16 px / 8
        expected = torch.zeros_like(source)
        ys, xs = slice(max(dy, 0), 16 + min(dy, 0)), slice(max(dx, 0), 16 + min(dx, 0))
        expected[:, ys, xs] = source[:, max(-dy, 0):16 - max(dy, 0), max(-dx, 0):16 - max(dx, 0)]
        assert torch.equal(out, expected)
    assert (shifted == 0).any() and (shifted != 0).any()


def test_cutout_zeroes_one_square_of_half_the_side_at_most_a_quarter_of_the_image():
    torch.manual_seed(1)
    holes = cutout(torch.ones(200, 3, 16, 16)) == 0
    assert torch.equal(holes[:, 0], holes[:, 1])  # the same square on every channel
    fraction = holes.float().mean(dim=(1, 2, 3))
    assert fraction.max().item() == 0.25 and fraction.min().item() > 0
    assert (fraction < 0.25).any()  # squares reach past the border
    rows, cols = holes[:, 0].any(dim=2), holes[:, 0].any(dim=1)
    assert (rows.sum(dim=1) <= 8).all() and (cols.sum(dim=1) <= 8).all()


def test_colour_acts_on_each_rgb_group_with_one_draw_per_sample():
    torch.manual_seed(2)
    rgb = torch.rand(5, 3, 8, 8) * 2 - 1
    out = colour(torch.cat([rgb, rgb], dim=1))
    assert torch.equal(out[:, :3], out[:, 3:])  # a conditional D's two halves change alike
    assert not torch.allclose(out[:, :3], rgb)
    flat = torch.full((4, 3, 2, 2), 0.2)
    assert out.shape == (5, 6, 8, 8) and colour(flat).std(dim=(1, 2, 3)).max() < 1e-6  # flat grey stays flat


def test_augment_passes_gradients_and_names_a_bad_policy():
    x = torch.rand(2, 6, 16, 16, requires_grad=True)
    augment(x, parse_policy("translation, color,cutout")).sum().backward()
    assert x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="'blur'"):
        parse_policy("translation,blur")
    with pytest.raises(ValueError, match="4 channels"):
        augment(torch.zeros(1, 4, 8, 8), ("color",))
