"""The batch every model takes: generator inputs, targets, person boxes and sample paths, plus the optional
down-scaled copy on which a two-stage model trains its first stage.

``make_batch`` is the one constructor: the dataset builds each sample with it (a batch of one), the anonymizer
its batches of windows, the benchmarks their synthetic batches; ``Batch.concat`` joins batches (the loader's
collate). The size of the small copy is the model's rule (``small_input_size`` of the model class, resolved into
the options); this module only follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from data.boxes import Box, fill_box, scale_box
from data.transforms import downscale


@dataclass
class Batch:
    """N samples. Images are N×C×H×W floats in [-1, 1]; boxes ``[x1, y1, x2, y2)`` in pixels of those images."""

    A: torch.Tensor  # generator input: the person's box filled per --bbox_noise
    B: torch.Tensor  # target: the real crop
    boxes: torch.Tensor  # N×4 int64
    paths: list[str]
    small: Batch | None = None  # the same samples at the model's small input size (progan's stage 1)
    # N×1×H×W, 1 on the target's person pixels (from gtFine instance ids), when the model asks for them
    person_mask: torch.Tensor | None = None
    # N×1×H×W, 1 where the generator paints (data.holes.person_hole); None: each sample's box
    hole: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @staticmethod
    def concat(batches: Sequence[Batch]) -> Batch:
        """The batches one after the other (every one has a small part, or none has)."""
        smalls = [batch.small for batch in batches]
        masks = [batch.person_mask for batch in batches]
        holes = [batch.hole for batch in batches]
        for parts, what in ((smalls, "a small part"), (masks, "person masks"), (holes, "holes")):
            if any(part is None for part in parts) and not all(part is None for part in parts):
                raise ValueError(f"cannot join batches with and without {what}")
        return Batch(A=torch.cat([batch.A for batch in batches]), B=torch.cat([batch.B for batch in batches]),
                     boxes=torch.cat([batch.boxes for batch in batches]),
                     paths=[path for batch in batches for path in batch.paths],
                     small=None if smalls[0] is None else Batch.concat(smalls),
                     person_mask=None if masks[0] is None else torch.cat(masks),
                     hole=None if holes[0] is None else torch.cat(holes))

    def pin_memory(self) -> Batch:
        """Page-locked copies (the DataLoader calls this with ``pin_memory=True``)."""
        return Batch(A=self.A.pin_memory(), B=self.B.pin_memory(), boxes=self.boxes.pin_memory(),
                     paths=self.paths, small=None if self.small is None else self.small.pin_memory(),
                     person_mask=None if self.person_mask is None else self.person_mask.pin_memory(),
                     hole=None if self.hole is None else self.hole.pin_memory())


def make_batch(A: torch.Tensor, B: torch.Tensor, boxes: Sequence[Box], paths: Sequence[str], *,
               small_size: int | None = None, crop_size: int | None = None, fill_mode: str = "none",
               rngs: Sequence[np.random.Generator] | None = None, person_mask: torch.Tensor | None = None,
               hole: torch.Tensor | None = None) -> Batch:
    """A batch of N×C×H×W inputs ``A`` (box already filled) and targets ``B`` with their boxes.

    With ``small_size``, the small part is added sample by sample: both images downscaled (antialiased bicubic)
    by ``small_size / crop_size``; the box scaled to cover the scaled box (floor x1/y1, ceil x2/y2; the original
    floored all four: docs/differences_from_original.md#small-inputs); the small input's box filled again
    (``fill_mode``, each sample's own ``rngs[i]``) so the fill lies exactly inside the small box ('original' keeps
    the downscaled fill instead). ``person_mask`` (N×1×H×W, 1 on person pixels) is kept, and downscaled the same
    way (then thresholded at one half) for the small part. ``hole`` (N×1×H×W, 1 where the generator paints;
    ``A`` already filled there) replaces the boxes as the painted region; a two-stage model does not take one.
    """
    box_tensor = torch.tensor([list(box) for box in boxes], dtype=torch.int64).reshape(len(boxes), 4)
    batch = Batch(A=A, B=B, boxes=box_tensor, paths=list(paths), person_mask=person_mask, hole=hole)
    if small_size is None:
        return batch
    if hole is not None:
        raise ValueError("a person hole is painted in one stage: a batch with a small part cannot have one")
    if crop_size is None or rngs is None:
        raise ValueError("a small part needs crop_size and one random generator per sample")
    height, width = A.shape[-2:]
    size = (width * small_size // crop_size, height * small_size // crop_size)
    small_boxes = [scale_box(tuple(box), (width, height), size) for box in boxes]
    small_A = [fill_box(downscale(image, size), box, fill_mode, rng)
               for image, box, rng in zip(A, small_boxes, rngs, strict=True)]
    small_B = [downscale(image, size) for image in B]
    small_mask = None if person_mask is None else torch.stack(
        [(downscale(mask, size) >= 0.5).float() for mask in person_mask])
    batch.small = make_batch(torch.stack(small_A), torch.stack(small_B), small_boxes, paths, person_mask=small_mask)
    return batch
