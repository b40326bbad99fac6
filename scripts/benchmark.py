"""Named benchmarks behind one registry; results print as JSON.

    python scripts/benchmark.py [--only NAME[,NAME]] [--repeats N] [--out FILE.json] [--list]

To add one, decorate a function ``(repeats: int) -> dict`` with ``@register("name")``; it returns its figures
(medians over the repeats, in seconds or per second, named with their unit). Each run also records the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from any folder
    sys.path.insert(0, str(ROOT))

Benchmark = Callable[[int], dict]
BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str) -> Callable[[Benchmark], Benchmark]:
    """Add a benchmark to the registry under ``name``."""

    def add(fn: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} registered twice")
        BENCHMARKS[name] = fn
        return fn

    return add


def machine() -> dict:
    """Where the figures were measured."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "usable_cores": cores,
        "python": platform.python_version(),
    }


# ----------------------------------------------------------------------------------------------- benchmarks

PREPROCESS_FRAMES = 40
CITYSCAPES_TRAINVAL_FRAMES = 3475


@register("preprocess_cityscapes")
def preprocess_cityscapes(repeats: int) -> dict:
    """Frames/s of data_preprocessing.cityscapes on 2048×1024 demo frames, with 1 and 2 workers.

    Also the projected time for the 3,475 Cityscapes train+val frames.
    """
    from data_preprocessing.cityscapes import PreprocessConfig, build_dataset

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "cityscapes")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "data_preprocessing.make_demo_data",
                "--out",
                str(root),
                "--frames",
                str(PREPROCESS_FRAMES),
                "--seed",
                "0",
                "--size",
                "2048x1024",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        figures: dict = {"frames": PREPROCESS_FRAMES, "frame_size": "2048x1024"}
        for workers in (1, 2):
            seconds = []
            for repeat in range(repeats):
                config = PreprocessConfig(
                    str(root),
                    str(Path(tmp, f"out_{workers}_{repeat}")),
                    workers=workers,
                    quiet=True,
                    source_splits=("train", "val", "test"),
                )
                start = time.perf_counter()
                manifest = build_dataset(config)
                seconds.append(time.perf_counter() - start)
            median = statistics.median(seconds)
            figures[f"workers_{workers}"] = {
                "median_s": round(median, 3),
                "frames_per_s": round(PREPROCESS_FRAMES / median, 2),
                "projected_3475_frames_s": round(CITYSCAPES_TRAINVAL_FRAMES * median / PREPROCESS_FRAMES, 1),
                "runs_s": [round(s, 3) for s in seconds],
            }
        total = manifest["counts"]["total"]
        figures["persons_annotated"], figures["crops_kept"] = total["annotated"], total["kept"]
    return figures


@register("psgan_iteration")
def psgan_iteration(repeats: int) -> dict:
    """psgan s/iteration at the README settings: default vs faithful update order, batch 8, peak memory."""
    from scripts.bench_models import bench_psgan

    return bench_psgan(max(repeats, 3))


@register("progan_iteration")
def progan_iteration(repeats: int) -> dict:
    """progan s/iteration at the README settings, stage 1 and stage 2."""
    from scripts.bench_models import bench_progan

    return bench_progan(max(repeats, 3))


ANONYMIZE_PERSONS = 12


@register("anonymize_frame")
def anonymize_frame_benchmark(repeats: int) -> dict:
    """s/frame of anonymize.py on a 2048×1024 demo frame with 12 pedestrians: GAN at the README psgan settings
    (unet_256, ngf 64, mask input, decoder noise; random weights), batch 8, fp32 and --amp; each traditional method.
    """
    import torch

    from anonymizer.annotations import Person, load_annotations
    from anonymizer.frame import Settings, anonymize_frame
    from anonymizer.generator import WindowGenerator, random_model
    from anonymizer.methods import TRADITIONAL_METHODS
    from data_preprocessing import make_demo_data
    from util.image_files import read_rgb

    with tempfile.TemporaryDirectory() as tmp:
        make_demo_data.main(["--out", tmp, "--frames", "3", "--size", "2048x1024", "--seed", "0", "--quiet"])
        index = load_annotations(Path(tmp, "gtBboxCityPersons"))
        frames = sorted(Path(tmp, "leftImg8bit").rglob("*.png"))
        best = max(frames, key=lambda f: sum(p.label == "pedestrian" for p in index.lookup(Path(f.name)).persons))
        image = read_rgb(best)
    persons = [p for p in index.lookup(Path(best.name)).persons if p.label == "pedestrian"][:ANONYMIZE_PERSONS]
    # Top up with pedestrian-sized boxes along the sidewalk if the frame has fewer than 12.
    for k in range(ANONYMIZE_PERSONS - len(persons)):
        x = 80 + 170 * k
        persons.append(Person((x, 560, x + 60, 760), "pedestrian"))
    people = list(enumerate(persons))
    figures: dict = {"frame": "2048x1024", "persons": len(people), "torch_threads": torch.get_num_threads()}

    def timed(settings: Settings, generator) -> float:
        _, records = anonymize_frame(image, people, settings, generator, "bench.png")  # warm-up
        figures[f"persons_by_{settings.method}"] = sum(r["method"] == settings.method for r in records)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            anonymize_frame(image, people, settings, generator, "bench.png")
            seconds.append(time.perf_counter() - start)
        return round(statistics.median(seconds), 3)

    readme = {"model": "psgan", "netG": "unet_256", "ngf": 64, "netG_mask_input": True, "netG_noise": "decoder",
              "bbox_noise": "none"}
    for label, amp in (("gan_fp32_s", False), ("gan_amp_bf16_s", True)):
        generator = WindowGenerator(random_model(readme), amp=amp)
        figures[label] = timed(Settings(method="gan", batch_size=8), generator)
    generator = WindowGenerator(random_model(readme, eval_mode=True))
    figures["gan_fp32_eval_s"] = timed(Settings(method="gan", batch_size=8), generator)
    for method in TRADITIONAL_METHODS:
        figures[f"{method}_s"] = timed(Settings(method=method), None)
    return figures


