"""Model benchmarks, registered in scripts/benchmark.py: seconds per training iteration on synthetic batches.

``bench_progan(repeats)`` times one progan iteration (set_input + optimize_parameters) at the thesis README
settings: unet_128 G1 + unet_256 diff-map G2 (ngf 64, mask inputs, decoder noise), n_layers-2 D_image1, basic
D_image2, spp_128 / spp person Ds, batch 1, 256 px, one 40 x 120 person box.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # importable when run as a plain script from any folder
    sys.path.insert(0, str(ROOT))

# The README two-stage training command (SPEC_ORIGINAL §2.5), minus the data and schedule flags.
PROGAN_README_FLAGS = [
    "--model", "progan", "--load_size", "286", "--crop_size", "256", "--batch_size", "1", "--lr", "0.00012",
    "--clip_value", "10", "--lambda_L1", "80", "--lambda_L1_stage_2", "80", "--stage_1_epochs", "100",
    "--pretrain_iters_stage_2", "1000", "--netG", "unet_128", "--netG2", "unet_256", "--netG_mask_input",
    "--netG2_mask_input", "--netG_noise", "decoder", "--unet_diff_map", "--netD_image", "n_layers",
    "--n_layers_D", "2", "--netD2_image", "basic", "--netD_person", "spp_128", "--netD2_person", "spp",
]
BOX = (108, 68, 148, 188)  # x1, y1, x2, y2 at 256 px: a 40 x 120 pedestrian
WARMUP_ITERATIONS = 2


def synthetic_progan_batch(size: int = 256, box: tuple[int, int, int, int] = BOX, seed: int = 0) -> dict:
    """A batch with the keys the aligned dataset gives progan: random images, the box grey-filled in A."""
    generator = torch.Generator().manual_seed(seed)
    small, half_box = size // 2, tuple(v // 2 for v in box)

    def image(side: int) -> torch.Tensor:
        return torch.rand(1, 3, side, side, generator=generator) * 2 - 1

    def filled(real: torch.Tensor, b: tuple[int, int, int, int]) -> torch.Tensor:
        out = real.clone()
        out[:, :, b[1]:b[3], b[0]:b[2]] = 0.0
        return out

    real_big, real_small = image(size), image(small)
    return {
        "A_big": filled(real_big, box), "B_big": real_big, "bbox_big": torch.tensor([box]),
        "A_small": filled(real_small, half_box), "B_small": real_small, "bbox_small": torch.tensor([half_box]),
        "A_paths": ["synthetic.png"], "B_paths": ["synthetic.png"],
    }


def build_progan(extra: list[str] | None = None):
    """A training-mode progan at the README settings, on the CPU, told it has one batch per epoch."""
    from models import create_model
    from options.train_options import TrainOptions

    opt = TrainOptions().parse(["--dataroot", "unused", "--gpu_ids", "-1", "--quiet", *PROGAN_README_FLAGS,
                                *(extra or [])])
    torch.manual_seed(opt.seed)
    model = create_model(opt)
    model.set_batches_per_epoch(1)
    return model


def seconds_per_iteration(model, batch: dict, repeats: int) -> list[float]:
    """Wall time of ``repeats`` iterations after WARMUP_ITERATIONS untimed ones."""
    times = []
    for i in range(WARMUP_ITERATIONS + repeats):
        start = time.perf_counter()
        model.set_input(batch)
        model.optimize_parameters()
        if i >= WARMUP_ITERATIONS:
            times.append(time.perf_counter() - start)
    return times


def bench_progan(repeats: int = 5) -> dict:
    """progan seconds per training iteration: stage 1 (G1 at 128 px) and stage 2 after its D-only pretraining."""
    model = build_progan()
    batch = synthetic_progan_batch()
    figures: dict = {"settings": "README two-stage, batch 1, 256 px, box 40x120", "threads": torch.get_num_threads()}
    model.steps_done = 0
    stage_1 = seconds_per_iteration(model, batch, repeats)
    assert model.current_stage() == 1
    model.steps_done = model.stage_1_steps + model.opt.pretrain_iters_stage_2  # G2 steps from here on
    stage_2 = seconds_per_iteration(model, batch, repeats)
    assert model.current_stage() == 2
    for name, times in (("stage_1", stage_1), ("stage_2", stage_2)):
        figures[name] = {"median_s_per_iter": round(statistics.median(times), 4),
                         "runs_s": [round(t, 4) for t in times]}
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(bench_progan(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
