"""Training flags: the original's names and defaults, plus validation, speed and scale."""

from __future__ import annotations

import argparse
from pathlib import Path

from models.networks import GAN_MODES, LR_POLICIES
from util.cli import number
from util.distributed import launched_by_torchrun, sync_batchnorm_possible
from util.precision import cuda_requested

from .base_options import BaseOptions


class TrainOptions(BaseOptions):
    is_train = True

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser = super().initialize(parser)
        display = parser.add_argument_group("display and logging")
        display.add_argument("--display_freq", type=number(int, minimum=1), default=400,
                             help="iterations between visual dumps")
        display.add_argument("--display_ncols", type=number(int, minimum=1), default=5, help="images per visdom row")
        display.add_argument("--display_id", type=int, default=0, help="visdom window id; 0 disables visdom")
        display.add_argument("--display_server", default="http://localhost", help="visdom server")
        display.add_argument("--display_env", default="main", help="visdom environment")
        display.add_argument("--display_port", type=number(int, minimum=1, maximum=65535), default=8097,
                             help="visdom port")
        display.add_argument("--update_html_freq", type=number(int, minimum=1), default=1000,
                             help="iterations between HTML saves")
        display.add_argument("--print_freq", type=number(int, minimum=1), default=100,
                             help="iterations between loss_log lines")
        display.add_argument("--no_html", action="store_true", help="do not write the training HTML pages")

        saving = parser.add_argument_group("saving and resuming")
        saving.add_argument("--save_val_freq", type=number(int, minimum=1), default=1,
                            help="epochs between validation runs (the last epoch is always validated)")
        saving.add_argument("--val_metric", default="fid", choices=("fid", "box_l1"),
                            help="what picks 'best': FID on val (falls back to box_l1, said in the log, when no "
                                 "Inception weights are found) or the mean L1 inside the box")
        saving.add_argument("--save_latest_freq", type=number(int, minimum=0), default=5000,
                            help="iterations between mid-epoch latest saves")
        saving.add_argument("--save_epoch_freq", type=number(int, minimum=1), default=100,
                            help="epochs between end-of-epoch saves under the epoch number")
        saving.add_argument("--save_by_iter", action="store_true", help="mid-epoch saves go to iter_<n>")
        saving.add_argument("--continue_train", action="store_true", help="resume from --epoch (or --load_iter)")
        saving.add_argument("--init_from", default=None, metavar="RUN_DIR|MODEL_FILE",
                            help="fine-tune: start every network from the weights of another run's checkpoint "
                                 "RUN_DIR/<--epoch>_net_*.pth (e.g. checkpoints/demo_people64 with --epoch best), "
                                 "or the generators from a shipped model file (e.g. models/shipped/demo_psgan.pth; "
                                 "the discriminators then start fresh), with fresh optimizers, learning-rate "
                                 "schedule and epoch count")
        saving.add_argument("--epoch_count", type=number(int, minimum=1), default=1, help="number of the first epoch")
        saving.add_argument("--phase", default="train", help="data sub-folder: train, val, test, ...")

        training = parser.add_argument_group("training")
        training.add_argument("--n_epochs", type=number(int, minimum=0), default=100,
                              help="epochs at the initial learning rate")
        training.add_argument("--n_epochs_decay", type=number(int, minimum=0), default=100,
                              help="epochs of linear decay to zero")
        training.add_argument("--beta1", type=number(minimum=0, below=1), default=0.5, help="Adam beta1")
        training.add_argument("--lr", type=number(above=0), default=0.0002, help="Adam learning rate of every network")
        training.add_argument("--gan_mode_image", default="lsgan", choices=GAN_MODES,
                              help="image discriminator objective")
        training.add_argument("--gan_mode_person", default="vanilla",
                              choices=(*GAN_MODES, "none"),
                              help="person discriminator objective")
        training.add_argument("--pool_size_image", type=number(int, minimum=0), default=0,
                              help="history of generated pairs shown to the image D (0: none)")
        training.add_argument("--pool_size_person", type=number(int, minimum=0), default=0,
                              help="history of generated person crops shown to the person D (0: none)")
        training.add_argument("--lr_policy", default="linear", choices=LR_POLICIES,
                              help="learning-rate schedule")
        training.add_argument("--lr_decay_iters", type=number(int, minimum=1), default=50,
                              help="epochs per step of the step policy")
        training.add_argument("--clip_value", type=number(above=0), default=100.0,
                              help="clamp every gradient element to [-clip_value, clip_value]")
        training.add_argument("--generator_steps", type=number(int, minimum=1), default=1,
                              help="G updates per iteration (progan)")
        training.add_argument("--person_disc_steps", type=number(int, minimum=1), default=1,
                              help="person D updates per iteration (progan)")
        training.add_argument("--disc_label_noise", type=number(minimum=0, below=1), default=0.0,
                              help="uniform +-noise on real/fake targets (lsgan)")

        scale = parser.add_argument_group("speed and scale (torchrun, mixed precision)")
        scale.add_argument("--channels_last", action="store_true",
                           help="channels-last memory format for networks and inputs (faster convs on GPUs)")
        scale.add_argument("--no_tf32", action="store_true", help="no TF32 matmuls/convolutions on Ampere+ GPUs")
        scale.add_argument("--deterministic", action="store_true",
                           help="deterministic algorithms, cuDNN deterministic and not benchmarking (slower; "
                                "ops without a deterministic kernel raise)")
        scale.add_argument("--sync_bn", action="store_true",
                           help="under torchrun on GPUs: BatchNorm statistics over the global batch")
        return parser

    def gan_modes(self, opt: argparse.Namespace) -> tuple[str, ...]:
        return (opt.gan_mode_image, opt.gan_mode_person, getattr(opt, "gan_mode_image2", ""),
                getattr(opt, "gan_mode_person2", ""))

    def finalise(self, opt: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        super().finalise(opt, parser)
        if opt.n_epochs + opt.n_epochs_decay < 1:
            parser.error("--n_epochs + --n_epochs_decay must be at least 1")
        if opt.init_from is not None and opt.continue_train:
            parser.error("--init_from starts a new run from another run's weights; --continue_train resumes this "
                         "run: give one of them")
        if opt.init_from is not None:
            source = Path(opt.init_from)
            if source.is_file() and not source.with_suffix(".json").is_file():
                parser.error(f"--init_from {source}: a model file needs its options beside it "
                             f"({source.with_suffix('.json')} not found)")
            if not source.exists():
                parser.error(f"--init_from {source}: no such run folder or model file")
        if getattr(opt, "diff_augment", "") and (getattr(opt, "EL_image", False) or getattr(opt, "EL_person", False)):
            # Feature matching compares D's view of a fake with its view of the same real crop, position by
            # position; independent random shifts would make the two views disagree.
            parser.error("--diff_augment cannot be combined with --EL_image or --EL_person")
        on_cuda = cuda_requested(opt.gpu_ids)
        if opt.sync_bn and sync_batchnorm_possible(on_cuda):
            parser.error(sync_batchnorm_possible(on_cuda))
        if opt.sync_bn and not launched_by_torchrun():
            print("[options] --sync_bn has no effect in a single process")
