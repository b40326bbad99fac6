"""Learning-rate schedules, stepped once per epoch."""

from __future__ import annotations

import pytest
import torch

from models.networks import get_scheduler, linear_multiplier


def _optimizer(lr: float = 0.0002) -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr, betas=(0.5, 0.999))


def _lrs_per_epoch(scheduler, optimizer, epochs: int) -> list[float]:
    """The LR in use during epochs 1..epochs (the scheduler steps at the end of each epoch)."""
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(0.0)
        else:
            scheduler.step()
    return lrs


def test_linear_formula() -> None:
    m = linear_multiplier(n_epochs=100, n_epochs_decay=100, epoch_count=1)
    assert m(0) == 1.0 and m(99) == 1.0
    assert m(100) == pytest.approx(1 - 1 / 101)
    assert m(199) == pytest.approx(1 - 100 / 101)
    shifted = linear_multiplier(n_epochs=10, n_epochs_decay=5, epoch_count=8)
    assert shifted(2) == 1.0 and shifted(3) == pytest.approx(1 - 1 / 6)


def test_linear_schedule_constant_then_decays_never_reaching_zero() -> None:
    opt = _optimizer(1.0)
    lrs = _lrs_per_epoch(get_scheduler(opt, "linear", n_epochs=3, n_epochs_decay=4), opt, 7)
    # Epoch n_epochs + k runs at lr * (1 - k / (n_epochs_decay + 1)).
    assert lrs == pytest.approx([1, 1, 1, 0.8, 0.6, 0.4, 0.2])


def test_step_schedule() -> None:
    opt = _optimizer(1.0)
    lrs = _lrs_per_epoch(get_scheduler(opt, "step", lr_decay_iters=2), opt, 5)
    assert lrs == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_plateau_schedule_on_constant_metric() -> None:
    opt = _optimizer(1.0)
    scheduler = get_scheduler(opt, "plateau")
    assert (scheduler.factor, scheduler.threshold, scheduler.patience) == (0.2, 0.01, 5)
    lrs = _lrs_per_epoch(scheduler, opt, 8)
    # Metric always 0: the first value is the best, the LR drops after 5 more epochs without improvement.
    assert lrs == pytest.approx([1] * 7 + [0.2])


def test_cosine_schedule() -> None:
    opt = _optimizer(1.0)
    lrs = _lrs_per_epoch(get_scheduler(opt, "cosine", n_epochs=4), opt, 5)
    assert lrs == pytest.approx([1, 0.8535534, 0.5, 0.1464466, 0.0])


def test_unknown_policy() -> None:
    with pytest.raises(ValueError, match="linear, step, plateau, cosine"):
        get_scheduler(_optimizer(), "exponential")
