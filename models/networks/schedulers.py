"""Learning-rate schedulers, stepped once at the end of every epoch."""

from __future__ import annotations

from collections.abc import Callable

from torch import optim
from torch.optim import lr_scheduler

LR_POLICIES = ("linear", "step", "plateau", "cosine")


def linear_multiplier(n_epochs: int, n_epochs_decay: int, epoch_count: int = 1) -> Callable[[int], float]:
    """e -> 1 - max(0, e + epoch_count - n_epochs) / (n_epochs_decay + 1), e = scheduler steps taken so far.

    Constant for epochs 1..n_epochs, then lr * (1 - k / (n_epochs_decay + 1)) in epoch n_epochs + k; never 0.
    """

    def multiplier(e: int) -> float:
        return 1.0 - max(0, e + epoch_count - n_epochs) / float(n_epochs_decay + 1)

    return multiplier


def get_scheduler(
    optimizer: optim.Optimizer,
    policy: str = "linear",
    n_epochs: int = 100,
    n_epochs_decay: int = 100,
    epoch_count: int = 1,
    lr_decay_iters: int = 50,
) -> lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau:
    """``linear`` | ``step`` (x0.1 every lr_decay_iters) | ``plateau`` (factor 0.2, threshold 0.01,
    patience 5) | ``cosine`` (T_max n_epochs, eta_min 0)."""
    if policy == "linear":
        multiplier = linear_multiplier(n_epochs, n_epochs_decay, epoch_count)
        return lr_scheduler.LambdaLR(optimizer, lr_lambda=multiplier)
    if policy == "step":
        return lr_scheduler.StepLR(optimizer, step_size=lr_decay_iters, gamma=0.1)
    if policy == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.2, threshold=0.01, patience=5)
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs, eta_min=0)
    raise ValueError(f"lr policy {policy!r} is not supported; choose one of {', '.join(LR_POLICIES)}")
