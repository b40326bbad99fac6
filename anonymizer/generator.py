"""A trained generator for full-frame use: loading, the box fill the run was trained with, and batched inference.

The model is built and loaded exactly as test.py does (``options.run_options`` reads the network flags from the
run's ``train_opt.json``; ``models.ready_model`` loads the ``--epoch`` generators with ``weights_only=True``), and
windows go through the model's own ``set_input`` / ``test`` so the mask channel, noise and progan's two stages are
the model's code, not a copy.

BatchNorm / dropout: in train mode (``--network_mode train``, the default for a ``--name`` run) the networks run as
test.py and the original do (batch statistics, dropout as a noise source). test.py runs one crop at a time, so its
BatchNorm statistics are those of a single image; to keep that meaning while batching windows, train-mode BatchNorm
layers are swapped for the same normalisation computed per sample (spatial statistics per channel with the layer's
affine weights — identical to a batch of one). A window's output then does not depend on the other windows of its
batch, except through the random stream (decoder noise and dropout draw from torch's global generator, which is
seeded per batch). Eval mode (running statistics, no dropout) is the default of a model file that records it, as
the shipped demo model does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data.batch import Batch, make_batch
from data.boxes import Box, box_mask, clip_box, fill_box, fill_box_pixels
from data.holes import fill_hole
from data.silhouettes import SilhouetteBank, SilhouetteError, bank_path, load_bank

SUPPORTED_MODELS = ("psgan", "pix2pix", "progan")


class ModelError(RuntimeError):
    """The run cannot be used for anonymization (missing options, unsupported model, bad checkpoint)."""


class PerSampleBatchNorm(nn.Module):
    """Train-mode BatchNorm of a batch of one, for every sample of a batch (see the module docstring): a group norm
    with one group per channel, whose CPU kernel (unlike ``instance_norm``'s) keeps channels-last tensors
    channels-last instead of copying them (3-10x faster per layer, README "Speed")."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        self.bn = bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, x.shape[1], self.bn.weight, self.bn.bias, self.bn.eps)


def per_sample_batch_norm_(net: nn.Module) -> int:
    """Swap every BatchNorm2d of ``net`` for ``PerSampleBatchNorm`` in place; returns how many."""
    swapped = 0
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, PerSampleBatchNorm(child))
                swapped += 1
    return swapped


def load_model(name: str, checkpoints_dir: str, epoch: str, device: str = "cpu", eval_mode: bool = False,
               amp: str = "none"):
    """The run's model with its ``epoch`` generators loaded, ready for windows; ``amp`` sets its precision."""
    from models import CheckpointError, gpu_ids_for, ready_model
    from options import OptionsError, run_options

    run = Path(checkpoints_dir) / name
    if not (run / "train_opt.json").is_file():
        raise ModelError(f"{run / 'train_opt.json'}: not found; --name/--checkpoints_dir must point at a trained run "
                         "(its options give the network, crop size and box fill)")
    try:
        opt = run_options(run, epoch=str(epoch), gpu_ids=gpu_ids_for(device), quiet=True)
        check_supported(opt)
        model = ready_model(opt, eval_mode=eval_mode, amp=amp, quiet=True)
    except (OptionsError, CheckpointError) as error:
        raise ModelError(str(error)) from None
    return attach_silhouettes(prepare(model, eval_mode), run)


def load_model_file(path: str | Path, device: str = "cpu", eval_mode: bool | None = None, amp: str = "none"):
    """A shipped generator file (``<stem>.pth`` + ``<stem>.json``, e.g. the demo model), ready for windows;
    ``eval_mode`` None: the network mode the file records (models.loading.recorded_network_mode)."""
    from models import CheckpointError
    from models import load_model as load_any_model
    from options import OptionsError

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (a shipped generator is <stem>.pth beside <stem>.json)")
    try:
        model = load_any_model(path, device=device, eval_mode=eval_mode, amp=amp, quiet=True)
        check_supported(model.opt)
    except (OptionsError, CheckpointError) as error:
        raise ModelError(str(error)) from None
    return attach_silhouettes(prepare(model, in_eval_mode(model)), path)


