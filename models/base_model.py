"""The life cycle every model shares: set-up, schedulers, checkpoints, resumable state, losses and visuals."""

from __future__ import annotations

import argparse
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from data.batch import Batch
from models import checkpoint_set
from models.checkpoint_set import CheckpointError
from models.networks import count_parameters, get_scheduler
from util import distributed
from util.cli import one_line
from util.fileio import torch_writer
from util.precision import Precision, resolve_amp, to_float


def resolve_device(gpu_ids: list[int]) -> torch.device:
    """The first requested GPU, or the CPU when none is requested or CUDA is absent (said once).

    Under torchrun a GPU run uses the GPU of the process's local rank (one process per GPU)."""
    if not gpu_ids:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        print(f"[device] CUDA is not available; running on the CPU (--gpu_ids {','.join(map(str, gpu_ids))} "
              "ignored, pass --gpu_ids -1 to silence this)")
        return torch.device("cpu")
    if distributed.launched_by_torchrun():
        torch.cuda.set_device(distributed.local_rank())
        return torch.device(f"cuda:{distributed.local_rank()}")
    missing = [i for i in gpu_ids if i >= torch.cuda.device_count()]
    if missing:
        raise ValueError(f"--gpu_ids: GPU {missing} requested but only {torch.cuda.device_count()} visible")
    torch.cuda.set_device(gpu_ids[0])
    return torch.device(f"cuda:{gpu_ids[0]}")


