"""Per-epoch validation during training: a fidelity score on `val` to pick `best`, and the val5 visuals.

The score is the FID between generated and real val crops, measured with the offline Inception network
(evaluation.fidelity). When no Inception weights can be found, the mean L1 inside the box is used instead, and the
log says so: a `best` checkpoint never comes from a silently failed metric.
"""

from __future__ import annotations

import argparse
import copy
import math
from pathlib import Path

import numpy as np
import torch

from data import DatasetError, create_dataset
from evaluation.fidelity import InceptionFeatures, extract_features, feature_statistics, frechet_distance
from models.modes import batchnorm_eval, preserved_buffers
from util.html import HTMLPage
from util.visualizer import Visualizer, append_fidelity_log, save_images
from util.weights import WeightsNotFoundError

VAL_MAX_SAMPLES = 200


def validation_options(opt: argparse.Namespace, phase: str) -> argparse.Namespace:
    """Options for reading a validation split: no augmentation, serial order, batch 1 (as the original)."""
    val_opt = copy.copy(opt)
    val_opt.phase = phase
    val_opt.isTrain = False
    val_opt.preprocess = "resize"
    val_opt.load_size = opt.crop_size
    val_opt.no_flip = True
    val_opt.serial_batches = True
    val_opt.batch_size = 1
    val_opt.num_threads = 0
    val_opt.max_dataset_size = VAL_MAX_SAMPLES
    return val_opt


def split_exists(opt: argparse.Namespace, phase: str) -> bool:
    folder = Path(opt.dataroot) / "images" / phase
    return folder.is_dir() and any(folder.glob("*.png"))


class Validator:
    """Scores the generator on `val` after each epoch and keeps the best score."""

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.val_dir = Path(opt.checkpoints_dir) / opt.name / "val"
        self.dataset = create_dataset(validation_options(opt, "val")) if split_exists(opt, "val") else None
        self.vis_dataset = create_dataset(validation_options(opt, "val5")) if split_exists(opt, "val5") else None
        self.extractor: torch.nn.Module | None = None
        self.real_statistics: tuple[np.ndarray, np.ndarray] | None = None
        self.metric_name = "none"
        if self.dataset is None:
            print(f"[validation] no {Path(opt.dataroot) / 'images' / 'val'}: no per-epoch validation; "
                  "'best' will not be written")
            return
        if opt.val_metric == "box_l1":
            self.metric_name = "box_l1"
            return
        if len(self.dataset) < 2:  # found now, not after a whole epoch of training
            raise DatasetError(Path(opt.dataroot) / "images" / "val", f"{len(self.dataset)} crop: the per-epoch FID "
                               "needs at least 2; add val crops or pass --val_metric box_l1", kind="too few crops")
        try:
            self.extractor = InceptionFeatures(explicit=opt.inception_weights, trust_torchscript=opt.trust_torchscript)
            self.metric_name = "frechet_inception_distance"
        except WeightsNotFoundError as error:
            self.metric_name = "box_l1"
            print("[validation] no Inception weights found, so 'best' is chosen by the mean L1 inside the box "
                  f"instead of FID.\n{error}")

    @property
    def enabled(self) -> bool:
        return self.dataset is not None

    def run(self, model, epoch: int) -> float:
        """Generate every val sample (RNG forked so training randomness is untouched) and score it."""
        fakes, reals, l1_scores = [], [], []
        page = HTMLPage(self.val_dir, f"Validation, epoch {epoch}")
        with torch.random.fork_rng(devices=[]), preserved_buffers(model):
            torch.manual_seed(self.opt.seed + epoch)
            for batch in self.dataset:
                model.set_input(batch)
                model.test()
                l1_scores.append(float(model.validation_loss()))
                fakes.append(model.fake_B.detach().cpu())
                reals.append(model.real_B.detach().cpu())
                save_images(page, model.get_current_visuals(), model.get_image_paths()[0],
                            width=self.opt.display_winsize)
        page.save()
        if self.metric_name == "box_l1":
            return float(np.mean(l1_scores))
        if self.real_statistics is None:
            # The val crops are read unaugmented and in order, so their Inception statistics never change.
            self.real_statistics = feature_statistics(extract_features(torch.cat(reals), self.extractor))
        fake_statistics = feature_statistics(extract_features(torch.cat(fakes), self.extractor))
        return float(frechet_distance(*fake_statistics, *self.real_statistics, method="eigh"))

    def log(self, epoch: int, total_iters: int, score: float) -> None:
        """Append the epoch's score to val/fidelity_log.txt (the original's line format)."""
        append_fidelity_log(self.val_dir / "fidelity_log.txt", epoch, total_iters, {self.metric_name: score})

    def visualize(self, model, epoch: int, total_iters: int, visualizer: Visualizer) -> None:
        """val5: BatchNorm in eval mode (dropout and noise live), D losses logged, images on a web page."""
        with torch.random.fork_rng(devices=[]), preserved_buffers(model), batchnorm_eval(model):
            torch.manual_seed(self.opt.seed + epoch)
            for sample, batch in enumerate(self.vis_dataset):
                model.set_input(batch)
                losses = model.current_discriminator_losses()
                visualizer.print_validation_losses(epoch, total_iters, sample, model.current_lr(), losses)
                visualizer.save_validation_visuals(model.get_current_visuals(), epoch, model.get_image_paths()[0])


def is_better(score: float, best: float) -> bool:
    return math.isfinite(score) and score < best


__all__ = ["Validator", "is_better", "validation_options"]