def recorded_feather(path: str | Path) -> int:
    """The box-edge feather a shipped generator file was measured with (models.loading.recorded_blend_px): what
    ``anonymize.py`` pastes its boxes with unless given ``--blend_px``."""
    from models.loading import recorded_blend_px
    from options import OptionsError

    try:
        return recorded_blend_px(path)
    except OptionsError as error:
        raise ModelError(str(error)) from None


def attach_silhouettes(model, source: Path):
    """A generator told where the person is (psgan ``--netG_silhouette_input``) gets the silhouette bank of its run
    folder or model file as ``model.silhouettes`` (data.silhouettes); other models get None."""
    model.silhouettes = None
    if getattr(model.opt, "netG_silhouette_input", False):
        try:
            model.silhouettes = load_bank(bank_path(source))
        except SilhouetteError as error:
            raise ModelError(f"{error}: a model trained with --netG_silhouette_input paints a whole box in a "
                             "stranger's silhouette from its bank (train.py writes silhouettes.npz into the run, "
                             "scripts/export_model.py copies it beside the model file, python -m data.silhouettes "
                             "builds one from the training crops)") from None
    return model


def random_model(options: dict, device: str = "cpu", eval_mode: bool = False, prepack: bool = True):
    """A model with freshly initialised weights from keyword options (``amp`` among them) — ONLY for benchmarks
    (timing, not output); ``prepack=False`` keeps the plain convolutions (to measure what prepacking gains)."""
    from models import untrained_model

    model = untrained_model(device=device, eval_mode=eval_mode, name="benchmark_untrained", prepack=prepack,
                            **options)
    check_supported(model.opt)
    return prepare(model, eval_mode)


def check_supported(opt: argparse.Namespace) -> None:
    if opt.model not in SUPPORTED_MODELS:
        raise ModelError(f"--model {opt.model}: anonymize.py supports {', '.join(SUPPORTED_MODELS)}")
    if opt.input_nc != 3 or opt.output_nc != 3:
        raise ModelError(f"run {opt.name}: anonymize.py needs an RGB model (input_nc = output_nc = 3)")


def in_eval_mode(model) -> bool:
    """Whether the model's generators run in eval mode (BatchNorm running statistics, no dropout)."""
    return not any(model.network(name).training for name in model.inference_networks())


def prepare(model, eval_mode: bool):
    if eval_mode:
        model.eval()
    else:
        model.train()
        for name in model.inference_networks():
            per_sample_batch_norm_(model.network(name))
    for name in model.inference_networks():
        # channels_last: the CPU (oneDNN) convolutions, the transposed ones above all, run faster in it.
        model.network(name).to(memory_format=torch.channels_last)
    return model


def truncate_noise(model, truncation: float) -> None:
    """Sample the model's generators with ``truncation`` times their noise's training spread
    (models.networks.set_noise_truncation); below 1, a generator that draws no noise is refused, since the value
    would change nothing."""
    from models.networks import set_noise_truncation

    noise_inputs = sum(set_noise_truncation(model.network(name), truncation) for name in model.inference_networks())
    if noise_inputs == 0 and truncation != 1.0:
        raise ModelError(f"--truncation {truncation:g}: the generator of {model.opt.name} has no noise inputs "
                         f"(--netG_noise {model.opt.netG_noise}); its only randomness, if any, is dropout")


@dataclass
class Window:
    """One person's generator input: the crop (crop × crop × 3 uint8 RGB, box not yet filled) and its box."""

    pixels: np.ndarray
    box: Box  # in crop pixels
    rng: np.random.Generator  # the person's own stream for the box fill
    hole: np.ndarray | None = None  # crop × crop bool: paint the person's shape only (data.holes); None: the box