def detection_args(**overrides) -> argparse.Namespace:
    """anonymize.py's detection options with their defaults (builtin detector, persons)."""
    from anonymizer.cli import build_parser

    args = build_parser().parse_args(["-i", "x", "-o", "y", "--method", "blur"])
    args.detector = "builtin"
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def demo_frame(size: str) -> np.ndarray:
    """The demo frame with the most pedestrians among 3 of this size (seed 0)."""
    from anonymizer.annotations import load_annotations
    from data_preprocessing import make_demo_data
    from util.image_files import read_rgb

    with tempfile.TemporaryDirectory() as tmp:
        make_demo_data.main(["--out", tmp, "--frames", "3", "--size", size, "--seed", "0", "--quiet"])
        index = load_annotations(Path(tmp, "gtBboxCityPersons"))
        frames = sorted(Path(tmp, "leftImg8bit").rglob("*.png"))
        best = max(frames, key=lambda f: sum(p.label == "pedestrian" for p in index.lookup(Path(f.name)).persons))
        return read_rgb(best)


@register("detect_frame")
def detect_frame(repeats: int) -> dict:
    """s/frame of the built-in pedestrian detector + blur on a 2048×1024 demo frame (anonymize.py's per-frame
    work without file I/O), at --min_person_height 50 (default), 100 and 200; CPU seconds beside wall seconds."""
    import torch

    from anonymizer import detectors
    from anonymizer.actions import FrameProcessor, Thresholds
    from anonymizer.frame import Settings

    image = demo_frame("2048x1024")
    figures: dict = {"frame": "2048x1024", "torch_threads": torch.get_num_threads()}
    for height in (50, 100, 200):
        args = detection_args(min_person_height=height)
        (detector,) = detectors.build_detectors(args)
        processor = FrameProcessor([detector], Thresholds(0.5, 0.3), Settings(method="blur"), None)
        _, entry = processor(image, "bench.png")  # warm-up
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            processor(image, "bench.png")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        figures[f"min_height_{height}"] = {"tiles": len(detector.tiles(2048, 1024)),
                                           "detect_and_blur_s": round(statistics.median(walls), 3),
                                           "cpu_s": round(statistics.median(cpus), 3),
                                           "persons": len(entry["persons"])}
    return figures


@register("video_fps")
def video_fps(repeats: int) -> dict:
    """Frames/s of anonymize.py on a 768×576 H.264 clip (30 frames of a demo scene): built-in detector + blur,
    tracking on, decoding and encoding included; also per CPU second (all threads), which a shared machine does
    not distort."""
    import av

    from anonymizer import detectors
    from anonymizer.actions import FrameProcessor, Thresholds
    from anonymizer.frame import Settings
    from anonymizer.tracking import IoUTracker
    from anonymizer.video import anonymize_video

    image = demo_frame("768x576")
    frames = 30
    figures: dict = {"clip": "768x576", "frames": frames}
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp, "clip.mp4")
        with av.open(str(clip), "w") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
            for k in range(frames):
                moved = np.roll(image, 4 * k, axis=1)  # the scene pans: every frame differs
                for packet in stream.encode(av.VideoFrame.from_ndarray(moved, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        (detector,) = detectors.build_detectors(detection_args())
        processor = FrameProcessor([detector], Thresholds(0.5, 0.3), Settings(method="blur"), None)
        rates, cpu_rates = [], []
        for k in range(repeats):
            tracker = IoUTracker()
            start, cpu = time.perf_counter(), time.process_time()
            anonymize_video(clip, Path(tmp, f"out{k}.mp4"), lambda img, i, t=tracker: processor(img, "clip", i, t),
                            (), quiet=True)
            rates.append(frames / (time.perf_counter() - start))
            cpu_rates.append(frames / (time.process_time() - cpu))
        figures["fps"] = round(statistics.median(rates), 3)
        figures["frames_per_cpu_second"] = round(statistics.median(cpu_rates), 3)
        figures["tiles_per_frame"] = len(detector.tiles(768, 576))
    return figures


@register("training_throughput")
def training_throughput(repeats: int) -> dict:
    """Training images/s and peak memory: psgan/progan, batch 1/8/32, fp32/bf16, 1 process and torchrun."""
    from scripts.bench_models import bench_person_batching, bench_training_throughput

    # Batch 32 at 256 px is slow on a CPU: 2 timed iterations after 1 warm-up, whatever --repeats says.
    figures = bench_training_throughput(min(repeats, 2))
    figures["person_batching_batch8"] = bench_person_batching(min(repeats, 2))
    return figures


# ------------------------------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/benchmark.py", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in BENCHMARKS.items():
            print(f"{name}: {(fn.__doc__ or '').split(chr(10))[0]}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown or args.repeats < 1:
        parser.error(
            f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}" if unknown else "--repeats must be >= 1"
        )
    results = {"machine": machine(), "repeats": args.repeats, "benchmarks": {}}
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        results["benchmarks"][name] = BENCHMARKS[name](args.repeats)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
