"""The training loop: epochs of iterations, logging, validation and `best`, checkpoints and exact resume.

Each epoch: training iterations (loss_log.txt, HTML visuals), validation on `val` (`best` by FID), val5 visuals,
a learning-rate step, and `latest` weights plus the resumable `latest_state.pth` (``--continue_train``).

Under torchrun every rank trains on its shard of each global batch (gradients averaged in the models' shared update
step); rank 0 alone logs, validates, writes HTML and checkpoints (the state file also holds every other rank's RNG
and pools), the others wait in the next collective. Resuming: a rank restores its own RNG and pools when the state
has them (same rank count: exact), else derives fresh ones from (seed, rank, iterations done); weights, optimizers,
schedulers and progress are shared.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from data import create_dataset
from models import checkpoint_set, create_model
from util import distributed
from util.progress import progress_bar
from util.seed import rng_state, seed_everything, set_rng_state
from util.visualizer import Visualizer, plot_losses

from .validation import Validator, is_better


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: training stops at that step, and nothing from it on is saved."""


class Trainer:
    """The epoch loop; everything it needs to resume is in ``progress`` and the model's training state."""

    def __init__(self, opt) -> None:
        self.opt = opt
        self.rank, self.world_size = distributed.rank(), distributed.world_size()
        self.is_main = self.rank == 0
        self.dataset = create_dataset(opt, shard=True)
        self.model = create_model(opt)
        self.model.set_batches_per_epoch(self.dataset.num_batches())
        if self.is_main:  # finish an interrupted checkpoint commit, drop the leftovers of uncommitted saves
            for stale in checkpoint_set.clean_stale(self.model.save_dir):
                print(f"[checkpoint] removed {stale.name}, left by an interrupted save")
        distributed.barrier()  # every rank loads only after that
        self.model.setup()
        if self.rank > 0:
            # Every rank built the same networks from the seed; from here on each has its own random streams.
            seed_everything(distributed.rank_seed(opt.seed))
        self.visualizer = Visualizer(opt) if self.is_main else None
        self.validator = Validator(opt) if self.is_main else None
        self.progress = {"epoch": opt.epoch_count, "batches_done": 0, "total_iters": 0, "best_score": float("inf"),
                         "best_stage": None}
        # The prefixes of the most recent save and its iteration count (what a divergence leaves as the good state).
        self.last_saved: tuple[list[str], int] | None = None
        if opt.continue_train:
            self.resume()

    def resume(self) -> None:
        saved = self.model.load_state(self.model.checkpoint_prefix())
        rank0_rng = saved.pop("rng")
        self.progress.update(saved)
        if self.rank == 0:
            set_rng_state(rank0_rng)
        else:
            self.restore_rank_state(self.model.saved_ranks)
        print(f"[resume] epoch {self.progress['epoch']}, {self.progress['batches_done']} batches into it, "
              f"{self.progress['total_iters']} iterations done")

    def restore_rank_state(self, saved_ranks: list | None) -> None:
        """A rank > 0: its own RNG and pools from the state, or fresh ones when the saved run had fewer ranks."""
        own = saved_ranks[self.rank] if saved_ranks and self.rank < len(saved_ranks) else None
        if own is not None:
            set_rng_state(own["rng"])
            self.model.load_rank_training_state(own["model"])
            return
        seed_everything(distributed.resume_seed(self.opt.seed, self.rank, self.progress["total_iters"]))
        self.model.load_rank_training_state(None)

    @property
    def last_epoch(self) -> int:
        return self.opt.n_epochs + self.opt.n_epochs_decay

    def due(self, epoch: int, every: int) -> bool:
        """Every ``every`` epochs, and always at the last one: the end of the schedule is always saved and scored
        (so it can become `best`)."""
        return epoch % every == 0 or epoch == self.last_epoch

    def save(self, prefix: str | int) -> None:
        """Weights and state, written by rank 0; collective under torchrun (gathers the other ranks' parts)."""
        own = {"rng": rng_state(), "model": self.model.rank_training_state()} if self.rank > 0 else None
        ranks = distributed.gather_to_main(own)
        if self.is_main:
            self.model.save_checkpoint(prefix, {**self.progress, "rng": rng_state()},
                                       ranks=ranks if self.world_size > 1 else None)
        now = self.progress["total_iters"]
        same_point = self.last_saved is not None and self.last_saved[1] == now
        self.last_saved = ([*self.last_saved[0], str(prefix)] if same_point else [str(prefix)], now)

    def run(self) -> None:
        while self.progress["epoch"] <= self.last_epoch:
            epoch = self.progress["epoch"]
            started = time.time()
            self.train_epoch(epoch)
            self.end_epoch(epoch)
            print(f"End of epoch {epoch} / {self.last_epoch} \t Time Taken: {time.time() - started:.0f} sec")
        distributed.barrier()  # nobody leaves before rank 0 has written the last checkpoint

    def train_epoch(self, epoch: int) -> None:
        opt, model, progress = self.opt, self.model, self.progress
        self.dataset.set_epoch(epoch)
        batches = self.dataset.iterate(start_batch=progress["batches_done"])
        bar = progress_bar(batches, total=self.dataset.num_batches() - progress["batches_done"],
                           desc=f"epoch {epoch}", quiet=opt.quiet or not self.is_main)
        load_started = time.time()
        for batch in bar:
            t_load = time.time() - load_started
            step_started = time.time()
            before = progress["total_iters"]
            model.set_input(batch)
            model.optimize_parameters()
            self.stop_if_diverged(epoch)
            # Samples of the global batch (every rank counts the same, so all take the same save decisions).
            progress["total_iters"] += len(batch) * self.world_size
            progress["batches_done"] += 1
            now = progress["total_iters"]
            if self.is_main:
                self.report(epoch, before, now, time.time() - step_started, t_load, bar)
            if crossed(before, now, opt.save_latest_freq):
                prefix = f"iter_{now}" if opt.save_by_iter else "latest"
                print(f"saving the {prefix} model (epoch {epoch}, total_iters {now})")
                self.save(prefix)
            load_started = time.time()

    def stop_if_diverged(self, epoch: int) -> None:
        """Raise TrainingDiverged (on every rank) when a loss of this step is not finite; nothing is saved after
        it, so the last checkpoint written stays the last good one."""
        bad = {name: value for name, value in self.model.get_current_losses().items() if not math.isfinite(value)}
        if not distributed.any_rank(bool(bad), self.model.device):
            return
        losses = ", ".join(f"{name} = {value}" for name, value in bad.items()) or "on another rank"
        if self.last_saved is not None:
            prefixes, iterations = self.last_saved
            kept = f"the last good checkpoint is {' = '.join(prefixes)} (after {iterations} iterations)"
        elif self.opt.continue_train:
            kept = f"the checkpoint resumed from ({self.model.checkpoint_prefix()}) is unchanged"
        else:
            kept = "no checkpoint was saved yet"
        raise TrainingDiverged(f"non-finite loss at epoch {epoch}, iteration {self.progress['total_iters'] + 1} "
                               f"({losses}); training stopped without saving this step, {kept}. A lower --lr or "
                               "--clip_value may help")

    def report(self, epoch: int, before: int, now: int, t_step: float, t_load: float, bar) -> None:
        """Rank 0: progress bar, loss log and training visuals."""
        opt, model = self.opt, self.model
        losses = model.get_current_losses()
        bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if not k.startswith("acc")}, refresh=False)
        if crossed(before, now, opt.print_freq):
            t_comp = t_step * self.world_size / (now - before)  # per sample of the global batch
            self.visualizer.print_current_losses(epoch, now, losses, t_comp, t_load, model.current_lr())
        if crossed(before, now, opt.display_freq):
            with self.main_only_forward():
                self.visualizer.display_current_results(model.get_current_visuals(), epoch,
                                                        crossed(before, now, opt.update_html_freq))

    def main_only_forward(self):
        return distributed.main_process_only_forward(self.model.network(n) for n in self.model.model_names)

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
        if self.is_main:
            with self.main_only_forward():
                self.validate(epoch)
        old_lr, new_lr = model.update_learning_rate()
        print(f"learning rate {old_lr:.7f} -> {new_lr:.7f}")
        progress["epoch"] = epoch + 1
        progress["batches_done"] = 0
        self.save("latest")
        if self.due(epoch, opt.save_epoch_freq):
            self.save(epoch)
        if self.is_main:
            plot_losses(self.visualizer.log_name, Path(opt.checkpoints_dir) / opt.name / "loss_curves.png")

    def validate(self, epoch: int) -> None:
        """Rank 0: end-of-epoch visuals, validation score and `best`, val5 visuals (other ranks wait meanwhile)."""
        model, progress = self.model, self.progress
        self.visualizer.display_current_results(model.get_current_visuals(), epoch, True)
        if self.validator.enabled and self.due(epoch, self.opt.save_val_freq):
            score = self.validator.run(model, epoch)
            self.validator.log(epoch, progress["total_iters"], score)
            self.track_best(epoch, score)
        if self.validator.vis_dataset is not None:
            self.validator.visualize(model, epoch, progress["total_iters"], self.visualizer)


def crossed(before: int, now: int, every: int) -> bool:
    """True when the running count passed a multiple of ``every`` (batch sizes need not divide it)."""
    return every > 0 and now // every > before // every
