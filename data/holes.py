"""The person hole: the part of a person's box that the generator paints when the person's pixels are known.

The thesis paints the whole box. With a person mask (gtFine instance ids, ``data.instance_ids``) only the person
needs replacing: the hole is the mask's pixels inside the box, grown by a few pixels so that antialiased edges
and hair are painted too, and the rest of the box keeps its original background (as DeepPrivacy2 paints a body's
segmentation, not its box). A box whose mask holds no person pixel falls back to the whole box, so a missing or
empty mask can never leave a person unpainted. Training (``--person_hole_fraction``, data.aligned_dataset) and
anonymization (``anonymize.py --instance_ids``) both make their holes here.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from data.boxes import NOISE_VALUES, Box

# Pixels the person mask grows by, at the model's crop scale (64 px crops: about 3.6 frame pixels each).
HOLE_DILATION = 1


def person_hole(person_mask: np.ndarray, box: Box, dilation: int = HOLE_DILATION) -> np.ndarray:
    """H×W bool: the person pixels of ``person_mask`` (H×W, nonzero = person) inside ``box``, grown by
    ``dilation`` pixels (a square neighbourhood) and cut to the box; the whole box when that leaves nothing."""
    height, width = person_mask.shape
    x1, y1, x2, y2 = (int(v) for v in box)
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    hole = np.zeros((height, width), dtype=bool)
    if x2 <= x1 or y2 <= y1:
        return hole
    people = (person_mask != 0).astype(np.uint8)
    if dilation > 0:
        people = cv2.dilate(people, np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8))
    inside = people[y1:y2, x1:x2].astype(bool)
    hole[y1:y2, x1:x2] = inside if inside.any() else True
    return hole


def person_silhouette(person_mask: torch.Tensor, inside: torch.Tensor, dilation: int = HOLE_DILATION) -> torch.Tensor:
    """N×1×H×W 0/1: where in the painted region ``inside`` (N×1×H×W, 1 = painted) a person is to be painted —
    the person pixels of ``person_mask`` (N×1×H×W, nonzero = person) grown by ``dilation`` pixels as
    ``person_hole`` grows them; the whole region for a sample with no person pixel in it (so the generator is
    never told to paint nobody)."""
    people = (person_mask != 0).to(inside.dtype)
    if dilation > 0:
        people = F.max_pool2d(people, 2 * dilation + 1, stride=1, padding=dilation)
    silhouette = people * inside
    empty = silhouette.flatten(1).amax(dim=1) == 0
    return torch.where(empty[:, None, None, None], inside, silhouette)


def fill_hole(image: torch.Tensor, hole: torch.Tensor, mode: str, rng: np.random.Generator) -> torch.Tensor:
    """Fill the hole (1×H×W, 1 = hole) of a C×H×W tensor in [-1, 1] in place, as ``data.boxes.fill_box`` fills a
    box: 'none' = 0 (mid-grey), 'random' = per-pixel -1/0/+1 shared by the channels, 'original' = the
    {0, 127, 255} noise that preprocessing bakes into a crop's box (``NOISE_VALUES``), in the hole only."""
    inside = hole.bool().expand_as(image)
    if mode == "none":
        image[inside] = 0.0
        return image
    if mode == "random":
        values = torch.tensor([-1.0, 0.0, 1.0])
    elif mode == "original":
        values = torch.tensor(NOISE_VALUES, dtype=torch.float32) / 127.5 - 1.0
    else:
        raise ValueError(f"a person hole is filled with --bbox_noise none, random or original, not {mode!r}")
    noise = values[torch.from_numpy(rng.integers(0, 3, size=hole.shape[-2:]))]
    image[inside] = noise.expand_as(image)[inside]
    return image
