"""Inference-only speed-ups for the CPU that leave every parameter, name and result (to float rounding) unchanged.

Profiling ``anonymize_frame`` on a 2-core AVX2 CPU (README "Speed") showed that about half of a U-Net 256 forward at
batch 1 went into oneDNN *reordering the weights* of every convolution into its blocked layout, again on each
call (``ONEDNN_VERBOSE=1``: a 512x1024x4x4 transposed-convolution weight takes ~100 ms to reorder and ~10 ms to
use). At inference the weights do not change, so ``prepack_convolutions_`` swaps each ``Conv2d`` /
``ConvTranspose2d`` for a module that reorders its weight once (the reorder and the convolution are the oneDNN
operators PyTorch's own inductor uses when it freezes a model, ``torch.ops.mkldnn``), and falls back to the plain
convolution whenever that cannot apply: gradients enabled, autocast, not fp32, not on the CPU, or no oneDNN.
Each sample's output does not depend on the rest of its batch, as with the plain convolution.

The prepacked operators pay off with one intra-op thread only. Measured on the same 2-core AVX2 CPU, idle, with
`scripts/benchmark.py --only anonymize_frame` (README "Speed"; U-Net 256 frame, 11 GAN windows): 1 thread, 3.85 s
prepacked vs 4.89 s plain; 2 threads, 3.67 s prepacked vs 2.88 s plain (the prepacked calls hardly use the second
thread). So a prepacked convolution runs the plain one whenever torch uses more than one thread.
"""

from __future__ import annotations

import torch
from torch import nn

PACKABLE = (nn.Conv2d, nn.ConvTranspose2d)


def packing_available() -> bool:
    mkldnn = torch.backends.mkldnn
    return mkldnn.is_available() and mkldnn.enabled and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class PrepackedConv(nn.Module):
    """A ``Conv2d``/``ConvTranspose2d`` whose CPU weight layout is prepared once; same parameters and names."""

    def __init__(self, conv: nn.Conv2d | nn.ConvTranspose2d) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("only zero padding given as numbers can be prepacked")
        self.conv = [conv]  # a list: not a submodule, so the state dict keeps the plain names below
        self.weight = conv.weight
        self.bias = conv.bias
        self.transposed = isinstance(conv, nn.ConvTranspose2d)
        self._packed: torch.Tensor | None = None
        self._packed_from: tuple[int, int] | None = None

    def _applies(self, x: torch.Tensor) -> bool:
        return (x.device.type == "cpu" and x.dtype == torch.float32 and self.weight.dtype == torch.float32
                and not torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu") and x.dim() == 4
                and torch.get_num_threads() == 1)  # slower than plain with more threads (module docstring)

    def _pack(self, input_shape: list[int]) -> torch.Tensor:
        # Reorder again only when the weight was replaced or changed in place (e.g. a checkpoint loaded later).
        source = (self.weight.data_ptr(), self.weight._version)
        if self._packed is None or self._packed_from != source:
            conv, weight = self.conv[0], self.weight.detach()
            if self.transposed:
                self._packed = torch.ops.mkldnn._reorder_convolution_transpose_weight(
                    weight, list(conv.padding), list(conv.output_padding), list(conv.stride), list(conv.dilation),
                    conv.groups, input_shape)
            else:
                self._packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                    weight.to_mkldnn(), list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups,
                    input_shape)
            self._packed_from = source
        return self._packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv[0]
        if not self._applies(x):
            return conv(x)
        packed = self._pack(list(x.shape))
        bias = None if self.bias is None else self.bias.detach()
        if self.transposed:
            return torch.ops.mkldnn._convolution_transpose_pointwise(
                x, packed, bias, list(conv.padding), list(conv.output_padding), list(conv.stride),
                list(conv.dilation), conv.groups, "none", [], "")
        return torch.ops.mkldnn._convolution_pointwise(
            x, packed, bias, list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups, "none", [], "")

    def extra_repr(self) -> str:
        return f"prepacked {self.conv[0]!r}"


def prepack_convolutions_(net: nn.Module) -> int:
    """Swap every zero-padded Conv2d/ConvTranspose2d of ``net`` for ``PrepackedConv`` in place; returns how many
    (0 when oneDNN is not available)."""
    if not packing_available():
        return 0
    swapped = 0
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in PACKABLE and child.padding_mode == "zeros" and not isinstance(child.padding, str):
                setattr(parent, name, PrepackedConv(child))
                swapped += 1
    return swapped



def prepack_inference_networks(model) -> int:
    """``prepack_convolutions_`` on every network a model needs for outputs (its generators); returns how many
    convolutions were swapped. For test.py, anonymize.py and evaluation's re-generation, never for training."""
    return sum(prepack_convolutions_(model.network(name)) for name in model.inference_networks())
