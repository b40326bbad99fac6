"""Train an anonymization GAN: ``python train.py --dataroot DATA --name EXP --model psgan|progan|pix2pix ...``.

Each epoch: training iterations (loss_log.txt, HTML visuals), validation on `val` (`best` by FID), val5 visuals,
a learning-rate step, and `latest` weights plus the resumable `latest_state.pth` (``--continue_train``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from data import DatasetError, create_dataset
from evaluation.weights import WeightsNotFoundError
from models import create_model
from models.base_model import CheckpointError
from options.train_options import TrainOptions
from util.progress import progress_bar
from util.seed import rng_state, seed_everything, set_rng_state
from util.validation import Validator, is_better
from util.visualizer import Visualizer, plot_losses


class Trainer:
    """The epoch loop; everything it needs to resume is in ``progress`` and the model's training state."""

    def __init__(self, opt) -> None:
        self.opt = opt
        self.dataset = create_dataset(opt)
        self.model = create_model(opt)
        self.model.set_batches_per_epoch(self.dataset.num_batches())
        self.model.setup()
        self.visualizer = Visualizer(opt)
        self.validator = Validator(opt)
        self.progress = {"epoch": opt.epoch_count, "batches_done": 0, "total_iters": 0, "best_score": float("inf"),
                         "best_stage": None}
        if opt.continue_train:
            self.resume()

    def resume(self) -> None:
        saved = self.model.load_state(self.model.checkpoint_prefix())
        set_rng_state(saved.pop("rng"))
        self.progress.update(saved)
        print(f"[resume] epoch {self.progress['epoch']}, {self.progress['batches_done']} batches into it, "
              f"{self.progress['total_iters']} iterations done")

    @property
    def last_epoch(self) -> int:
        return self.opt.n_epochs + self.opt.n_epochs_decay

    def save(self, prefix: str | int) -> None:
        self.model.save_networks(prefix)
        self.model.save_state(prefix, {**self.progress, "rng": rng_state()})

    def run(self) -> None:
        while self.progress["epoch"] <= self.last_epoch:
            epoch = self.progress["epoch"]
            started = time.time()
            self.train_epoch(epoch)
            self.end_epoch(epoch)
            print(f"End of epoch {epoch} / {self.last_epoch} \t Time Taken: {time.time() - started:.0f} sec")

    def train_epoch(self, epoch: int) -> None:
        opt, model, progress = self.opt, self.model, self.progress
        self.dataset.set_epoch(epoch)
        batches = self.dataset.iterate(start_batch=progress["batches_done"])
        bar = progress_bar(batches, total=self.dataset.num_batches() - progress["batches_done"],
                           desc=f"epoch {epoch}", quiet=opt.quiet)
        load_started = time.time()
        for batch in bar:
            t_load = time.time() - load_started
            step_started = time.time()
            before = progress["total_iters"]
            model.set_input(batch)
            model.optimize_parameters()
            progress["total_iters"] += len(batch["A_paths"])
            progress["batches_done"] += 1
            now = progress["total_iters"]
            losses = model.get_current_losses()
            bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if not k.startswith("acc")}, refresh=False)
            if crossed(before, now, opt.print_freq):
                t_comp = (time.time() - step_started) / len(batch["A_paths"])
                self.visualizer.print_current_losses(epoch, now, losses, t_comp, t_load, model.current_lr())
            if crossed(before, now, opt.display_freq):
                self.visualizer.display_current_results(model.get_current_visuals(), epoch,
                                                        crossed(before, now, opt.update_html_freq))
            if crossed(before, now, opt.save_latest_freq):
                prefix = f"iter_{now}" if opt.save_by_iter else "latest"
                print(f"saving the {prefix} model (epoch {epoch}, total_iters {now})")
                self.save(prefix)
            load_started = time.time()

    def track_best(self, epoch: int, score: float) -> None:
        """`best` per training stage: a new stage restarts the tracker, so its first score always wins."""
        progress, stage = self.progress, self.model.current_stage()
        if progress["best_stage"] != stage:
            progress["best_stage"], progress["best_score"] = stage, float("inf")
        if is_better(score, progress["best_score"]):
            progress["best_score"] = score
            prefixes = self.model.best_prefixes()
            print(f"[validation] new best {self.validator.metric_name} {score:.4f} at epoch {epoch} (stage {stage}, "
                  f"saved as {', '.join(prefixes)})")
            for prefix in prefixes:
                self.model.save_networks(prefix)

    def end_epoch(self, epoch: int) -> None:
        opt, model, progress = self.opt, self.model, self.progress
        model.train()
        self.visualizer.display_current_results(model.get_current_visuals(), epoch, True)
        if self.validator.enabled and epoch % opt.save_val_freq == 0:
            score = self.validator.run(model, epoch)
            self.validator.log(epoch, progress["total_iters"], score)
            self.track_best(epoch, score)
        if self.validator.vis_dataset is not None:
            self.validator.visualize(model, epoch, progress["total_iters"], self.visualizer)
        old_lr, new_lr = model.update_learning_rate()
        print(f"learning rate {old_lr:.7f} -> {new_lr:.7f}")
        progress["epoch"] = epoch + 1
        progress["batches_done"] = 0
        self.save("latest")
        if epoch % opt.save_epoch_freq == 0 or epoch == self.last_epoch:
            self.save(epoch)
        plot_losses(self.visualizer.log_name, Path(opt.checkpoints_dir) / opt.name / "loss_curves.png")


def crossed(before: int, now: int, every: int) -> bool:
    """True when the running count passed a multiple of ``every`` (batch sizes need not divide it)."""
    return every > 0 and now // every > before // every


def main(argv: list[str] | None = None) -> int:
    options = TrainOptions()
    opt = options.parse(argv)
    print(options.format_options(opt), end="")
    options.save_options(opt, Path(opt.checkpoints_dir) / opt.name, "train")
    seed_everything(opt.seed)
    try:
        Trainer(opt).run()
    except (DatasetError, CheckpointError, WeightsNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
