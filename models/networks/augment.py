"""Differentiable augmentation of discriminator inputs (``--diff_augment``; docs/realism_recipe.md).

A discriminator trained on ~2,000 crops learns them by heart: it wins every batch (accuracy 1.0) and its gradient
stops telling G anything about people. Augmenting everything D sees - real and generated alike, in D's updates and
in G's - with random shifts, colour changes and cut-out squares keeps D from memorising while G still sees the
un-augmented distribution through the gradient (Zhao et al., NeurIPS 2020, "Differentiable Augmentation for
Data-Efficient GAN Training"). Every operation is differentiable in the image and draws its randomness per sample
from torch's global generator (seeded by ``--seed``).

Images are in [-1, 1] with channels in groups of three (RGB, or a conditional D's input and output side by side);
colour operations act on each group on its own.
"""

from __future__ import annotations

import torch

# Shift: up to 1/8 of the side; cut-out: a square of half the side (the values of the paper).
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(n: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, 1, device=like.device, dtype=like.dtype) * (high - low) + low


def colour(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per sample, per RGB group."""
    n, c, h, w = x.shape
    groups = x.reshape(n, c // 3, 3, h, w)
    groups = groups + _uniform(n, -0.5, 0.5, x)
    grey = groups.mean(dim=2, keepdim=True)
    groups = (groups - grey) * _uniform(n, 0.0, 2.0, x) + grey
    mean = groups.mean(dim=(2, 3, 4), keepdim=True)
    groups = (groups - mean) * _uniform(n, 0.5, 1.5, x) + mean
    return groups.reshape(n, c, h, w)


def translation(x: torch.Tensor, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each sample by a random whole number of pixels (up to ``ratio`` of each side); zeros come in."""
    n, _, h, w = x.shape
    max_dy, max_dx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy  # output row r reads input row r - dy
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx
    valid = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1).to(x.dtype)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    shifted = torch.gather(x.reshape(n, x.shape[1], h * w), 2, index).view_as(x)
    return shifted * valid


def cutout(x: torch.Tensor, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero one random square (``ratio`` of each side) per sample; it may reach past the border."""
    n, _, h, w = x.shape
    size_y, size_x = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    # The square's top-left corner: anywhere its centre stays inside the image.
    top = torch.randint(-(size_y // 2), h - size_y // 2, (n, 1, 1), device=x.device)
    left = torch.randint(-(size_x // 2), w - size_x // 2, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return x * (~hole).unsqueeze(1).to(x.dtype)


AUGMENTATIONS = {"color": colour, "translation": translation, "cutout": cutout}


def parse_policy(text: str) -> tuple[str, ...]:
    """``"translation,color,cutout"`` -> the names in order; ``""`` -> none. Raises ValueError naming a bad one."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}")
    return names


def augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """Apply the policy's augmentations in order (a different random draw per sample and call)."""
    if policy and x.shape[1] % 3:
        raise ValueError(f"augmenting D inputs needs channels in RGB groups, got {x.shape[1]} channels")
    for name in policy:
        x = AUGMENTATIONS[name](x)
    return x
