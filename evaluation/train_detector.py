"""A pedestrian detector to train in plain torch: the built-in SSDLite-MobileNetV2, fine-tuned on street frames.

The downstream-utility study (``evaluation.utility``) trains one detector per anonymized version of the training
frames. The network is the built-in detector of ``anonymizer.detectors.ssdlite`` (MobileNetV2 + SSDLite heads, its
shipped weights as the start, batch norms folded), with every weight trainable and run on whole frames of any size
at a reduced resolution instead of 300×300 tiles:

- anchors keep the shipped model's shapes in *input pixels* (each layer's scales and aspect ratios times 300), laid
  on each layer's grid (``ceil(size / 2^(4+k))`` cells for layer k, centres at (i + 0.5) / cells of the input);
  on a 300×300 input they are exactly the shipped anchors;
- an anchor is a positive when its IoU with a pedestrian box is ≥ 0.5 (and each box's best anchor is one), a
  negative below 0.4, and left out in between and where ≥ 50 % of it lies in an ignore region (every person-like
  box that is not a pedestrian: riders, groups, ``ignore``) or on a pedestrian cut by the crop;
- loss: sigmoid focal loss on the person logit (α 0.25, γ 2; Lin et al. 2017) plus smooth-L1 on the shipped box
  encoding (centre offsets × 10, log sizes × 5), both over the number of positives;
- the stem and the first 7 MobileNetV2 blocks (everything at strides 2–8) keep their shipped weights: it halves
  a CPU training step (1.6 s instead of 3.6 s for 4 crops of 256×512 on one busy core) and the heads and deeper
  blocks are where a pedestrian detector adapts to new data;
- Adam (lr 5e-4) with a cosine decay over a fixed number of steps (200: on demo frames AP@0.5 goes 0.31 → 0.85
  at 100 steps of a 300-step run, 0.88 at 200, 0.90 at 300, AP@[.5:.95] 0.53 at 200 and at 300); random crops and
  horizontal flips drawn from the seed, so the same seed and data give the same weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from anonymizer.detection import Detection, nms
from anonymizer.detectors.ssdlite import INPUT_SIZE, SSDLiteDetector, load_ssdlite
from util.weights import find_weights

POSITIVE_IOU, NEGATIVE_IOU, IGNORE_COVER = 0.5, 0.4, 0.5
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0
KEEP_CUT_FRACTION = 0.5  # a pedestrian keeps being a target when at least this share of its box is in the crop


@dataclass
class Sample:
    """One training or test frame at the study's resolution: RGB uint8 H×W×3, pedestrian boxes and ignore
    regions (``[x1, y1, x2, y2]`` in these pixels)."""

    image: np.ndarray
    boxes: np.ndarray
    ignore: np.ndarray
    name: str = ""


@dataclass(frozen=True)
class Schedule:
    steps: int = 200
    batch_size: int = 4
    crop: tuple[int, int] = (256, 512)  # height, width at the study's resolution
    lr: float = 5e-4
    weight_decay: float = 1e-4
    frozen_blocks: int = 7  # the stem and this many MobileNetV2 blocks keep their shipped weights


def pairwise_iou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(IoU, intersection over a's area), both A×B, of boxes ``[x1, y1, x2, y2]``."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=1e-9), inter / area_a[:, None].clamp(min=1e-9)


class TrainableSSDLite(nn.Module):
    """The built-in detector's network with trainable weights, on N×3×H×W frames (0..255 RGB floats) of any size
    (``forward``: box encodings N×A×4 and person logits N×A)."""

    def __init__(self, detector: SSDLiteDetector) -> None:
        super().__init__()
        self.network = detector.network
        self.network.requires_grad_(True)
        self.input_scale, self.input_shift = detector.input_scale, detector.input_shift
        self.scale_factors = detector.scale_factors
        self.layer_shapes = _anchor_shapes(detector)
        self._anchors: dict[tuple[int, int], torch.Tensor] = {}

    def anchors(self, height: int, width: int) -> torch.Tensor:
        """(A, 4) anchors ``[x1, y1, x2, y2]`` in input pixels for an input of this size (cached)."""
        if (height, width) not in self._anchors:
            layers = []
            for k, shapes in enumerate(self.layer_shapes):
                rows, cols = math.ceil(height / 2 ** (4 + k)), math.ceil(width / 2 ** (4 + k))
                cy = (torch.arange(rows, dtype=torch.float64) + 0.5) / rows * height
                cx = (torch.arange(cols, dtype=torch.float64) + 0.5) / cols * width
                yy, xx = torch.meshgrid(cy, cx, indexing="ij")
                centres = torch.stack([xx, yy], -1).reshape(-1, 1, 2)  # row, column, then box: the heads' order
                half = shapes.flip(-1)[None] / 2  # (1, B, 2) as half width, half height
                layers.append(torch.cat([centres - half, centres + half], -1).reshape(-1, 4))
            self._anchors[(height, width)] = torch.cat(layers).float()
        return self._anchors[(height, width)]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        encodings, logits = self.network(images * self.input_scale - self.input_shift)
        return encodings, logits[..., 1]

    def encode(self, boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """Boxes as the shipped model's encodings ``[ty, tx, th, tw]`` against their anchors (inverse of decode)."""
        sy, sx, sh, sw = self.scale_factors
        wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        xa, ya = anchors[:, 0] + wa / 2, anchors[:, 1] + ha / 2
        w, h = (boxes[:, 2] - boxes[:, 0]).clamp(min=1), (boxes[:, 3] - boxes[:, 1]).clamp(min=1)
        x, y = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
        return torch.stack([(y - ya) / ha * sy, (x - xa) / wa * sx, torch.log(h / ha) * sh, torch.log(w / wa) * sw], -1)

    def decode(self, encodings: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        sy, sx, sh, sw = self.scale_factors
        wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        xa, ya = anchors[:, 0] + wa / 2, anchors[:, 1] + ha / 2
        ty, tx, th, tw = encodings.unbind(-1)
        h, w = torch.exp(th / sh) * ha, torch.exp(tw / sw) * wa
        yc, xc = ty / sy * ha + ya, tx / sx * wa + xa
        return torch.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], -1)