class WindowGenerator:
    """Runs batches of windows through a loaded model; outputs are crop × crop × 3 float32 arrays in [0, 255]."""

    def __init__(self, model, truncation: float = 1.0) -> None:
        self.model = model
        self.opt = model.opt
        self.truncation = truncation
        truncate_noise(model, truncation)
        self.silhouettes: SilhouetteBank | None = getattr(model, "silhouettes", None)
        if getattr(self.opt, "netG_silhouette_input", False) and self.silhouettes is None:
            raise ModelError(f"run {self.opt.name}: trained with --netG_silhouette_input but no silhouette bank is "
                             "loaded (anonymizer.generator.load_model / load_model_file load it)")
        self.crop_size = int(self.opt.crop_size)
        # Frame pixels that make one model input at the training scale (options.test_options.training_window_side);
        # None when the run does not record it: windows are then crop_size frame pixels.
        self.window_side: int | None = getattr(self.opt, "source_window_side", None)
        self.fill_mode = self.opt.bbox_noise
        self.small_size = self.opt.small_input_size
        self.device = model.device
        self.eval_mode = in_eval_mode(model)  # else per-window BatchNorm statistics (prepare() below)

    def input_tensor(self, window: Window) -> torch.Tensor:
        """The box filled as in training: none -> 0 (grey), random -> -1/0/+1 noise, original -> the
        {0, 127, 255} noise that preprocessing baked into the crop PNG."""
        pixels = window.pixels
        if self.fill_mode == "original" and window.hole is None:
            pixels = pixels.copy()
            fill_box_pixels(pixels, window.box, "noise", window.rng)
        tensor = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)
        if window.hole is not None:  # only the person's pixels are filled; the rest of the box stays real
            return fill_hole(tensor, torch.from_numpy(window.hole)[None], self.fill_mode, window.rng)
        return fill_box(tensor, window.box, self.fill_mode, window.rng)

    def hole_tensor(self, windows: list[Window]) -> torch.Tensor | None:
        """N×1×H×W painted regions when some window has a person hole (the others: their box), else None."""
        if all(w.hole is None for w in windows):
            return None
        return torch.stack([box_mask(w.box, self.crop_size, self.crop_size) if w.hole is None
                            else torch.from_numpy(w.hole).float()[None] for w in windows])

    def silhouette_tensor(self, windows: list[Window]) -> torch.Tensor | None:
        """N×1×H×W where each window's person is painted, for a generator told so (``--netG_silhouette_input``;
        else None): a person hole is its own shape; a whole box gets a stranger's silhouette from the bank,
        stretched to the box. The draw comes from a child of the person's own stream, apart from the box fill,
        which takes a number of values that depends on the box's size: a tracked person, whose stream is its
        track's, keeps its stranger's outline from frame to frame while its box keeps about the same aspect ratio
        (the draw is among the bank's closest aspects)."""
        if self.silhouettes is None:
            return None
        maps = []
        for window in windows:
            if window.hole is not None:
                maps.append(torch.from_numpy(window.hole).float()[None])
                continue
            x1, y1, x2, y2 = clip_box(window.box, self.crop_size, self.crop_size)
            silhouette = np.zeros((self.crop_size, self.crop_size), dtype=np.float32)
            if x2 > x1 and y2 > y1:
                draw_rng = np.random.default_rng(window.rng.bit_generator.seed_seq.spawn(1)[0])
                silhouette[y1:y2, x1:x2] = self.silhouettes.draw(y2 - y1, x2 - x1, draw_rng)
            maps.append(torch.from_numpy(silhouette)[None])
        return torch.stack(maps)

    def batch(self, windows: list[Window]) -> Batch:
        """The windows as the model's batch; progan's small part is built as the dataset builds it."""
        inputs = torch.stack([self.input_tensor(w) for w in windows])
        return make_batch(inputs, inputs, [w.box for w in windows], [f"window_{k}" for k in range(len(windows))],
                          small_size=self.small_size, crop_size=self.crop_size, fill_mode=self.fill_mode,
                          rngs=[w.rng for w in windows], hole=self.hole_tensor(windows),
                          person_mask=self.silhouette_tensor(windows))

    def __call__(self, windows: list[Window], seed: int) -> list[np.ndarray | None]:
        """Generated crops in [0, 255] (None for a sample with a non-finite output). ``seed`` sets torch's
        generator for this batch (decoder noise, dropout)."""
        batch = self.batch(windows)
        torch.manual_seed(seed)
        self.model.set_input(batch)
        self.model.test()  # under the model's own --amp autocast
        fake = self.model.fake_B.detach().float()
        finite = torch.isfinite(fake).flatten(1).all(dim=1).tolist()
        images = ((fake.clamp(-1.0, 1.0) + 1.0) * 127.5).permute(0, 2, 3, 1).cpu().numpy()
        return [np.ascontiguousarray(img) if ok else None for img, ok in zip(images, finite, strict=True)]
