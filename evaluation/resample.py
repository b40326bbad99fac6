"""Re-run a trained generator K times per test crop (seeds seed + k) for the diversity metrics.

The model and dataset options are resolved as test.py resolves them (``options.run_options``: the network flags
from the run's train_opt.json), one sample at a time, in the BatchNorm/dropout mode that test.py recorded in
``test_info.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data import create_dataset
from evaluation.crops import EvaluationInputError
from models import ready_model
from options import OptionsError, run_options
from util.images import tensor_to_image
from util.progress import progress_bar
from util.seed import seed_everything


def network_mode_is_eval(results_dir: Path) -> bool:
    info = results_dir / "test_info.json"
    if not info.is_file():
        return False
    return str(json.loads(info.read_text()).get("network_mode", "")).startswith("eval")


def generate_samples(checkpoints_dir: Path, name: str, epoch: str, dataroot: Path, phase: str, stems: list[str],
                     k: int, seed: int, eval_mode: bool, quiet: bool = False, amp: str = "auto"
                     ) -> tuple[list[list[np.ndarray]], dict]:
    """``samples[i][j]``: the j-th composite (fake_B_display, uint8) of ``stems[i]``; and a description."""
    if not (checkpoints_dir / name).is_dir():
        raise EvaluationInputError(f"--checkpoints_dir/--name: {checkpoints_dir / name} not found")
    try:
        opt = run_options(checkpoints_dir / name, dataroot=str(dataroot), epoch=epoch, phase=phase, gpu_ids="-1",
                          num_threads=0, batch_size=1, serial_batches=True, no_flip=True, quiet=True,
                          eval=eval_mode)
    except OptionsError as error:
        raise EvaluationInputError(f"--checkpoints_dir/--name: {error}") from None
    items = create_dataset(opt).dataset
    index = {Path(s.path).stem: i for i, s in enumerate(items.samples)}
    missing = [s for s in stems if s not in index]
    if missing:
        raise EvaluationInputError(f"--dataroot/--phase {phase}: {len(missing)} result samples not in the dataset, "
                                   f"e.g. {missing[0]}")
    model = ready_model(opt, eval_mode=eval_mode, amp=amp)
    samples: list[list[np.ndarray]] = [[] for _ in stems]
    for j in range(k):
        seed_everything(seed + j)  # sample j of every input draws from seed + j
        for i, stem in enumerate(progress_bar(stems, desc=f"generate sample {j + 1}/{k}", quiet=quiet)):
            model.set_input(items[index[stem]])  # a batch of one
            model.test()
            samples[i].append(tensor_to_image(model.get_current_visuals()["fake_B_display"][0]))
    checkpoints = [str(model.network_path(model.checkpoint_prefix(), n)) for n in model.inference_networks()]
    return samples, {"k": k, "seeds": [seed + j for j in range(k)], "epoch": epoch, "checkpoints": checkpoints,
                     "network_mode": "eval" if eval_mode else "train (as test.py's default)",
                     "precision": model.precision.amp}
