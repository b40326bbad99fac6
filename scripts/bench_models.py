"""Model benchmarks, registered in scripts/benchmark.py: seconds per training iteration on synthetic batches.

Every function takes ``(repeats, budget)`` and follows scripts/bench_timing.py: configurations that are compared
run interleaved in one process (their ratios are the robust result), repeats shrink to fit the time budget.

``bench_psgan`` times one psgan iteration at the thesis README single-stage settings (unet_256, ngf 64, mask input,
decoder noise, pools of 50, 256 px, one ~40 x 120 person box): default and faithful update order at batch 1 and
the default order at batch 8, interleaved; the peak memory of each configuration comes from a fresh process
(``python scripts/bench_models.py psgan-peak``) while the budget allows.

``bench_progan`` times progan iterations at the thesis README two-stage settings (unet_128 G1 + unet_256
diff-map G2, ngf 64, mask inputs, decoder noise, n_layers-2 / basic image Ds, spp_128 / spp person Ds, batch 1,
256 px): stage 1 and stage 2 (after its D-only pretraining) interleaved on one model.

``bench_training_throughput`` measures training images/s of psgan and progan (stage 2) at batch 1 and 8 (32 when
the budget holds it), fp32 and, where the CPU has native bf16, bf16 autocast, all interleaved in one process
(ratios against fp32 batch 1 of the same model); a 2-process torchrun run (gloo, each process 1 thread on 2 cores)
and CUDA configurations run in subprocesses when the budget holds them (boxes random, 40-100 x 120-250 px).

``bench_person_batching`` times a psgan step at batch 8 for each ``--person_batching`` scheme, interleaved.

``bench_generator_upsample`` times a psgan step at the demo model's sizes (64 px, unet_64, ngf/ndf 32, batch 4)
for each ``--netG_upsample`` mode, interleaved, with the generator's forward + backward alone;
``bench_inpaint_generator`` the same for ``--netG inpaint`` (ngf 32, 40 and 48) against unet_64.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # importable when run as a plain script from any folder
    sys.path.insert(0, str(ROOT))

from scripts.bench_timing import Budget, figure, interleaved, ratio, time_once  # noqa: E402
from util.precision import cpu_info, native_bf16  # noqa: E402

# The thesis README's two-stage training command, minus the data and schedule flags.
PROGAN_README_OPTIONS = {
    "model": "progan", "load_size": 286, "crop_size": 256, "batch_size": 1, "lr": 0.00012, "clip_value": 10.0,
    "lambda_L1": 80.0, "lambda_L1_stage_2": 80.0, "stage_1_epochs": 100, "pretrain_iters_stage_2": 1000,
    "netG": "unet_128", "netG2": "unet_256", "netG_mask_input": True, "netG2_mask_input": True,
    "netG_noise": "decoder", "unet_diff_map": True, "netD_image": "n_layers", "n_layers_D": 2,
    "netD2_image": "basic", "netD_person": "spp_128", "netD2_person": "spp",
}
BOX = (108, 68, 148, 188)  # x1, y1, x2, y2 at 256 px: a 40 x 120 pedestrian


# The thesis README's single-stage training command, minus the data and schedule flags.
PSGAN_README_OPTIONS = {
    "model": "psgan", "preprocess": "resize_crop_contrast", "lr": 0.0002, "clip_value": 100.0, "netG": "unet_256",
    "netG_mask_input": True, "netG_noise": "decoder", "pool_size_image": 50, "pool_size_person": 50,
}


def synthetic_batch(batch_size: int, size: int = 256, seed: int = 0, small: bool = False,
                    boxes: list[tuple[int, int, int, int]] | None = None):
    """Random images with the boxes grey-filled in the input (default boxes: shifted per sample so sizes differ);
    ``small``: with the half-size part progan takes."""
    from data.batch import make_batch

    generator = torch.Generator().manual_seed(seed)
    real = torch.rand(batch_size, 3, size, size, generator=generator) * 2 - 1
    if boxes is None:
        boxes = [(BOX[0] + 4 * i, BOX[1], BOX[2] + 6 * i, BOX[3] - 2 * i) for i in range(batch_size)]
    filled = real.clone()
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        filled[i, :, y1:y2, x1:x2] = 0.0
    return make_batch(filled, real, boxes, ["synthetic.png"] * batch_size, small_size=size // 2 if small else None,
                      crop_size=size, rngs=[np.random.default_rng(seed)] * batch_size)


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


def iteration(model, batch) -> None:
    model.set_input(batch)
    model.optimize_parameters()


def bench_psgan(repeats: int, budget: Budget) -> dict:
    """psgan s/iteration: default vs faithful update order and batch 8, interleaved; peak memory per configuration."""
    started = time.perf_counter()
    configs = {"batch1_default": (build_model(PSGAN_README_OPTIONS, update_order="default"), synthetic_batch(1)),
               "batch1_faithful": (build_model(PSGAN_README_OPTIONS, update_order="faithful"), synthetic_batch(1)),
               "batch8_default": (build_model(PSGAN_README_OPTIONS, batch_size=8), synthetic_batch(8))}
    build_s = (time.perf_counter() - started) / len(configs)
    timings = interleaved({name: lambda m=m, b=b: iteration(m, b) for name, (m, b) in configs.items()},
                          repeats, budget)
    del configs
    figures: dict = {"settings": "README single-stage, 256 px, box about 40x120"}
    for name in timings.wall:
        batch = 8 if name.startswith("batch8") else 1
        figures[name] = figure(timings, name, repeats, "fp32", images_per_s=round(batch / timings.median(name), 3))
    medians = {name: timings.median(name) for name in timings.wall}
    cpu = {name: figures[name]["cpu_median_s"] for name in medians}
    figures["faithful_over_default"] = ratio(medians["batch1_faithful"], medians["batch1_default"])
    figures["faithful_over_default_cpu"] = ratio(cpu["batch1_faithful"], cpu["batch1_default"])
    figures["batch8_over_batch1_images_per_s"] = ratio(8 / medians["batch8_default"], 1 / medians["batch1_default"])
    figures["batch8_over_batch1_images_per_cpu_s"] = ratio(8 / cpu["batch8_default"], 1 / cpu["batch1_default"])
    for name, median in medians.items():
        order, batch = name.split("_")[1], 8 if name.startswith("batch8") else 1
        needed = 2 * build_s + 2 * median  # a fresh process: imports, build, one iteration
        figures[name]["peak_rss_mb"] = (peak_memory_of(order, batch) if budget.fits(needed)
                                        else f"skipped: about {needed:.0f} s needed, {budget.left():.0f} s left")
    return figures


def peak_memory_of(order: str, batch_size: int) -> float:
    """Peak resident memory (MB) of one iteration of one configuration, measured in a fresh process."""
    result = subprocess.run([sys.executable, __file__, "psgan-peak", order, str(batch_size)], check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def psgan_peak(order: str, batch_size: int) -> dict:
    model = build_model(PSGAN_README_OPTIONS, update_order=order, batch_size=batch_size)
    iteration(model, synthetic_batch(batch_size))
    return {"peak_rss_mb": round(peak_rss_mb(), 1)}


def build_progan(**extra):
    """A training-mode progan at the README settings, on the CPU, told it has one batch per epoch."""
    model = build_model(PROGAN_README_OPTIONS, **extra)
    model.set_batches_per_epoch(1)
    return model


def seconds_per_iteration(model, batch, repeats: int, warmup: int = 1) -> list[float]:
    """Wall time of ``repeats`` iterations after ``warmup`` untimed ones (one configuration in a process)."""
    times = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        iteration(model, batch)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def bench_progan(repeats: int, budget: Budget) -> dict:
    """progan s/iteration, stage 1 (G1 at 128 px) and stage 2 after its D-only pretraining, interleaved."""
    model = build_progan()
    batch = synthetic_batch(1, boxes=[BOX], small=True)
    stage_2_step = model.stage_1_steps + model.opt.pretrain_iters_stage_2  # G2 steps from here on

    def stage(steps_done: int, expected: int):
        def run() -> None:
            model.steps_done = steps_done
            iteration(model, batch)
            assert model.current_stage() == expected
        return run

    timings = interleaved({"stage_1": stage(0, 1), "stage_2": stage(stage_2_step, 2)}, repeats, budget)
    figures: dict = {"settings": "README two-stage, batch 1, 256 px, box 40x120"}
    for name in timings.wall:
        figures[name] = figure(timings, name, repeats, "fp32")
    figures["stage_2_over_stage_1"] = ratio(figures["stage_2"]["median_s"], figures["stage_1"]["median_s"])
    figures["stage_2_over_stage_1_cpu"] = ratio(figures["stage_2"]["cpu_median_s"], figures["stage_1"]["cpu_median_s"])
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


def training_batch(model_name: str, batch_size: int, size: int = 256, seed: int = 0):
    """A psgan or progan training batch: random images, random boxes grey-filled in the input."""
    boxes = random_boxes(batch_size, size, torch.Generator().manual_seed(seed))
    return synthetic_batch(batch_size, size, seed, small=model_name == "progan",
                           boxes=[tuple(box) for box in boxes.tolist()])


def measure_throughput(model_name: str, batch_size: int, amp: str, repeats: int, device: str = "cpu") -> dict:
    """One configuration in this process (joins the torchrun group when launched by torchrun): s/iteration,
    images/s of the global batch, peak memory."""
    from util import distributed
    from util.threads import configure_threads

    on_cuda = device == "cuda"
    configure_threads()  # under torchrun: usable cores / local processes
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
              "peak_rss_mb_per_process": round(peak_rss_mb(), 1),
              "precision": "fp32" if model.opt.amp == "none" else model.opt.amp, "threads": torch.get_num_threads()}
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
    result = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def throughput_model(model_name: str, batch_size: int, amp: str):
    """A CPU training model and batch for one throughput configuration (progan: in stage 2, G2 trained)."""
    options = PSGAN_README_OPTIONS if model_name == "psgan" else PROGAN_README_OPTIONS
    model = build_model(options, batch_size=batch_size, amp=amp)
    model.set_batches_per_epoch(1)
    model.setup()
    if model_name == "progan":
        model.steps_done = model.stage_1_steps + model.opt.pretrain_iters_stage_2
    return model, training_batch(model_name, batch_size)


def bench_training_throughput(repeats: int, budget: Budget) -> dict:
    """Training images/s per model, batch size and precision, interleaved per model (ratios against fp32 batch 1);
    batch 32, torchrun and CUDA when the budget holds them."""
    info = cpu_info()
    amps = ["none", "bf16"] if native_bf16(info) else ["none"]
    figures: dict = {"settings": "README flags, 256 px, random boxes 40-100 x 120-250; progan = stage 2 (G2 trained)",
                     "skipped": []}
    if "bf16" not in amps:
        figures["skipped"].append(f"bf16 on the CPU: no native bf16 ({info['model']}, {' '.join(info['flags'])}); "
                                  "--amp auto picks fp32 here")
    models = ("psgan", "progan")
    for index, model_name in enumerate(models):
        share = Budget(budget.left() / (len(models) - index) - 5)  # split what is left between the models
        batches = [1, 8]
        configs = {f"{amp}/batch{b}": (amp, b) for amp in amps for b in batches}
        built = {key: throughput_model(model_name, b, amp) for key, (amp, b) in configs.items()}
        timings = interleaved({key: lambda m=m, b=b: iteration(m, b) for key, (m, b) in built.items()}, repeats,
                              share)
        del built
        batch8 = timings.median("none/batch8")
        if share.fits(2 * 4 * batch8 + 10):  # batch 32: build, one warm-up and one timed iteration
            model, batch = throughput_model(model_name, 32, "none")
            iteration(model, batch)
            timings.add("none/batch32", *time_once(lambda m=model, b=batch: iteration(m, b)))
            configs["none/batch32"] = ("none", 32)
            del model
        else:
            figures["skipped"].append(f"{model_name} batch 32: about {8 * batch8:.0f} s needed, "
                                      f"{share.left():.0f} s left in the budget")
        base = 1 / timings.median("none/batch1")
        base_cpu = 1 / statistics.median(timings.cpu["none/batch1"])
        for key in timings.wall:
            amp, batch_size = configs[key]
            speed, per_cpu_s = batch_size / timings.median(key), batch_size / statistics.median(timings.cpu[key])
            figures[f"cpu/{model_name}/{key}"] = figure(
                timings, key, repeats, "bf16" if amp == "bf16" else "fp32", images_per_s=round(speed, 3),
                images_per_s_over_fp32_batch1=ratio(speed, base),
                images_per_cpu_s_over_fp32_batch1=ratio(per_cpu_s, base_cpu))
    torchrun_key = "cpu/psgan/none/batch2/torchrun2"
    psgan_b1 = figures["cpu/psgan/none/batch1"]["median_s"]
    if budget.fits(30 + 4 * psgan_b1):
        figures[torchrun_key] = throughput_in_subprocess("psgan", 1, "none", 1, processes=2)
        figures[torchrun_key]["note"] = ("2 processes x batch 1, each with 1 intra-op thread (util/threads.py); "
                                         "a separate process group, so compare with care")
    else:
        figures["skipped"].append(f"torchrun: about {30 + 4 * psgan_b1:.0f} s needed, {budget.left():.0f} s left")
    if torch.cuda.is_available():
        for model_name in models:
            for amp in ("none", "bf16"):
                for batch_size in (1, 8, 32):
                    key = f"cuda/{model_name}/{amp}/batch{batch_size}"
                    figures[key] = throughput_in_subprocess(model_name, batch_size, amp, repeats, device="cuda")
    else:
        figures["skipped"].append("cuda: no CUDA GPU on this machine")
    return figures


def bench_person_batching(repeats: int, budget: Budget, batch_size: int = 8) -> dict:
    """psgan step at batch 8 (README sizes) per --person_batching scheme, interleaved; also D_person alone."""
    batch = training_batch("psgan", batch_size)
    models = {mode: build_model(PSGAN_README_OPTIONS, batch_size=batch_size, person_batching=mode)
              for mode in ("per_sample", "grouped", "padded")}
    crops = [batch.B[i:i + 1, :, y1:y2, x1:x2] for i, (x1, y1, x2, y2) in enumerate(batch.boxes.tolist())]

    def person_d(model) -> None:
        predictions = model.person_predictions("D_person", crops)
        sum(logits.sum() for logits, _ in predictions).backward()

    actions = {}
    for mode, model in models.items():
        actions[f"{mode}/step"] = lambda m=model: iteration(m, batch)
        actions[f"{mode}/person_d_forward_backward"] = lambda m=model: person_d(m)
    timings = interleaved(actions, repeats, budget)
    figures: dict = {"batch": batch_size, "boxes": batch.boxes.tolist()}
    for key in timings.wall:
        figures[key] = figure(timings, key, repeats, "fp32")
    step = {mode: figures[f"{mode}/step"]["median_s"] for mode in models}
    figures["step_over_per_sample"] = {mode: ratio(value, step["per_sample"]) for mode, value in step.items()}
    return figures


# The demo model's networks (scripts/demo_model_recipe.sh), without its losses: what differs is only G's decoder.
DEMO_OPTIONS = {"model": "psgan", "crop_size": 64, "load_size": 64, "netG": "unet_64", "ngf": 32, "ndf": 32,
                "netG_mask_input": True, "netG_noise": "decoder", "pool_size_image": 50, "pool_size_person": 50}


def generator_step_figures(models: dict, repeats: int, budget: Budget, batch_size: int, reference: str) -> dict:
    """A psgan step at the demo sizes and G's forward + backward alone for each of ``models`` (the same networks
    but G), interleaved, with each variant's ratios against ``reference``."""
    batch = training_batch("psgan", batch_size, size=64)
    g_input = torch.randn(batch_size, 4, 64, 64)

    def generator_pass(model) -> None:
        model.netG(g_input).mean().backward()

    actions = {}
    for name, model in models.items():
        actions[f"{name}/step"] = lambda m=model: iteration(m, batch)
        actions[f"{name}/generator_forward_backward"] = lambda m=model: generator_pass(m)
    timings = interleaved(actions, repeats, budget)
    figures: dict = {"batch": batch_size, "crop": 64,
                     "generator_parameters": {name: sum(p.numel() for p in model.netG.parameters())
                                              for name, model in models.items()}}
    for key in timings.wall:
        figures[key] = figure(timings, key, repeats, "fp32")
    for name in models:
        if name != reference:
            for part in ("step", "generator_forward_backward"):
                figures[f"{name}_over_{reference}/{part}"] = ratio(timings.median(f"{name}/{part}"),
                                                                  timings.median(f"{reference}/{part}"))
    return figures


