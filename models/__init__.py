"""Model registry, as in pix2pix: ``models/<name>_model.py`` holds the class ``<Name>Model``.

A new model is one file: the class provides ``modify_commandline_options(parser, is_train)`` for its flags.
``load_model(run_folder_or_model_file, epoch)`` returns a trained model ready for inference (models/loading.py).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

from models.base_model import BaseModel, CheckpointError
from models.loading import gpu_ids_for, load_model, ready_model, untrained_model

__all__ = ["BaseModel", "CheckpointError", "available_models", "create_model", "find_model_using_name",
           "get_option_setter", "gpu_ids_for", "load_model", "ready_model", "untrained_model"]

OptionSetter = Callable[[argparse.ArgumentParser, bool], argparse.ArgumentParser]


def available_models() -> list[str]:
    """Names of the model modules ``models/<name>_model.py`` (the shared base is not a model)."""
    folder = Path(__file__).resolve().parent
    return sorted(p.stem[: -len("_model")] for p in folder.glob("*_model.py") if p.stem != "base_model")


def find_model_using_name(model_name: str) -> type:
    """The class ``<Name>Model`` from ``models/<name>_model.py``."""
    try:
        module = importlib.import_module(f"models.{model_name}_model")
    except ModuleNotFoundError as error:
        if error.name == f"models.{model_name}_model":
            raise ValueError(f"--model {model_name}: no such model (models/{model_name}_model.py)") from None
        raise
    class_name = model_name.replace("_", "") + "model"
    for name, cls in vars(module).items():
        if name.lower() == class_name and isinstance(cls, type):
            return cls
    raise ValueError(f"models/{model_name}_model.py defines no class named {class_name} (case-insensitive)")


def get_option_setter(model_name: str) -> OptionSetter:
    return find_model_using_name(model_name).modify_commandline_options


def create_model(opt: argparse.Namespace) -> BaseModel:
    """Instantiate the model named by ``opt.model``."""
    model = find_model_using_name(opt.model)(opt)
    print(f"model [{type(model).__name__}] was created")
    return model
