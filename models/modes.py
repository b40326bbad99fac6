"""Context managers that run a model's networks in a temporary state and restore it afterwards.

Validation and progan's stage-1 visuals run forwards in train mode (BatchNorm batch statistics, dropout on, as the
original's test default) without disturbing training: the BatchNorm running statistics are put back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from models.base_model import BaseModel


class preserved_buffers:  # noqa: N801 - used as a context manager like torch's no_grad
    """Restore every network's buffers (BatchNorm running statistics) after a forward in train mode."""

    def __init__(self, model: BaseModel) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.saved = {name: {key: value.clone() for key, value in model_buffers(self.model, name)}
                      for name in self.model.model_names}

    def __exit__(self, *exc) -> None:
        for name, buffers in self.saved.items():
            current = dict(model_buffers(self.model, name))
            for key, value in buffers.items():
                current[key].copy_(value)


class batchnorm_eval:  # noqa: N801 - a context manager like torch's no_grad
    """Put BatchNorm layers in eval mode, leaving dropout and noise as they are; restore afterwards."""

    def __init__(self, model: BaseModel) -> None:
        self.layers = [module for name in model.model_names for module in model.network(name).modules()
                       if isinstance(module, torch.nn.modules.batchnorm._BatchNorm)]

    def __enter__(self) -> None:
        self.modes = [layer.training for layer in self.layers]
        for layer in self.layers:
            layer.eval()

    def __exit__(self, *exc) -> None:
        for layer, mode in zip(self.layers, self.modes, strict=True):
            layer.train(mode)


def model_buffers(model: BaseModel, name: str) -> Iterator[tuple[str, torch.Tensor]]:
    return model.network(name).named_buffers()
