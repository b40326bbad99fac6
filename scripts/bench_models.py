"""Model benchmarks, registered in scripts/benchmark.py: seconds per training iteration on synthetic batches.

``bench_psgan(repeats)`` times one psgan iteration at the thesis README single-stage settings (unet_256, ngf 64,
mask input, decoder noise, pools of 50, batch 1, 256 px): the default order and the faithful order interleaved in
one process (so their ratio is not skewed by the machine's load changing), and the default order at batch 8.
Peak memory of each configuration comes from a separate process (``python scripts/bench_models.py psgan-peak``).

``bench_progan(repeats)`` times one progan iteration (set_input + optimize_parameters) at the thesis README
settings: unet_128 G1 + unet_256 diff-map G2 (ngf 64, mask inputs, decoder noise), n_layers-2 D_image1, basic
D_image2, spp_128 / spp person Ds, batch 1, 256 px, one 40 x 120 person box.

``bench_training_throughput(repeats)`` measures images/s and peak memory of psgan and progan (stage 2) training
steps at batch 1, 8 and 32, fp32 and bf16 autocast, each configuration in a fresh process (``throughput``
sub-command), single-process and under torchrun (2 gloo processes on the CPU, per-rank batch = batch / 2), and
on CUDA when a GPU is present (skipped with a note otherwise). Boxes are random, 40-100 x 120-250 px at 256 px.

``bench_person_batching(repeats)`` times a psgan step at batch 8 for each ``--person_batching`` scheme.
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
PROGAN_README_OPTIONS = {
    "model": "progan", "load_size": 286, "crop_size": 256, "batch_size": 1, "lr": 0.00012, "clip_value": 10.0,
    "lambda_L1": 80.0, "lambda_L1_stage_2": 80.0, "stage_1_epochs": 100, "pretrain_iters_stage_2": 1000,
    "netG": "unet_128", "netG2": "unet_256", "netG_mask_input": True, "netG2_mask_input": True,
    "netG_noise": "decoder", "unet_diff_map": True, "netD_image": "n_layers", "n_layers_D": 2,
    "netD2_image": "basic", "netD_person": "spp_128", "netD2_person": "spp",
}
BOX = (108, 68, 148, 188)  # x1, y1, x2, y2 at 256 px: a 40 x 120 pedestrian
WARMUP_ITERATIONS = 2


# The README single-stage training command (SPEC_ORIGINAL §2.5), minus the data and schedule flags.
PSGAN_README_OPTIONS = {
    "model": "psgan", "preprocess": "resize_crop_contrast", "lr": 0.0002, "clip_value": 100.0, "netG": "unet_256",
    "netG_mask_input": True, "netG_noise": "decoder", "pool_size_image": 50, "pool_size_person": 50,
}


def synthetic_batch(batch_size: int, size: int = 256, seed: int = 0) -> dict:
    """A psgan batch: random images with the box grey-filled in A; boxes shifted per sample so sizes differ."""
    generator = torch.Generator().manual_seed(seed)
    real = torch.rand(batch_size, 3, size, size, generator=generator) * 2 - 1
    boxes = torch.tensor([[BOX[0] + 4 * i, BOX[1], BOX[2] + 6 * i, BOX[3] - 2 * i] for i in range(batch_size)])
    filled = real.clone()
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        filled[i, :, y1:y2, x1:x2] = 0.0
    return {"A": filled, "B": real, "bbox": boxes, "A_paths": ["synthetic.png"] * batch_size}


def build_model(options: dict, **extra):
    """A training-mode model (on the CPU unless ``gpu_ids`` says otherwise) from keyword options."""
    from models import create_model
    from options.train_options import TrainOptions

    opt = TrainOptions().parse_keywords(**{"gpu_ids": "-1", "quiet": True, **options, **extra})
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
    default = build_model(PSGAN_README_OPTIONS, update_order="default")
    faithful = build_model(PSGAN_README_OPTIONS, update_order="faithful")
    batch = synthetic_batch(1)
    times: dict[str, list[float]] = {"default": [], "faithful": []}
    for i in range(WARMUP_ITERATIONS + repeats):
        for name, model in (("default", default), ("faithful", faithful)):
            elapsed = seconds_per_iteration(model, batch, 1, warmup=0)[0]
            if i >= WARMUP_ITERATIONS:
                times[name].append(elapsed)
    del default, faithful
    batch8 = seconds_per_iteration(build_model(PSGAN_README_OPTIONS, batch_size=8), synthetic_batch(8),
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
    model = build_model(PSGAN_README_OPTIONS, update_order=order, batch_size=batch_size)
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


def build_progan(**extra):
    """A training-mode progan at the README settings, on the CPU, told it has one batch per epoch."""
    model = build_model(PROGAN_README_OPTIONS, **extra)
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


def random_boxes(batch_size: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Boxes of 40-100 x 120-250 px at 256 px (scaled to ``size``), placed at random inside the image."""
    scale = size / 256
    rows = []
    for _ in range(batch_size):
        w = int(torch.randint(40, 101, (1,), generator=generator)) * scale
        h = int(torch.randint(120, 251, (1,), generator=generator)) * scale
        x1 = int(torch.randint(0, int(size - w) + 1, (1,), generator=generator))
        y1 = int(torch.randint(0, int(size - h) + 1, (1,), generator=generator))
        rows.append([x1, y1, x1 + int(w), y1 + int(h)])
    return torch.tensor(rows)


