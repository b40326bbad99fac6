"""Normalisation layers, weight initialisation and parameter counting."""

from __future__ import annotations

import functools
from collections.abc import Callable

from torch import nn

NormFactory = Callable[[int], nn.Module]

NORM_TYPES = ("batch", "instance", "none")
INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")


def get_norm_layer(norm_type: str = "batch") -> NormFactory:
    """A factory ``channels -> norm module`` for ``batch`` | ``instance`` | ``none``."""
    if norm_type == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm_type == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm_type == "none":
        return _identity
    raise ValueError(f"norm {norm_type!r} is not supported; choose one of {', '.join(NORM_TYPES)}")


def _identity(_channels: int) -> nn.Module:
    return nn.Identity()


def conv_bias(norm_type: str) -> bool:
    """Convolutions before a norm get a bias unless that norm is BatchNorm (its shift makes it redundant)."""
    get_norm_layer(norm_type)  # validates the name
    return norm_type != "batch"


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Conv/ConvTranspose/Linear weights by ``init_type``, biases 0; BatchNorm weight N(1, gain), bias 0."""
    if init_type not in INIT_TYPES:
        raise ValueError(f"init_type {init_type!r} is not supported; choose one of {', '.join(INIT_TYPES)}")

    def init_module(m: nn.Module) -> None:
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
            _init_weight(m.weight, init_type, init_gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.normal_(m.weight, 1.0, init_gain)
            nn.init.zeros_(m.bias)

    net.apply(init_module)
    return net


def _init_weight(weight: nn.Parameter, init_type: str, gain: float) -> None:
    if init_type == "normal":
        nn.init.normal_(weight, 0.0, gain)
    elif init_type == "xavier":
        nn.init.xavier_normal_(weight, gain=gain)
    elif init_type == "kaiming":
        nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
    else:
        nn.init.orthogonal_(weight, gain=gain)


def count_parameters(net: nn.Module) -> int:
    """Number of scalar parameters (trainable or not), the figure the original's logs print."""
    return sum(p.numel() for p in net.parameters())