def bench_generator_upsample(repeats: int, budget: Budget, batch_size: int = 4) -> dict:
    """psgan step at the demo model's sizes per --netG_upsample mode, and G's forward + backward alone."""
    from models.networks import UPSAMPLE_MODES

    models = {mode: build_model(DEMO_OPTIONS, batch_size=batch_size, netG_upsample=mode) for mode in UPSAMPLE_MODES}
    return generator_step_figures(models, repeats, budget, batch_size, reference="transpose")


def bench_inpaint_generator(repeats: int, budget: Budget, batch_size: int = 4) -> dict:
    """psgan step at the demo model's sizes with the dilated inpainting G (ngf 32, and wider: what a candidate with
    more capacity would cost in the recipe's 2 hours) against the U-Net, and each G alone."""
    models = {netG: build_model(DEMO_OPTIONS, batch_size=batch_size, netG=netG) for netG in ("unet_64", "inpaint")}
    for ngf in (40, 48):
        models[f"inpaint_ngf{ngf}"] = build_model(DEMO_OPTIONS, batch_size=batch_size, netG="inpaint", ngf=ngf)
    return generator_step_figures(models, repeats, budget, batch_size, reference="unet_64")


# The shipped recipe's step (scripts/demo_model_recipe.sh) with its costly parts: the inpainting G, mode seeking's
# second G pass and the discriminators' augmentation (the silhouette channel and the L1 weights cost next to nothing).
DEMO_RECIPE_OPTIONS = {**DEMO_OPTIONS, "netG": "inpaint", "L1_box_weight": 0.1, "lambda_mode_seeking": 0.05,
                       "mode_seeking_pool": 4, "ema_decay": 0.998, "diff_augment": "translation,color,cutout"}
