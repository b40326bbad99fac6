"""Model benchmarks, registered in scripts/benchmark.py: seconds per training iteration on synthetic batches.

``bench_psgan(repeats)`` times one psgan iteration at the thesis README single-stage settings (unet_256, ngf 64,
mask input, decoder noise, pools of 50, batch 1, 256 px): the default order and the faithful order interleaved in
one process (so their ratio is not skewed by the machine's load changing), and the default order at batch 8.
Peak memory of each configuration comes from a separate process (``python scripts/bench_models.py psgan-peak``).

``bench_progan(repeats)`` times one progan iteration (set_input + optimize_parameters) at the thesis README
settings: unet_128 G1 + unet_256 diff-map G2 (ngf 64, mask inputs, decoder noise), n_layers-2 D_image1, basic
D_image2, spp_128 / spp person Ds, batch 1, 256 px, one 40 x 120 person box.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
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


# The README single-stage training command (SPEC_ORIGINAL §2.5), minus the data and schedule flags.
PSGAN_README_FLAGS = [
    "--model", "psgan", "--preprocess", "resize_crop_contrast", "--lr", "0.0002", "--clip_value", "100",
    "--netG", "unet_256", "--netG_mask_input", "--netG_noise", "decoder", "--pool_size_image", "50",
    "--pool_size_person", "50",
]


def synthetic_batch(batch_size: int, size: int = 256, seed: int = 0) -> dict:
    """A psgan batch: random images with the box grey-filled in A; boxes shifted per sample so sizes differ."""
    generator = torch.Generator().manual_seed(seed)
    real = torch.rand(batch_size, 3, size, size, generator=generator) * 2 - 1
    boxes = torch.tensor([[BOX[0] + 4 * i, BOX[1], BOX[2] + 6 * i, BOX[3] - 2 * i] for i in range(batch_size)])
    filled = real.clone()
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        filled[i, :, y1:y2, x1:x2] = 0.0
    return {"A": filled, "B": real, "bbox": boxes, "A_paths": ["synthetic.png"] * batch_size}


def build_model(flags: list[str]):
    """A training-mode model on the CPU from command-line flags."""
    from models import create_model
    from options.train_options import TrainOptions

    opt = TrainOptions().parse(["--dataroot", "unused", "--gpu_ids", "-1", "--quiet", *flags])
    torch.manual_seed(opt.seed)
    return create_model(opt)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not carry the parent's peak
    over fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_psgan(repeats: int = 5) -> dict:
    """psgan seconds per iteration: default vs faithful update order (ratio), and batch 8; peak memory."""
    default = build_model([*PSGAN_README_FLAGS, "--update_order", "default"])
    faithful = build_model([*PSGAN_README_FLAGS, "--update_order", "faithful"])
    batch = synthetic_batch(1)
    times: dict[str, list[float]] = {"default": [], "faithful": []}
    for i in range(WARMUP_ITERATIONS + repeats):
        for name, model in (("default", default), ("faithful", faithful)):
            elapsed = seconds_per_iteration(model, batch, 1, warmup=0)[0]
            if i >= WARMUP_ITERATIONS:
                times[name].append(elapsed)
    del default, faithful
    batch8 = seconds_per_iteration(build_model([*PSGAN_README_FLAGS, "--batch_size", "8"]), synthetic_batch(8),
                                   repeats)
    medians = {name: statistics.median(values) for name, values in times.items()}
    figures: dict = {"settings": "README single-stage, 256 px, box about 40x120", "threads": torch.get_num_threads()}
    for name in ("default", "faithful"):
        figures[f"batch1_{name}"] = {"median_s_per_iter": round(medians[name], 4),
                                     "runs_s": [round(t, 4) for t in times[name]],
                                     "peak_rss_mb": peak_memory_of("default" if name == "default" else "faithful", 1)}
    figures["faithful_over_default"] = round(medians["faithful"] / medians["default"], 3)
    figures["batch8_default"] = {"median_s_per_iter": round(statistics.median(batch8), 4),
                                 "images_per_s": round(8 / statistics.median(batch8), 3),
                                 "runs_s": [round(t, 4) for t in batch8],
                                 "peak_rss_mb": peak_memory_of("default", 8)}
    return figures


def peak_memory_of(order: str, batch_size: int) -> float:
    """Peak resident memory (MB) of three iterations of one configuration, measured in a fresh process."""
    result = subprocess.run([sys.executable, __file__, "psgan-peak", order, str(batch_size)], check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def psgan_peak(order: str, batch_size: int) -> dict:
    model = build_model([*PSGAN_README_FLAGS, "--update_order", order, "--batch_size", str(batch_size)])
    seconds_per_iteration(model, synthetic_batch(batch_size), 1)
    return {"peak_rss_mb": round(peak_rss_mb(), 1)}


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
    model = build_model([*PROGAN_README_FLAGS, *(extra or [])])
    model.set_batches_per_epoch(1)
    return model


def seconds_per_iteration(model, batch: dict, repeats: int, warmup: int = WARMUP_ITERATIONS) -> list[float]:
    """Wall time of ``repeats`` iterations after ``warmup`` untimed ones."""
    times = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        model.set_input(batch)
        model.optimize_parameters()
        if i >= warmup:
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
    if sys.argv[1:2] == ["psgan-peak"]:
        print(json.dumps(psgan_peak(sys.argv[2], int(sys.argv[3]))))
    else:
        print(json.dumps(bench_progan(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
