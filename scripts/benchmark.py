"""Named benchmarks behind one registry; results print as JSON.

    python scripts/benchmark.py [--only NAME[,NAME]] [--repeats N] [--budget_s 180] [--threads N] [--out FILE.json]
                                [--list]

Each benchmark keeps its items fixed (frames, people, batch sizes) and fits into ``--budget_s`` seconds (default
180, a 2-core CPU) by doing fewer repeats: every figure says how many repeats its median is of, and a configuration
that cannot fit at all is listed under "skipped" with the reason (scripts/bench_timing.py). Configurations that
are compared run interleaved in one process; their ratios are the figures that carry over between machines.
Every run records the machine (CPU model and ISA flags, torch's CPU capability and threads, what ``--amp auto``
picks, the load average when it started); every figure its precision and thread count.

To add a benchmark, decorate a function ``(repeats: int, budget: Budget) -> dict`` with ``@register("name")``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from any folder
    sys.path.insert(0, str(ROOT))

from scripts.bench_timing import DEFAULT_BUDGET_S, Budget, figure, interleaved, ratio  # noqa: E402
from util.fileio import atomic_write_json  # noqa: E402

Benchmark = Callable[[int, Budget], dict]
BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str) -> Callable[[Benchmark], Benchmark]:
    """Add a benchmark to the registry under ``name``."""

    def add(fn: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} registered twice")
        BENCHMARKS[name] = fn
        return fn

    return add


def machine(thread_plan: str) -> dict:
    """Where and how the figures were measured."""
    import torch

    from util.precision import cpu_info, resolve_amp
    from util.threads import usable_cores

    info = cpu_info()
    return {
        "cpu_model": info["model"],
        "cpu_flags": info["flags"],
        "torch_cpu_capability": info["torch_capability"],
        "usable_cores": usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "thread_plan": thread_plan,
        "amp_auto_on_cpu": resolve_amp("auto", on_cuda=False),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


# ----------------------------------------------------------------------------------------------- benchmarks

PREPROCESS_FRAMES = 40
CITYSCAPES_TRAINVAL_FRAMES = 3475


@register("preprocess_cityscapes")
def preprocess_cityscapes(repeats: int, budget: Budget) -> dict:
    """Frames/s of data_preprocessing.cityscapes on 2048×1024 demo frames, 1 and 2 workers interleaved.

    Also the projected time for the 3,475 Cityscapes train+val frames.
    """
    from data_preprocessing.cityscapes import PreprocessConfig, build_dataset

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "cityscapes")
        subprocess.run(
            [sys.executable, "-m", "synthetic.make_demo_data", "--out", str(root), "--frames",
             str(PREPROCESS_FRAMES), "--seed", "0", "--size", "2048x1024", "--quiet"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )
        manifests: list[dict] = []

        def run(workers: int) -> Callable[[], None]:
            def once() -> None:
                config = PreprocessConfig(str(root), str(Path(tmp, f"out_{len(manifests)}")), workers=workers,
                                          quiet=True, source_splits=("train", "val", "test"))
                manifests.append(build_dataset(config))
            return once

        timings = interleaved({"workers_1": run(1), "workers_2": run(2)}, repeats, budget)
    figures: dict = {"frames": PREPROCESS_FRAMES, "frame_size": "2048x1024"}
    for name in timings.wall:
        median = timings.median(name)
        figures[name] = figure(timings, name, repeats, "n/a (no torch)", digits=3, cpu=False,
                               frames_per_s=round(PREPROCESS_FRAMES / median, 2),
                               projected_3475_frames_s=round(CITYSCAPES_TRAINVAL_FRAMES * median / PREPROCESS_FRAMES,
                                                             1))
    figures["speedup_2_workers_over_1"] = ratio(timings.median("workers_1"), timings.median("workers_2"))
    total = manifests[-1]["counts"]["total"]
    figures["persons_annotated"], figures["crops_kept"] = total["annotated"], total["kept"]
    return figures


@register("psgan_iteration")
def psgan_iteration(repeats: int, budget: Budget) -> dict:
    """psgan s/iteration at the README settings: default vs faithful update order, batch 8, peak memory."""
    from scripts.bench_models import bench_psgan

    return bench_psgan(repeats, budget)


@register("progan_iteration")
def progan_iteration(repeats: int, budget: Budget) -> dict:
    """progan s/iteration at the README settings, stage 1 and stage 2."""
    from scripts.bench_models import bench_progan

    return bench_progan(repeats, budget)


ANONYMIZE_PERSONS = 12
PSGAN_ANONYMIZE_OPTIONS = {"model": "psgan", "netG": "unet_256", "ngf": 64, "netG_mask_input": True,
                           "netG_noise": "decoder", "bbox_noise": "none"}


def anonymize_scene(size: str = "2048x1024"):
    """A demo frame (2048×1024 unless ``size``) with 12 pedestrians (topped up with sidewalk boxes if it has fewer;
    the boxes are for 2048×1024)."""

    from anonymizer.annotations import Person, load_annotations
    from synthetic import make_demo_data
    from util.image_files import read_rgb

    with tempfile.TemporaryDirectory() as tmp:
        make_demo_data.main(["--out", tmp, "--frames", "3", "--size", size, "--seed", "0", "--quiet"])
        index = load_annotations(Path(tmp, "gtBboxCityPersons"))
        frames = sorted(Path(tmp, "leftImg8bit").rglob("*.png"))
        best = max(frames, key=lambda f: sum(p.label == "pedestrian" for p in index.lookup(Path(f.name)).persons))
        image = read_rgb(best)
    persons = [p for p in index.lookup(Path(best.name)).persons if p.label == "pedestrian"][:ANONYMIZE_PERSONS]
    for k in range(ANONYMIZE_PERSONS - len(persons)):
        x = 80 + 170 * k
        persons.append(Person((x, 560, x + 60, 760), "pedestrian"))
    return image, list(enumerate(persons))


@register("anonymize_frame")
def anonymize_frame_benchmark(repeats: int, budget: Budget) -> dict:
    """s/frame of anonymize.py on a 2048×1024 demo frame with 12 pedestrians: GAN at the README psgan settings
    (unet_256, ngf 64, mask input, decoder noise; random weights), batch 8 — train mode (default), eval mode,
    plain (not prepacked) convolutions for the speed-up, bf16 where the CPU has it natively, and the shipped demo
    generator (anonymize.py's default model) — interleaved; each traditional method.
    """
    from anonymizer.cli import SHIPPED_DEMO_MODEL
    from anonymizer.frame import Settings, anonymize_frame
    from anonymizer.generator import WindowGenerator, load_model_file, random_model
    from anonymizer.methods import TRADITIONAL_METHODS
    from util.precision import cpu_info, native_bf16

    image, people = anonymize_scene()
    figures: dict = {"frame": "2048x1024", "persons": len(people), "skipped": []}
    variants = {"gan_fp32": ("none", True), "gan_fp32_eval": ("none", True),
                "gan_fp32_plain_convolutions": ("none", False)}
    info = cpu_info()
    if native_bf16(info):
        variants["gan_bf16"] = ("bf16", True)
    else:
        figures["skipped"].append(f"gan_bf16: no native bf16 on this CPU ({info['model']}, "
                                  f"{' '.join(info['flags'])}); --amp auto runs fp32")
    generators = {name: WindowGenerator(random_model({**PSGAN_ANONYMIZE_OPTIONS, "amp": amp},
                                                     eval_mode=name.endswith("eval"), prepack=prepack))
                  for name, (amp, prepack) in variants.items()}
    # What `anonymize.py --method gan` runs when no model is named: the shipped demo generator.
    generators["gan_fp32_shipped_demo_model"] = WindowGenerator(load_model_file(SHIPPED_DEMO_MODEL))
    records: dict[str, list[dict]] = {}

    def frame(name: str, settings: Settings, generator) -> Callable[[], None]:
        return lambda: records.__setitem__(name, anonymize_frame(image, people, settings, generator, "bench.png")[1])

    gan = Settings(method="gan", batch_size=8)
    timings = interleaved({name: frame(name, gan, g) for name, g in generators.items()}, repeats, budget)
    for name in timings.wall:
        figures[name] = figure(timings, name, repeats, "bf16" if name == "gan_bf16" else "fp32", digits=3,
                               persons_by_gan=sum(r["method"] == "gan" for r in records[name]))
    figures["prepacked_speedup"] = ratio(timings.median("gan_fp32_plain_convolutions"), timings.median("gan_fp32"))
    figures["prepacked_speedup_cpu"] = ratio(figures["gan_fp32_plain_convolutions"]["cpu_median_s"],
                                             figures["gan_fp32"]["cpu_median_s"])
    del generators
    traditional = interleaved({method: frame(method, Settings(method=method), None)
                               for method in TRADITIONAL_METHODS}, repeats, budget)
    for method in traditional.wall:
        figures[method] = figure(traditional, method, repeats, "n/a (no network)", digits=3)
    return figures


def detection_args(**overrides) -> argparse.Namespace:
    """anonymize.py's detection options with their defaults (builtin detector, persons)."""
    from anonymizer.cli import build_parser

    args = build_parser().parse_args(["-i", "x", "-o", "y", "--method", "blur"])
    args.detector = "builtin"
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


@register("detect_frame")
def detect_frame(repeats: int, budget: Budget) -> dict:
    """s/frame of the built-in pedestrian detector + blur on a 2048×1024 demo frame (anonymize.py's per-frame
    work without file I/O) at --min_person_height 50 (default), 100 and 200, interleaved; CPU seconds beside."""
    from anonymizer import detectors
    from anonymizer.actions import FrameProcessor, Thresholds
    from anonymizer.frame import Settings

    image, _ = anonymize_scene()
    figures: dict = {"frame": "2048x1024"}
    runs, tiles, persons = {}, {}, {}
    for height in (50, 100, 200):
        name = f"min_height_{height}"
        (detector,) = detectors.build_detectors(detection_args(min_person_height=height))
        processor = FrameProcessor([detector], Thresholds(0.5, 0.3), Settings(method="blur"), None)
        tiles[name] = len(detector.tiles(image.shape[1], image.shape[0]))
        persons[name] = len(processor(image, "bench.png")[1]["persons"])
        runs[name] = lambda p=processor: p(image, "bench.png")
    timings = interleaved(runs, repeats, budget)
    for name in timings.wall:
        figures[name] = figure(timings, name, repeats, "fp32", digits=3, tiles=tiles[name], persons=persons[name])
    return figures


@register("video_fps")
def video_fps(repeats: int, budget: Budget) -> dict:
    """Frames/s of anonymize.py on a 768×576 H.264 clip (30 frames of a demo scene panning): built-in detector +
    blur, tracking on, decoding and encoding included; also frames per CPU second (all threads)."""
    import av

    from anonymizer import detectors
    from anonymizer.actions import FrameProcessor, Thresholds
    from anonymizer.cli import FRAME_FAILURES
    from anonymizer.frame import Settings
    from anonymizer.tracking import IoUTracker
    from anonymizer.video import anonymize_video

    image, _ = anonymize_scene("768x576")
    frames = 30
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp, "clip.mp4")
        with av.open(str(clip), "w") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
            for k in range(frames):
                moved = np.roll(image, 4 * k, axis=1)  # every frame differs
                for packet in stream.encode(av.VideoFrame.from_ndarray(moved, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        (detector,) = detectors.build_detectors(detection_args())
        processor = FrameProcessor([detector], Thresholds(0.5, 0.3), Settings(method="blur"), None)

        failed: list[int] = []

        def one_pass() -> None:  # as anonymize.py runs a video: a frame that fails is written grey and counted
            tracker = IoUTracker()
            entry = anonymize_video(clip, Path(tmp, "out.mp4"), lambda img, i: processor(img, "clip", i, tracker),
                                    FRAME_FAILURES, quiet=True)
            failed.append(entry["frames_failed"])

        timings = interleaved({"video": one_pass}, repeats, budget)
    result = figure(timings, "video", repeats, "fp32", digits=3, frames=frames,
                    tiles_per_frame=len(detector.tiles(768, 576)), frames_failed=max(failed))
    result["fps"] = round(frames / result["median_s"], 3)
    result["frames_per_cpu_second"] = round(frames / result["cpu_median_s"], 3)
    return {"clip": "768x576", **result}


@register("training_throughput")
def training_throughput(repeats: int, budget: Budget) -> dict:
    """Training images/s: psgan/progan, batch 1/8 (32 if it fits), fp32 (bf16 where native), torchrun, CUDA."""
    from scripts.bench_models import bench_training_throughput

    return bench_training_throughput(repeats, budget)


@register("person_batching")
def person_batching(repeats: int, budget: Budget) -> dict:
    """psgan step at batch 8 per --person_batching scheme (per_sample, grouped, padded), interleaved."""
    from scripts.bench_models import bench_person_batching

    return bench_person_batching(repeats, budget)


@register("generator_upsample")
def generator_upsample(repeats: int, budget: Budget) -> dict:
    """psgan step at the demo model's sizes (64 px, batch 4) per --netG_upsample mode, and G alone, interleaved."""
    from scripts.bench_models import bench_generator_upsample

    return bench_generator_upsample(repeats, budget)


@register("inpaint_generator")
def inpaint_generator(repeats: int, budget: Budget) -> dict:
    """psgan step at the demo model's sizes (64 px, batch 4): the dilated inpainting G against unet_64, and each G
    alone, interleaved."""
    from scripts.bench_models import bench_inpaint_generator

    return bench_inpaint_generator(repeats, budget)


@register("demo_resolution")
def demo_resolution(repeats: int, budget: Budget) -> dict:
    """The shipped recipe's psgan step at 64, 96 and 128 px crops (batch 4), interleaved, with ratios against 64 px."""
    from scripts.bench_models import bench_demo_resolution

    return bench_demo_resolution(repeats, budget)


@register("latent_branch")
def latent_branch(repeats: int, budget: Budget) -> dict:
    """psgan step at the demo model's sizes: mode seeking (decoder noise) against the cVAE branch (latent code)."""
    from scripts.bench_models import bench_latent_branch

    return bench_latent_branch(repeats, budget)


# ------------------------------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/benchmark.py", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per measurement, fewer when the budget runs out; the median is reported")
    parser.add_argument("--budget_s", type=float, default=DEFAULT_BUDGET_S,
                        help="seconds each benchmark may take (warm-up included)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: util/threads.py's rule: OMP_NUM_THREADS, else cores)")
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in BENCHMARKS.items():
            print(f"{name}: {(fn.__doc__ or '').split(chr(10))[0]}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    if args.repeats < 1 or args.budget_s <= 0 or (args.threads is not None and args.threads < 1):
        parser.error("--repeats and --threads must be >= 1 and --budget_s > 0")
    from util.threads import configure_threads

    plan = configure_threads(args.threads)
    results = {"machine": machine(plan.describe()), "repeats": args.repeats, "budget_s": args.budget_s,
               "benchmarks": {}}
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        budget = Budget(args.budget_s)
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON result
            results["benchmarks"][name] = BENCHMARKS[name](args.repeats, budget)
        results["benchmarks"][name]["seconds_taken"] = round(args.budget_s - budget.left(), 1)
        print(json.dumps({name: results["benchmarks"][name]}), file=sys.stderr)
        if args.out:  # after every benchmark, so a run stopped half-way keeps what it measured
            atomic_write_json(args.out, results)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