def training_batch(model_name: str, batch_size: int, size: int = 256, seed: int = 0) -> dict:
    """A psgan or progan training batch: random images, random boxes grey-filled in the input."""
    generator = torch.Generator().manual_seed(seed)

    def pair(side: int, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        real = torch.rand(batch_size, 3, side, side, generator=generator) * 2 - 1
        filled = real.clone()
        for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
            filled[i, :, y1:y2, x1:x2] = 0.0
        return filled, real

    boxes = random_boxes(batch_size, size, generator)
    filled, real = pair(size, boxes)
    paths = ["synthetic.png"] * batch_size
    if model_name == "psgan":
        return {"A": filled, "B": real, "bbox": boxes, "A_paths": paths}
    small_boxes = boxes // 2
    small_filled, small_real = pair(size // 2, small_boxes)
    return {"A_big": filled, "B_big": real, "bbox_big": boxes, "A_small": small_filled, "B_small": small_real,
            "bbox_small": small_boxes, "A_paths": paths, "B_paths": paths}


def measure_throughput(model_name: str, batch_size: int, amp: str, repeats: int, device: str = "cpu") -> dict:
    """One configuration in this process (joins the torchrun group when launched by torchrun): s/iteration,
    images/s of the global batch, peak memory."""
    from util import distributed

    on_cuda = device == "cuda"
    distributed.init_distributed(use_cuda=on_cuda)
    options = PSGAN_README_OPTIONS if model_name == "psgan" else PROGAN_README_OPTIONS
    model = build_model(options, batch_size=batch_size, amp=amp, gpu_ids="0" if on_cuda else "-1")
    model.set_batches_per_epoch(1)
    model.setup()
    if model_name == "progan":
        model.steps_done = model.stage_1_steps + model.opt.pretrain_iters_stage_2  # stage 2, G2 trained
    batch = training_batch(model_name, batch_size, seed=distributed.rank())
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    times = seconds_per_iteration(model, batch, repeats, warmup=1)
    if on_cuda:
        torch.cuda.synchronize()
    median = statistics.median(times)
    world = distributed.world_size()
    result = {"s_per_iter": round(median, 4), "images_per_s": round(batch_size * world / median, 3),
              "global_batch": batch_size * world, "processes": world, "repeats": repeats,
              "peak_rss_mb_per_process": round(peak_rss_mb(), 1)}
    if on_cuda:
        result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    distributed.destroy_distributed()
    return result


def throughput_in_subprocess(model_name: str, batch_size: int, amp: str, repeats: int, processes: int = 1,
                             device: str = "cpu") -> dict:
    """``measure_throughput`` in a fresh process (peak memory of that configuration alone), or under torchrun."""
    import os
    import socket

    args = [__file__, "throughput", model_name, str(batch_size), amp, str(repeats), device]
    env = dict(os.environ)
    if processes > 1:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        args = ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_addr", "127.0.0.1",
                "--master_port", str(port), *args]
        env["OMP_NUM_THREADS"] = str(max(1, torch.get_num_threads() // processes))
    result = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def bench_training_throughput(repeats: int = 2, batches: tuple[int, ...] = (1, 8, 32),
                              amps: tuple[str, ...] = ("none", "bf16"), torchrun_batches: tuple[int, ...] = (2, 8)
                              ) -> dict:
    """Images/s and peak memory, psgan and progan, per batch size and precision; single process and torchrun."""
    figures: dict = {"settings": "README flags, 256 px, random boxes 40-100 x 120-250, median of the repeats after "
                                 "1 warm-up iteration; progan = stage 2 (G2 trained)",
                     "repeats": repeats, "threads": torch.get_num_threads()}
    for device in ("cpu", "cuda"):
        if device == "cuda" and not torch.cuda.is_available():
            figures["cuda"] = "skipped: no CUDA GPU on this machine"
            continue
        for model_name in ("psgan", "progan"):
            for amp in amps:
                for batch in batches:
                    key = f"{device}/{model_name}/{amp}/batch{batch}/1proc"
                    figures[key] = throughput_in_subprocess(model_name, batch, amp, repeats, device=device)
                    print(key, figures[key], file=sys.stderr)
            for batch in torchrun_batches if device == "cpu" else ():
                key = f"{device}/{model_name}/none/batch{batch}/torchrun2"
                figures[key] = throughput_in_subprocess(model_name, batch // 2, "none", repeats, processes=2)
                print(key, figures[key], file=sys.stderr)
    return figures


def bench_person_batching(repeats: int = 3, batch_size: int = 8) -> dict:
    """psgan step at batch 8 (README sizes) per --person_batching scheme, interleaved; also D_person alone."""
    batch = training_batch("psgan", batch_size)
    models = {mode: build_model(PSGAN_README_OPTIONS, batch_size=batch_size, person_batching=mode)
              for mode in ("per_sample", "grouped", "padded")}
    times: dict[str, list[float]] = {mode: [] for mode in models}
    for i in range(1 + repeats):
        for mode, model in models.items():
            elapsed = seconds_per_iteration(model, batch, 1, warmup=0)[0]
            if i > 0:
                times[mode].append(elapsed)
    figures: dict = {"batch": batch_size, "boxes": batch["bbox"].tolist(), "threads": torch.get_num_threads()}
    for mode, model in models.items():
        crops = [batch["B"][i:i + 1, :, y1:y2, x1:x2] for i, (x1, y1, x2, y2) in enumerate(batch["bbox"].tolist())]
        d_times = []
        for _ in range(1 + repeats):
            start = time.perf_counter()
            predictions = model.person_predictions("D_person", crops)
            sum(logits.sum() for logits, _ in predictions).backward()
            d_times.append(time.perf_counter() - start)
        figures[mode] = {"step_median_s": round(statistics.median(times[mode]), 3),
                         "person_d_fwd_bwd_median_s": round(statistics.median(d_times[1:]), 4)}
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["throughput"]:
        name, batch_arg, amp_arg, repeats_arg, device_arg = sys.argv[2:7]
        print(json.dumps(measure_throughput(name, int(batch_arg), amp_arg, int(repeats_arg), device_arg)))
    elif sys.argv[1:2] == ["person-batching"]:
        print(json.dumps(bench_person_batching(), indent=2))
    elif sys.argv[1:2] == ["psgan-peak"]:
        print(json.dumps(psgan_peak(sys.argv[2], int(sys.argv[3]))))
    else:
        print(json.dumps(bench_progan(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
