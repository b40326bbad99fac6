"""Discriminators: image PatchGAN / pixel D and the person D with SPP, conv or GAP head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .init import conv_bias, get_norm_layer, init_weights

IMAGE_D_NAMES = ("basic", "n_layers", "pixel")
PERSON_D_NAMES = ("spp", "spp_128", "conv", "gap")
SPP_LEVELS = {"spp": (4, 2, 1), "spp_128": (2, 1)}

# The person-D stack maps an H x W crop to (H//2 - 6) x (W//2 - 6); 14 px is the smallest side giving >= 1.
PERSON_D_MIN_SIDE = 14


class NLayerDiscriminator(nn.Module):
    """PatchGAN: conv 4/2/1 + LReLU, (n_layers - 1) x [conv 4/2/1, norm, LReLU], conv 4/1/1, norm, LReLU,
    conv 4/1/1 -> 1. Width at layer k is ndf * min(2**k, 8). 256 px in -> 30 x 30 logits when n_layers = 3."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1 (got {n_layers})")
        bias = conv_bias(norm)
        norm_layer = get_norm_layer(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = ndf
        for k in range(1, n_layers + 1):
            stride = 2 if k < n_layers else 1  # the last widening conv keeps the resolution
            new_width = ndf * min(2**k, 8)
            layers += [nn.Conv2d(width, new_width, 4, stride=stride, padding=1, bias=bias),
                       norm_layer(new_width), nn.LeakyReLU(0.2)]
            width = new_width
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: per-pixel logits."""

    def __init__(self, input_nc: int, ndf: int = 64, norm: str = "batch") -> None:
        super().__init__()
        bias = conv_bias(norm)
        self.model = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias), get_norm_layer(norm)(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def pad_to_min_side(x: torch.Tensor, min_side: int = PERSON_D_MIN_SIDE) -> torch.Tensor:
    """Replicate-pad a crop (centred) so both sides are >= ``min_side``; larger crops are returned as is.

    Replicate (not zero) padding adds no artificial edge, so a tiny crop is judged on its own colours.
    """
    pad_h = max(0, min_side - x.shape[-2])
    pad_w = max(0, min_side - x.shape[-1])
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), mode="replicate")


class PersonDiscriminator(nn.Module):
    """Person D on a box crop of any size. ``forward`` returns ``(output, features)``.

    Stack: conv1 4/2/1 + LReLU; conv2-4 4/1/1 + norm + LReLU; conv5 4/1/0 -> 1 channel (no bias with BN).
    Heads: ``spp`` adaptive max pooling to 4x4, 2x2, 1x1 -> (N, 21); ``spp_128`` 2x2, 1x1 -> (N, 5);
    ``conv`` the (N, 1, h', w') map; ``gap`` conv4 (no norm/act, no conv5) -> global average -> GELU ->
    Linear(ndf*8, 1) -> (N, 1).
    Features (for EL_person): conv1-conv4 outputs before norm/activation, then the conv5 map (spp, spp_128,
    conv) or the pooled ndf*8 vector (gap).
    Crops with a side under 14 px are first replicate-padded to 14 px (see ``pad_to_min_side``) so that the
    map has at least 1 x 1 cells; a 3-D crop (C, h, w) is treated as a batch of one.
    """

    def __init__(self, head: str = "spp", input_nc: int = 3, ndf: int = 64, norm: str = "batch") -> None:
        super().__init__()
        if head not in PERSON_D_NAMES:
            raise ValueError(f"person D {head!r} is not supported; choose one of {', '.join(PERSON_D_NAMES)}")
        self.head = head
        bias = conv_bias(norm)
        norm_layer = get_norm_layer(norm)
        self.conv1 = nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1, bias=bias)
        self.conv2 = nn.Conv2d(ndf, ndf * 2, 4, stride=1, padding=1, bias=bias)
        self.conv3 = nn.Conv2d(ndf * 2, ndf * 4, 4, stride=1, padding=1, bias=bias)
        self.conv4 = nn.Conv2d(ndf * 4, ndf * 8, 4, stride=1, padding=1, bias=bias)
        self.norm2 = norm_layer(ndf * 2)
        self.norm3 = norm_layer(ndf * 4)
        self.act = nn.LeakyReLU(0.2)
        if head == "gap":
            self.fc = nn.Linear(ndf * 8, 1)
        else:
            self.norm4 = norm_layer(ndf * 8)
            self.conv5 = nn.Conv2d(ndf * 8, 1, 4, stride=1, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if x.dim() == 3:
            x = x.unsqueeze(0)
        x = pad_to_min_side(x)
        features = [self.conv1(x)]
        features.append(self.conv2(self.act(features[-1])))
        features.append(self.conv3(self.act(self.norm2(features[-1]))))
        features.append(self.conv4(self.act(self.norm3(features[-1]))))
        if self.head == "gap":
            pooled = features[-1].mean(dim=(2, 3))
            features.append(pooled)
            return self.fc(F.gelu(pooled)), features
        out = self.conv5(self.act(self.norm4(features[-1])))
        features.append(out)
        if self.head == "conv":
            return out, features
        return spatial_pyramid_max_pool(out, SPP_LEVELS[self.head]), features


def spatial_pyramid_max_pool(x: torch.Tensor, levels: tuple[int, ...]) -> torch.Tensor:
    """(N, C, h, w) -> (N, C * sum(l*l)): adaptive max pooling per level, flattened and concatenated.

    Adaptive pooling works for any map side >= 1, unlike the original fixed-kernel pooling
    (docs/differences_from_original.md#spp-pooling).
    """
    return torch.cat([F.adaptive_max_pool2d(x, level).flatten(1) for level in levels], dim=1)


def define_D_image(
    netD: str = "basic",
    input_nc: int = 6,
    ndf: int = 64,
    n_layers: int = 3,
    norm: str = "batch",
    init_type: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Image D: ``basic`` (= n_layers 3), ``n_layers`` or ``pixel``; input_nc 6 = conditional, 3 = not."""
    if netD == "basic":
        net: nn.Module = NLayerDiscriminator(input_nc, ndf, 3, norm)
    elif netD == "n_layers":
        net = NLayerDiscriminator(input_nc, ndf, n_layers, norm)
    elif netD == "pixel":
        net = PixelDiscriminator(input_nc, ndf, norm)
    else:
        extra = " (resnet18/densenet need torchvision, which this project does not use)" \
            if netD in ("resnet18", "densenet") else ""
        names = ", ".join(IMAGE_D_NAMES)
        raise ValueError(f"image D {netD!r} is not supported{extra}; choose one of {names}")
    return init_weights(net, init_type, init_gain)


def define_D_person(
    netD_person: str = "spp",
    input_nc: int = 3,
    ndf: int = 64,
    norm: str = "batch",
    init_type: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Person D: ``spp`` (21 logits), ``spp_128`` (5), ``conv`` (map) or ``gap`` (1).

    Its forward returns (output, features).
    """
    return init_weights(PersonDiscriminator(netD_person, input_nc, ndf, norm), init_type, init_gain)