class BaseModel:
    """Subclasses set the name lists in __init__ and implement set_input, forward and optimize_parameters."""

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.isTrain = opt.isTrain
        self.device = resolve_device(opt.gpu_ids)
        self.save_dir = Path(opt.checkpoints_dir) / opt.name
        self.loss_names: list[str] = []
        self.model_names: list[str] = []
        self.visual_names: list[str] = []
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: list[Any] = []
        self.image_paths: list[str] = []
        amp = getattr(opt, "amp", "none")
        self.precision = Precision(resolve_amp(amp, self.device.type == "cuda"), self.device)
        # One loss scaler per optimizer (fp16 only), created in setup().
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self.channels_last = bool(getattr(opt, "channels_last", False))

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        return parser

    @staticmethod
    def small_input_size(opt: argparse.Namespace) -> int | None:
        """Side of the down-scaled copy of each crop the model also takes (``Batch.small``), or None. The options
        resolve it into ``opt.small_input_size`` and the dataset follows it; a ValueError explains a bad setting."""
        return None

    @staticmethod
    def option_problem(opt: argparse.Namespace) -> str | None:
        """Why these options cannot build the model (flags that contradict each other), or None. The options report
        it as a usage error naming the flags; the model's constructor raises it as a ValueError."""
        return None

    # -- to be implemented --------------------------------------------------------------------------------
    def set_input(self, batch: Batch) -> None:
        raise NotImplementedError

    def forward(self) -> None:
        raise NotImplementedError

    def optimize_parameters(self) -> None:
        raise NotImplementedError

    def training_networks(self) -> list[str]:
        """Names of the networks that are saved as training state (all by default)."""
        return list(self.model_names)

    def inference_networks(self) -> list[str]:
        """Names of the networks needed to produce outputs (the generators)."""
        return [name for name in self.model_names if name.startswith("G")]

    # -- hooks for multi-stage models (train.py calls them; one-stage models keep the defaults) -------------
    def set_batches_per_epoch(self, batches: int) -> None:
        """Told once by the trainer, before training: optimizer steps per epoch (a stage schedule needs it)."""

    def current_stage(self) -> int:
        """The training stage of the most recent step; `best` is tracked per stage (the tracker restarts
        when this changes)."""
        return 1

    def best_prefixes(self) -> list[str]:
        """Checkpoint prefixes written when validation finds a new best in the current stage."""
        return ["best"]

    # -- set-up -------------------------------------------------------------------------------------------
    def network(self, name: str) -> nn.Module:
        return getattr(self, f"net{name}")

    def run_network(self, name: str, *inputs: torch.Tensor) -> Any:
        """A network's forward under the model's autocast; floating outputs come back as fp32 (losses in fp32)."""
        if self.channels_last:
            inputs = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in inputs)
        with self.precision.autocast():
            out = self.network(name)(*inputs)
        return to_float(out)

    def setup(self, load_weights: bool = True) -> None:
        """Create schedulers; load weights for testing or when continuing (unless ``load_weights`` is False: the
        caller loads them from elsewhere, e.g. a shipped model file)."""
        opt = self.opt
        if self.isTrain:
            self.schedulers = [
                get_scheduler(optimizer, opt.lr_policy, opt.n_epochs, opt.n_epochs_decay, opt.epoch_count,
                              opt.lr_decay_iters)
                for optimizer in self.optimizers.values()]
            self.scalers = {name: scaler for name in self.optimizers
                            if (scaler := self.precision.make_scaler()) is not None}
        if self.channels_last:
            for name in self.model_names:
                self.network(name).to(memory_format=torch.channels_last)  # in place: optimizers keep their params
        if load_weights and (not self.isTrain or opt.continue_train):
            self.load_networks(self.checkpoint_prefix(), self.training_networks() if self.isTrain
                               else self.inference_networks())
        elif load_weights and getattr(opt, "init_from", None):
            source = Path(opt.init_from)
            if source.is_file():
                self.init_from_model_file(source)
            else:
                self.load_networks(self.checkpoint_prefix(), self.training_networks(), source)
        if self.isTrain and distributed.is_distributed():
            self.distribute()
        self.print_networks(opt.verbose)

    def distribute(self) -> None:
        """Under torchrun: optional SyncBatchNorm, then every rank starts from rank 0's weights and buffers."""
        for name in self.model_names:
            if getattr(self.opt, "sync_bn", False):
                setattr(self, f"net{name}", distributed.convert_sync_batchnorm(self.network(name)))
            distributed.broadcast_module(self.network(name))

    def checkpoint_prefix(self) -> str:
        return f"iter_{self.opt.load_iter}" if self.opt.load_iter > 0 else str(self.opt.epoch)

    def print_networks(self, verbose: bool) -> None:
        print("---------- Networks initialized -------------")
        for name in self.model_names:
            net = self.network(name)
            if verbose:
                print(net)
            print(f"[Network {name}] Total number of parameters : {count_parameters(net) / 1e6:.3f} M "
                  f"({count_parameters(net):,})")
        print("-----------------------------------------------")

    def eval(self) -> None:
        for name in self.model_names:
            self.network(name).eval()

    def train(self) -> None:
        for name in self.model_names:
            self.network(name).train()

    def test(self) -> None:
        """Forward without gradients (the caller decides train or eval mode)."""
        with torch.no_grad():
            self.forward()

    @staticmethod
    def set_requires_grad(nets: list[nn.Module | None], requires_grad: bool) -> None:
        for net in nets:
            if net is not None:
                for param in net.parameters():
                    param.requires_grad_(requires_grad)

    # -- reporting ----------------------------------------------------------------------------------------
    def get_current_visuals(self) -> OrderedDict[str, torch.Tensor]:
        return OrderedDict((name, getattr(self, name)) for name in self.visual_names
                           if getattr(self, name, None) is not None)

    def get_current_losses(self) -> OrderedDict[str, float]:
        return OrderedDict((name, float(getattr(self, f"loss_{name}"))) for name in self.loss_names)

    def get_image_paths(self) -> list[str]:
        return self.image_paths

    def current_lr(self) -> float:
        return next(iter(self.optimizers.values())).param_groups[0]["lr"]

    def update_learning_rate(self, metric: float = 0.0) -> tuple[float, float]:
        """Step every scheduler once (end of an epoch); returns (old, new) learning rate."""
        old_lr = self.current_lr()
        with warnings.catch_warnings():
            # A multi-stage model leaves some optimizers idle for a whole stage; their schedules still advance.
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
            for scheduler in self.schedulers:
                if self.opt.lr_policy == "plateau":
                    scheduler.step(metric)
                else:
                    scheduler.step()
        return old_lr, self.current_lr()

    # -- checkpoints --------------------------------------------------------------------------------------
    def network_path(self, prefix: str, name: str) -> Path:
        return self.save_dir / f"{prefix}_net_{name}.pth"

    def save_networks(self, prefix: str | int) -> None:
        """``<prefix>_net_<Net>.pth``: a CPU state dict of each training network, saved as one set."""
        self.save_checkpoint(prefix)

    def save_checkpoint(self, prefix: str | int, progress: dict[str, Any] | None = None,
                        ranks: list[Any] | None = None) -> None:
        """The networks and, given the loop ``progress``, ``<prefix>_state.pth`` (optimizers, schedulers, pools, RNG
        states and progress; ``ranks`` holds every rank's own RNG and pools in a distributed run, rank 0's are also
        the top-level ones), written as one set (``models/checkpoint_set.py``): never half old, half new."""
        files = {}
        for name in self.training_networks():
            # contiguous: a plain layout whatever --channels_last did to the live weights
            state = {key: value.detach().cpu().contiguous() for key, value in self.network(name).state_dict().items()}
            files[self.network_path(str(prefix), name).name] = torch_writer(state)
        if progress is not None:
            state = {"model": self.training_state(), "progress": progress}
            if ranks is not None:
                state["ranks"] = ranks
            files[self.state_path(prefix).name] = torch_writer(state)
        checkpoint_set.save(self.save_dir, str(prefix), files)

    def load_networks(self, prefix: str | int, names: list[str], folder: Path | None = None) -> None:
        """Load ``names`` from ``<prefix>_net_<Net>.pth`` in this run's folder (or ``folder``, another run's: the
        start of a fine-tune); any missing or mismatching file is an error."""
        folder = self.save_dir if folder is None else folder
        for name in names:
            path = folder / self.network_path(str(prefix), self.checkpoint_network_name(str(prefix), name)).name
            if not path.is_file():
                raise CheckpointError(f"{path}: checkpoint not found ({self.available_prefixes_text(folder)})")
            checkpoint_set.verify(folder, str(prefix), path.name)
            self.load_network_state(name, self.read_checkpoint(path), path)
            print(f"[checkpoint] loaded {path}")

    def checkpoint_network_name(self, prefix: str, name: str) -> str:
        """The saved network whose weights network ``name`` loads (itself unless a model says otherwise)."""
        return name

    def read_checkpoint(self, path: Path) -> Any:
        try:
            return torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
            raise CheckpointError(f"{path}: cannot be read as a checkpoint ({one_line(error)})") from None

    def load_network_state(self, name: str, state: Any, path: Path) -> None:
        """Put ``state`` (read from ``path``) into network ``name``; an error names the file when it does not fit."""
        net = self.network(name)
        problems = state_dict_mismatch(net, state) if isinstance(state, dict) else "not a state dict"
        if problems:
            raise CheckpointError(f"{path}: does not match the network built from the options "
                                  f"({problems}); check --netG/--ngf/--norm/--netG_mask_input/--netG_noise/"
                                  "--netG_silhouette_input")
        net.load_state_dict(state)

    def init_from_model_file(self, path: Path) -> None:
        """Start a fine-tune from a shipped model file: its generators; every other network keeps its fresh
        initialisation (a model with more generators than the file, e.g. moving averages, says so)."""
        self.load_model_file(path)
        print(f"[checkpoint] loaded the generators of {path}; the discriminators start fresh")

    def load_model_file(self, path: Path, names: list[str] | None = None) -> None:
        """Load the generators (``names``, default the inference networks) from one shipped file: the state
        dict of the only one, or a dict ``{network name: state dict}`` holding every one (e.g. progan's G1, G2)."""
        names = self.inference_networks() if names is None else names
        state = self.read_checkpoint(path)
        if isinstance(state, dict) and set(state) == set(names) and all(isinstance(v, dict) for v in state.values()):
            for name in names:
                self.load_network_state(name, state[name], path)
        elif len(names) == 1:
            self.load_network_state(names[0], state, path)
        else:
            raise CheckpointError(f"{path}: a {self.opt.model} model file must hold a dict with the state dicts of "
                                  f"{', '.join(names)}")
        print(f"[checkpoint] loaded {path}")

    def available_prefixes_text(self, folder: Path | None = None) -> str:
        folder = self.save_dir if folder is None else folder
        prefixes = sorted({p.name.split("_net_")[0] for p in folder.glob("*_net_*.pth")})
        return f"available: {', '.join(prefixes)}" if prefixes else f"no checkpoints in {folder}"

    # -- resumable training state -------------------------------------------------------------------------
    def state_path(self, prefix: str | int) -> Path:
        return self.save_dir / f"{prefix}_state.pth"

    def training_state(self) -> dict[str, Any]:
        """Everything besides the weights that an exact resume needs; subclasses add their pools."""
        state = {
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": [scheduler.state_dict() for scheduler in self.schedulers],
        }
        if self.scalers:
            state["scalers"] = {name: scaler.state_dict() for name, scaler in self.scalers.items()}
        return state

    def load_training_state(self, state: dict[str, Any]) -> None:
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for scheduler, scheduler_state in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(scheduler_state)
        # A run saved without fp16 (or resumed without it) keeps or starts the scalers fresh.
        for name, scaler_state in state.get("scalers", {}).items():
            if name in self.scalers:
                self.scalers[name].load_state_dict(scaler_state)

    # Per-rank parts of the training state (pools); every rank keeps its own, rank 0's are also in the model state.
    def rank_training_state(self) -> dict[str, Any]:
        return {}

    def load_rank_training_state(self, state: dict[str, Any] | None) -> None:
        """Restore this rank's own part, or (None) start it fresh for a rank the saved run did not have."""

    def load_state(self, prefix: str | int) -> dict[str, Any]:
        """Restore the state saved with ``save_checkpoint``; returns the loop progress dict."""
        path = self.state_path(prefix)
        if not path.is_file():
            raise CheckpointError(f"{path}: training state not found; --continue_train needs the state file "
                                  f"written with the weights ({self.available_prefixes_text()})")
        checkpoint_set.verify(self.save_dir, str(prefix), path.name)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.load_training_state(state["model"])
            progress = state["progress"]
            self.saved_ranks = state.get("ranks")
        except Exception as error:  # noqa: BLE001 - a truncated or foreign file: one line, never a traceback
            raise CheckpointError(f"{path}: cannot be read as a training state ({one_line(error)})") from None
        return progress


def state_dict_mismatch(net: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """A short description of how ``state`` differs from ``net``'s own state dict ('' when it fits)."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong_shape = sorted(key for key in set(own) & set(state) if own[key].shape != state[key].shape)
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong_shape)):
        if keys:
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            parts.append(f"{label}: {shown}")
    return "; ".join(parts)
