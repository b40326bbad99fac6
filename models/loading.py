"""One call from a trained model on disk to a model ready for inference (device, network mode, precision).

    from models import load_model
    model = load_model("checkpoints/demo_psgan", epoch="best")   # a run folder: train_opt.json + best_net_G.pth
    model = load_model("weights/demo_psgan.pth")                  # a shipped model file + weights/demo_psgan.json
    model.set_input(batch)                                        # a data.Batch (data/batch.py)
    model.test()                                                  # model.fake_B, model.get_current_visuals()

The options are resolved as ``test.py`` resolves them (``options.run_options``); keyword overrides set any test
option (``crop_size=...``, ``netG_noise=...``). Weights are loaded with ``weights_only=True`` and every network
must fit its file exactly. ``eval_mode=False`` keeps the networks in train mode (BatchNorm batch statistics,
dropout on), test.py's and the original's default; ``eval_mode=True`` uses BatchNorm's running statistics and no
dropout. A model file records the mode it was measured in (``network_mode`` in its JSON, written by
``scripts/export_model.py --network_mode``); ``eval_mode=None`` (the default) uses that mode for a model file and
train mode for a run folder. A model file may also record the box-edge feather it was measured with (``blend_px``,
``scripts/export_model.py --blend_px``; ``recorded_blend_px``), which ``anonymize.py`` uses unless told otherwise.

The options layer sits above the model registry (it asks the registry for each model's flags), so this module
imports it inside the functions rather than at import time; see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path
from typing import Any

import torch

from models.base_model import BaseModel
from models.networks.inference import prepack_inference_networks
from util.precision import Precision, choose_amp

Device = str | torch.device

# How a generator runs at test time: train (per-image BatchNorm statistics, dropout on: the original's default) or
# eval (BatchNorm running statistics, no dropout).
NETWORK_MODES = ("train", "eval")


def gpu_ids_for(device: Device) -> str:
    """The ``--gpu_ids`` value of a device: ``cpu`` -> -1, ``cuda`` -> 0, ``cuda:N`` -> N."""
    device = torch.device(device)
    if device.type == "cpu":
        return "-1"
    if device.type == "cuda":
        return str(device.index or 0)
    raise ValueError(f"device {device}: only cpu and cuda are supported")


def load_model(source: str | Path, epoch: str | int = "latest", *, device: Device = "cpu",
               eval_mode: bool | None = None, amp: str = "none", quiet: bool = False, **overrides: Any) -> BaseModel:
    """The model of a run folder (``<checkpoints_dir>/<name>``, weights ``<epoch>_net_<G>.pth``) or of a shipped
    model file (``<stem>.pth`` with ``<stem>.json``; ``epoch`` is not used), ready for inference. ``eval_mode``
    None: the model file's recorded network mode, train mode for a run folder.

    Raises ``options.OptionsError`` for missing or invalid options and ``models.CheckpointError`` for missing or
    mismatching weights; both messages name the file."""
    from options import model_file_options, run_options

    source = Path(source)
    settings = {"gpu_ids": gpu_ids_for(device), "quiet": True, **overrides}
    if source.is_file():
        if eval_mode is None:
            eval_mode = recorded_network_mode(source) == "eval"
        return ready_model(model_file_options(source, **settings), eval_mode=eval_mode, amp=amp, quiet=quiet,
                           model_file=source)
    return ready_model(run_options(source, epoch=str(epoch), **settings), eval_mode=bool(eval_mode), amp=amp,
                       quiet=quiet)


def recorded_network_mode(model_file: str | Path) -> str:
    """The network mode a model file ``<stem>.pth`` is meant to run in: ``network_mode`` in ``<stem>.json``
    (``train`` when the file does not record one, as files exported before the mode was recorded)."""
    from options import OptionsError
    from options.test_options import load_training_options

    saved_path = Path(model_file).with_suffix(".json")
    mode = load_training_options(saved_path).get("network_mode", "train")
    if mode not in NETWORK_MODES:
        raise OptionsError(f"{saved_path}: network_mode {mode!r} is not one of {', '.join(NETWORK_MODES)}")
    return mode


def recorded_blend_px(model_file: str | Path) -> int:
    """The box-edge feather (``anonymize.py --blend_px``) a model file ``<stem>.pth`` was measured with:
    ``blend_px`` in ``<stem>.json`` (0, a hard paste, when the file does not record one)."""
    from options import OptionsError
    from options.test_options import load_training_options

    saved_path = Path(model_file).with_suffix(".json")
    feather = load_training_options(saved_path).get("blend_px", 0)
    if isinstance(feather, bool) or not isinstance(feather, int) or feather < 0:
        raise OptionsError(f"{saved_path}: blend_px {feather!r} is not a whole number of pixels >= 0")
    return feather


def untrained_model(*, device: Device = "cpu", eval_mode: bool = False, amp: str = "none", quiet: bool = True,
                    prepack: bool = True, **options: Any) -> BaseModel:
    """A test-time model with freshly initialised weights, built from keyword options: for benchmarks (timing)
    and tests only — its outputs mean nothing."""
    from options.test_options import TestOptions

    opt = TestOptions(training_options={}).parse_keywords(**{"gpu_ids": gpu_ids_for(device), "quiet": True, **options})
    return ready_model(opt, eval_mode=eval_mode, amp=amp, quiet=quiet, load_weights=False, prepack=prepack)


def ready_model(opt: argparse.Namespace, *, eval_mode: bool = False, amp: str = "none", quiet: bool = False,
                model_file: Path | None = None, load_weights: bool = True, prepack: bool = True) -> BaseModel:
    """Build the model of resolved test options, load its generators (from the run folder, or ``model_file``),
    set the network mode and the precision of its forward passes (``amp``: none, bf16, fp16 or auto; an explicit
    bf16 that this CPU runs slower warns once). ``prepack``: the generators' convolution weights are reordered for
    oneDNN once instead of on every forward (models/networks/inference.py; same results, same state dict)."""
    from models import create_model

    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        model = create_model(opt)
        model.setup(load_weights=load_weights and model_file is None)
        if model_file is not None:
            model.load_model_file(model_file)
    if eval_mode:
        model.eval()
    else:
        model.train()
    model.precision = Precision(choose_amp(amp, model.device.type == "cuda"), model.device)
    if prepack:
        prepack_inference_networks(model)
    return model


def export_model_file(run: str | Path, epoch: str, out: str | Path, half: bool = True,
                      network_mode: str = "train", blend_px: int = 0) -> Path:
    """Write a run's generators as a shipped model file: ``out`` (``<stem>.pth``, the state dict of the only
    generator or ``{name: state dict}``; the moving average ``<G>_ema`` when the run kept one; fp16 with ``half``)
    and ``<stem>.json`` (the run's training options, which ``load_model(out)`` resolves like ``test.py``, and the
    ``network_mode`` the file runs in by default, and the ``blend_px`` feather anonymize.py pastes its boxes with by
    default); a run with ``--netG_silhouette_input`` also gets its silhouette bank beside the file
    (``data.silhouettes.bank_path``). A run started with ``--init_from`` also records the options of the run it
    started from (``exported_from.initialised_from``)."""
    if network_mode not in NETWORK_MODES:
        raise ValueError(f"network_mode {network_mode!r}: choose one of {', '.join(NETWORK_MODES)}")
    if blend_px < 0:
        raise ValueError(f"blend_px {blend_px}: a feather is a whole number of pixels >= 0")
    import json

    from options.test_options import load_training_options
    from util.fileio import atomic_write, atomic_write_text, torch_writer

    run, out = Path(run), Path(out)
    model = load_model(run, epoch=epoch, quiet=True)
    states = {}
    for name in model.inference_networks():
        state = model.network(name).state_dict()
        states[name] = {key: (value.half() if half and value.is_floating_point() else value).contiguous()
                        for key, value in state.items()}
    atomic_write(out, torch_writer(states[name] if len(states) == 1 else states))
    saved = json.loads((run / "train_opt.json").read_text(encoding="utf-8"))
    saved["exported_from"] = {"run": str(run), "epoch": str(epoch), "fp16": half}
    if saved.get("init_from"):  # a fine-tune: the run it started from is part of how the weights were made
        base = Path(saved["init_from"])
        if base.is_file():  # a shipped model file: its options lie beside it
            saved["exported_from"]["initialised_from"] = {"model_file": str(base),
                                                          "options": load_training_options(base.with_suffix(".json"))}
        else:
            saved["exported_from"]["initialised_from"] = {"run": str(base), "epoch": str(saved.get("epoch", "latest")),
                                                          "options": load_training_options(base / "train_opt.json")}
    saved["network_mode"] = network_mode
    saved["blend_px"] = blend_px
    if saved.get("netG_silhouette_input"):  # the strangers' silhouettes anonymize.py paints whole boxes with
        from data.silhouettes import bank_path, load_bank

        load_bank(bank_path(run)).save(bank_path(out))
    atomic_write_text(out.with_suffix(".json"), json.dumps(saved, indent=1, sort_keys=True) + "\n")
    return out