RESOLUTIONS = (64, 96, 128)


def bench_demo_resolution(repeats: int, budget: Budget, batch_size: int = 4) -> dict:
    """The recipe's psgan step at 64, 96 and 128 px crops (the same frame window, drawn at more pixels), interleaved,
    with each side's cost against 64 px: what the resolution lever of docs/results/demo_model/resolution_floor/
    costs in the recipe's 2 hours."""
    models = {side: build_model(DEMO_RECIPE_OPTIONS, batch_size=batch_size, crop_size=side, load_size=side)
              for side in RESOLUTIONS}
    batches = {side: training_batch("psgan", batch_size, size=side) for side in RESOLUTIONS}
    timings = interleaved({f"{side}px/step": (lambda m=model, b=batches[side]: iteration(m, b))
                           for side, model in models.items()}, repeats, budget)
    figures: dict = {"batch": batch_size}
    for key in timings.wall:
        figures[key] = figure(timings, key, repeats, "fp32")
    for side in RESOLUTIONS[1:]:
        figures[f"{side}px_over_64px/step"] = ratio(timings.median(f"{side}px/step"), timings.median("64px/step"))
    return figures


def bench_latent_branch(repeats: int, budget: Budget, batch_size: int = 4) -> dict:
    """psgan step at the demo model's sizes: decoder noise with mode seeking (its second G forward) against a
    latent code with the cVAE branch (an encoder forward and a second G forward with backward), interleaved."""
    batch = training_batch("psgan", batch_size, size=64)
    variants = {
        "mode_seeking": build_model(DEMO_OPTIONS, batch_size=batch_size, lambda_mode_seeking=0.05,
                                    mode_seeking_pool=4),
        "cvae": build_model(DEMO_OPTIONS, batch_size=batch_size, netG_noise="latent", lambda_vae_L1=10.0),
    }
    timings = interleaved({f"{name}/step": (lambda m=model: iteration(m, batch)) for name, model in variants.items()},
                          repeats, budget)
    figures: dict = {"batch": batch_size, "crop": 64,
                     "encoder_parameters": sum(p.numel() for p in variants["cvae"].netE.parameters())}
    for key in timings.wall:
        figures[key] = figure(timings, key, repeats, "fp32")
    figures["cvae_over_mode_seeking/step"] = ratio(timings.median("cvae/step"), timings.median("mode_seeking/step"))
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["throughput"]:
        name, batch_arg, amp_arg, repeats_arg, device_arg = sys.argv[2:7]
        print(json.dumps(measure_throughput(name, int(batch_arg), amp_arg, int(repeats_arg), device_arg)))
    elif sys.argv[1:2] == ["psgan-peak"]:
        print(json.dumps(psgan_peak(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.exit("usage: python scripts/bench_models.py throughput|psgan-peak ARGS (or run scripts/benchmark.py)")
