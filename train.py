"""Train an anonymization GAN: ``python train.py --dataroot DATA --name EXP --model psgan|progan|pix2pix ...``.

Also under ``torchrun --nproc_per_node N train.py ...``. The loop itself is ``training.trainer.Trainer``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from data import DatasetError
from data.silhouettes import SilhouetteError, ensure_run_bank
from evaluation.fidelity import UnsupportedWeightsFormatError, UntrustedTorchScriptError
from models import CheckpointError
from options.train_options import TrainOptions
from training.trainer import Trainer, TrainingDiverged
from util import distributed
from util.cli import os_error_text
from util.precision import configure_backends, cuda_requested
from util.seed import seed_everything
from util.threads import configure_threads
from util.weights import WeightsNotFoundError


def main(argv: list[str] | None = None) -> int:
    options = TrainOptions()
    opt = options.parse(argv)
    configure_backends(opt.deterministic, tf32=not opt.no_tf32)
    started_group = distributed.init_distributed(use_cuda=cuda_requested(opt.gpu_ids))
    # Ranks > 0 print nothing (errors still reach stderr): rank 0 speaks for the run.
    quiet = open(os.devnull, "w") if distributed.rank() > 0 else None  # noqa: SIM115 - closed below
    try:
        with contextlib.redirect_stdout(quiet) if quiet else contextlib.nullcontext():
            return train(options, opt)
    finally:
        if quiet:
            quiet.close()
        if started_group:
            distributed.destroy_distributed()


def train(options: TrainOptions, opt) -> int:
    print(options.format_options(opt), end="")
    print(f"[threads] {configure_threads(opt.threads, loader_workers=opt.num_threads).describe()}, "
          f"precision {opt.amp}")
    if distributed.world_size() > 1:
        print(f"[distributed] {distributed.world_size()} processes, global batch "
              f"{distributed.world_size() * opt.batch_size}")
    seed_everything(opt.seed)
    try:
        trainer = Trainer(opt)
        # The crops' side sets the scale at which the model saw people (anonymize.py's windows follow it).
        opt.source_crop_size = getattr(trainer.dataset.dataset, "source_side", None)
        if distributed.is_main_process():
            options.save_options(opt, Path(opt.checkpoints_dir) / opt.name, "train")
            if getattr(opt, "netG_silhouette_input", False):  # what anonymize.py draws whole-box silhouettes from
                ensure_run_bank(Path(opt.checkpoints_dir) / opt.name, opt.dataroot, opt.phase)
        trainer.run()
    except (DatasetError, CheckpointError, WeightsNotFoundError, UntrustedTorchScriptError,
            UnsupportedWeightsFormatError, SilhouetteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a read-only --checkpoints_dir
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
