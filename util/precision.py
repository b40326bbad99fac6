"""Mixed precision, TF32, channels-last and determinism switches (``--amp``, ``--channels_last``, ``--no_tf32``,
``--deterministic``).

- ``--amp auto`` resolves at parse time: bf16 on a CUDA GPU that supports it, otherwise none. The resolved
  value is what the saved options record.
- bf16 runs the forward passes of G and D under autocast (CPU or CUDA); fp16 also scales the losses with one
  ``GradScaler`` per optimizer, and needs CUDA (CPU fp16 autocast has no benefit and the scaler is CUDA's).
- Losses are always computed in fp32: network outputs are cast to float before GANLoss and L1.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch

AMP_MODES = ("auto", "bf16", "fp16", "none")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cuda_requested(gpu_ids: list[int]) -> bool:
    return bool(gpu_ids) and torch.cuda.is_available()


def resolve_amp(amp: str, on_cuda: bool) -> str:
    """``auto`` -> bf16 on a bf16-capable GPU, else none; other values unchanged."""
    if amp != "auto":
        return amp
    return "bf16" if on_cuda and torch.cuda.is_bf16_supported() else "none"


def amp_problem(amp: str, on_cuda: bool, gan_modes: tuple[str, ...] = ()) -> str:
    """'' when the (resolved) mode can run here, else the reason."""
    if amp == "fp16" and not on_cuda:
        return "--amp fp16 needs a CUDA GPU (loss scaling); use --amp bf16 or none on the CPU"
    if amp == "fp16" and "wgangp" in gan_modes:
        return "--amp fp16 with wgangp: the gradient penalty's inner gradient is not loss-scaled; use bf16"
    return ""


class Precision:
    """Autocast context and gradient scalers for one device and ``--amp`` mode."""

    def __init__(self, amp: str, device: torch.device) -> None:
        if amp not in _DTYPES and amp != "none":
            raise ValueError(f"amp mode {amp!r} is not resolved (expected bf16, fp16 or none)")
        self.amp = amp
        self.device = device

    @property
    def enabled(self) -> bool:
        return self.amp != "none"

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=_DTYPES[self.amp])

    def make_scaler(self) -> torch.amp.GradScaler | None:
        """A loss scaler for fp16 (None otherwise: bf16 has fp32's exponent range)."""
        return torch.amp.GradScaler("cuda") if self.amp == "fp16" else None


def to_float(value: Any) -> Any:
    """Tensors (also inside tuples and lists) as fp32, so losses are computed in full precision."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(to_float(v) for v in value)
    return value


def configure_backends(deterministic: bool, tf32: bool = True) -> None:
    """Determinism switches (the original misspelt the cuDNN flag: docs/differences_from_original.md#determinism) or
    cuDNN autotuning; TF32.

    ``deterministic``: deterministic algorithms everywhere (ops without one raise), cuDNN deterministic and not
    benchmarking, and the cuBLAS workspace setting its deterministic mode needs (set before cuBLAS starts).
    """
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    # TF32 only affects Ampere+ GPUs (matmul and convolutions); it is deterministic, so independent of the above.
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
