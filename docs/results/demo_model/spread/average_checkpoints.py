"""A one-off of the spread study (rule_epoch_selection.md, question 4), not part of the package: a model file whose
generator is the weight-by-weight mean of a run's kept moving-average generators.

    python docs/results/demo_model/spread/average_checkpoints.py RUN --epochs 16,18,20,22,24,26 --out F.pth

It exports the last listed epoch with scripts/export_model.py's code (eval mode, no feather, fp16), so the
options JSON and the silhouette bank are that epoch's, then replaces the weights with the mean of the listed
epochs' ``<epoch>_net_G_ema.pth`` (BatchNorm running statistics averaged too; the batch counters are the last
epoch's) and records the epochs in the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from models.loading import export_model_file  # noqa: E402
from util.fileio import atomic_write, atomic_write_text, torch_writer  # noqa: E402


def mean_state(files: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of the floating-point entries of several state dicts; other entries from the last."""
    states = [torch.load(path, map_location="cpu", weights_only=True) for path in files]
    keys = set(states[-1])
    for path, state in zip(files, states, strict=True):
        if set(state) != keys:
            raise SystemExit(f"{path}: its weights do not match {files[-1]}'s")
    return {key: (torch.stack([state[key] for state in states]).mean(dim=0)
                  if states[-1][key].is_floating_point() else states[-1][key])
            for key in states[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--epochs", required=True, help="comma-separated kept epochs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    epochs = [epoch.strip() for epoch in args.epochs.split(",")]
    files = [args.run / f"{epoch}_net_G_ema.pth" for epoch in epochs]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise SystemExit(f"not found: {', '.join(missing)}")
    export_model_file(args.run, epochs[-1], args.out, half=True, network_mode="eval", blend_px=0)
    averaged = {key: value.half() if value.is_floating_point() else value for key, value in mean_state(files).items()}
    atomic_write(args.out, torch_writer(averaged))
    options_path = args.out.with_suffix(".json")
    options = json.loads(options_path.read_text(encoding="utf-8"))
    options["exported_from"]["epoch"] = f"mean of {','.join(epochs)}"
    atomic_write_text(options_path, json.dumps(options, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}: the mean of epochs {', '.join(epochs)} of {args.run}")


if __name__ == "__main__":
    main()