def shipped_detector() -> SSDLiteDetector:
    """The built-in detector with its shipped weights (found offline as anonymize.py finds them)."""
    import anonymizer.detectors  # noqa: F401  registers the weights file's search places

    return load_ssdlite(find_weights("ssdlite_pedestrian").path)


def _anchor_shapes(detector: SSDLiteDetector) -> list[torch.Tensor]:
    """Per head, the (B, 2) anchor heights and widths in input pixels, read off the shipped 300×300 anchors (the
    first cell of each layer; layer k has ceil(300 / 2^(4+k)) cells a side)."""
    shapes, start = [], 0
    for k, predictor in enumerate(detector.network.predictors):
        boxes = predictor.boxes_per_cell
        first = detector.anchors[start:start + boxes].double() * INPUT_SIZE  # ymin, xmin, ymax, xmax
        shapes.append(torch.stack([first[:, 2] - first[:, 0], first[:, 3] - first[:, 1]], -1))
        start += boxes * math.ceil(INPUT_SIZE / 2 ** (4 + k)) ** 2
    if start != detector.anchors.shape[0]:
        raise ValueError(f"the heads describe {start} anchors, the graph has {detector.anchors.shape[0]}")
    return shapes


def assign(anchors: torch.Tensor, boxes: torch.Tensor, ignore: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(labels A: 1 person, 0 background, -1 left out; matched box per anchor A×4)."""
    labels = torch.zeros(len(anchors), dtype=torch.long)
    matched = torch.zeros(len(anchors), 4)
    if len(ignore):
        _, cover = pairwise_iou(anchors, ignore)
        labels[cover.max(1).values >= IGNORE_COVER] = -1
    if len(boxes):
        iou, _ = pairwise_iou(anchors, boxes)
        best, which = iou.max(1)
        labels[(best >= NEGATIVE_IOU) & (best < POSITIVE_IOU)] = -1
        positive = best >= POSITIVE_IOU
        forced = iou.argmax(0)  # every person gets its best anchor, however poor
        positive[forced] = True
        which[forced] = torch.arange(len(boxes))
        labels[positive] = 1
        matched = boxes[which]
    return labels, matched


def loss(model: TrainableSSDLite, images: torch.Tensor, targets: list[tuple[torch.Tensor, torch.Tensor]]) -> dict:
    encodings, logits = model(images)
    anchors = model.anchors(images.shape[2], images.shape[3])
    labels, matched = zip(*(assign(anchors, b, i) for b, i in targets), strict=True)
    labels, matched = torch.stack(labels), torch.stack(matched)
    used = labels >= 0
    positive = labels == 1
    count = positive.sum().clamp(min=1).float()
    cls = F.binary_cross_entropy_with_logits(logits[used], positive[used].float(), reduction="none")
    p = torch.sigmoid(logits[used])
    hit = torch.where(positive[used], p, 1 - p)
    weight = torch.where(positive[used], FOCAL_ALPHA, 1 - FOCAL_ALPHA) * (1 - hit) ** FOCAL_GAMMA
    classification = (weight * cls).sum() / count
    anchor_rows = anchors.expand(len(images), -1, -1)[positive]
    localization = F.smooth_l1_loss(encodings[positive], model.encode(matched[positive], anchor_rows),
                                    reduction="sum") / count
    return {"total": classification + localization, "classification": classification, "localization": localization}


def random_crop(sample: Sample, crop: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """A crop (padded with grey where the frame is smaller) and a coin-flip mirror; pedestrians cut to less
    than KEEP_CUT_FRACTION of their box become ignore regions."""
    height, width = crop
    frame_h, frame_w = sample.image.shape[:2]
    y0 = int(rng.integers(0, max(frame_h - height, 0) + 1))
    x0 = int(rng.integers(0, max(frame_w - width, 0) + 1))
    canvas = np.full((height, width, 3), 114, dtype=np.uint8)
    part = sample.image[y0:y0 + height, x0:x0 + width]
    canvas[:part.shape[0], :part.shape[1]] = part
    shift = np.array([x0, y0, x0, y0], dtype=np.float64)
    limits = np.array([width, height, width, height], dtype=np.float64)
    boxes = np.clip(sample.boxes - shift, 0, limits)
    ignore = np.clip(sample.ignore - shift, 0, limits)
    area = lambda b: np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)  # noqa: E731
    kept = area(boxes) >= KEEP_CUT_FRACTION * np.maximum(area(sample.boxes), 1e-9)
    visible = area(boxes) > 0
    ignore = np.concatenate([ignore[area(ignore) > 0], boxes[visible & ~kept]])
    boxes = boxes[kept]
    if rng.random() < 0.5:
        canvas = canvas[:, ::-1]
        boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1) if len(boxes) \
            else boxes
        ignore = np.stack([width - ignore[:, 2], ignore[:, 1], width - ignore[:, 0], ignore[:, 3]], 1) \
            if len(ignore) else ignore
    return np.ascontiguousarray(canvas), boxes.reshape(-1, 4), ignore.reshape(-1, 4)


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()


def train(model: TrainableSSDLite, samples: list[Sample], schedule: Schedule, seed: int, progress=None) -> list[dict]:
    """Fine-tune in place for ``schedule.steps`` steps; returns the loss every 50 steps. ``progress`` (optional)
    is called with (step, losses) after each step."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.train()
    frozen = [model.network.stem, *model.network.blocks[:schedule.frozen_blocks]]
    for module in frozen:
        module.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, schedule.steps)
    history = []
    for step in range(1, schedule.steps + 1):
        picks = rng.integers(0, len(samples), schedule.batch_size)
        crops = [random_crop(samples[k], schedule.crop, rng) for k in picks]
        targets = [(torch.from_numpy(b).float(), torch.from_numpy(i).float()) for _, b, i in crops]
        losses = loss(model, to_tensor([c for c, _, _ in crops]), targets)
        if not torch.isfinite(losses["total"]):
            raise FloatingPointError(f"step {step}: the detector's loss is {losses['total'].item()}")
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()
        scheduler.step()
        values = {k: round(float(v.detach()), 4) for k, v in losses.items()}
        if step % 50 == 0 or step == schedule.steps:
            history.append({"step": step, **values})
        if progress is not None:
            progress(step, values)
    model.eval()
    return history


@torch.inference_mode()
def detect(model: TrainableSSDLite, image: np.ndarray, min_score: float = 0.01, max_detections: int = 100,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (K×4, pixels of ``image``) and scores of one frame: one pass over the whole frame, then NMS (IoU 0.5
    only: a single pass has no tile fragments to fold into their whole)."""
    height, width = image.shape[:2]
    encodings, logits = model(to_tensor([image]))
    boxes = model.decode(encodings[0], model.anchors(height, width))
    scores = torch.sigmoid(logits[0])
    keep = scores >= min_score
    boxes, scores = boxes[keep], scores[keep]
    top = torch.argsort(scores, descending=True)[:1000]
    found = nms([Detection(tuple(float(v) for v in b), float(s)) for b, s in zip(boxes[top], scores[top], strict=True)],
                contained=math.inf)[:max_detections]
    out = np.asarray([d.box for d in found], dtype=np.float64).reshape(-1, 4)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    return out, np.asarray([d.score for d in found], dtype=np.float64)


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
