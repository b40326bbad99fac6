"""``python anonymize.py``: anonymize every annotated person in full street frames (issue 7).

    python anonymize.py -i IMAGE_OR_FOLDER -a ANNOTATIONS -o OUT [--method gan|blur|pixelate|mask|noise]
        [--name EXP --epoch best --checkpoints_dir DIR] [--labels ...] [--box_kind full|visible]
        [--batch_size 8] [--device cpu|cuda] [--amp auto|bf16|fp16|none] [--threads N] [--eval] [--blend_px 0]
        [--fallback pixelate]
        [--strength S | --blur_sigma --pixelate_block --mask_value --noise_amplitude] [--seed 0]
        [--overwrite] [--quiet] [--compare PNG]

The input tree is mirrored under OUT as PNG (same relative paths and file names); ``OUT/report.json`` lists every
frame and person (box, label, method, fallback reason, seconds), totals and the options. Exit status: 0 when every
frame was written or skipped as existing, 1 when a frame could not be processed (no output for it; an error line
is printed and the other frames are still processed), 2 for a bad command line, annotation set or model. A person
that falls back to a traditional method is not a failure: the frame is still fully anonymized (and the report
says why).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from util.fileio import atomic_write, atomic_write_json
from util.precision import AMP_MODES, amp_problem, choose_amp
from util.progress import progress_bar
from util.threads import configure_threads

from .annotations import BOX_KINDS, DEFAULT_LABELS, AnnotationError, AnnotationIndex, load_annotations
from .frame import FrameError, Settings, anonymize_frame
from .generator import ModelError, WindowGenerator, load_model
from .methods import DEFAULT_STRENGTH, STRENGTH_MEANING, TRADITIONAL_METHODS

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")
METHODS = ("gan", *TRADITIONAL_METHODS)
STRENGTH_FLAGS = {"blur": "blur_sigma", "pixelate": "pixelate_block", "mask": "mask_value", "noise": "noise_amplitude"}
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]  # fixed settings: same pixels -> same bytes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anonymize.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    io_group = parser.add_argument_group("input and output")
    io_group.add_argument("-i", "--input", required=True, help="an image or a folder (searched recursively)")
    io_group.add_argument("-a", "--annotations", required=True,
                          help="CityPersons gtBboxCityPersons file or folder (recursive), COCO instances JSON, "
                               "or simple JSON {image, boxes: [[x1,y1,x2,y2],...]} (or a list of them)")
    io_group.add_argument("-o", "--out", required=True, help="output folder; the input tree is mirrored as PNG")
    io_group.add_argument("--overwrite", action="store_true", help="redo frames whose output already exists")
    io_group.add_argument("--quiet", action="store_true", help="no progress bar")
    io_group.add_argument("--compare", default=None, metavar="PNG",
                          help="also write a before|after picture of the first anonymized frame here")

    who = parser.add_argument_group("who is anonymized")
    who.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS),
                     help="annotation labels to anonymize (never 'ignore' by default)")
    who.add_argument("--box_kind", default="full", choices=BOX_KINDS,
                     help="CityPersons box: full = 'bbox' (covers every visible pixel; bboxVis is inside it), "
                          "visible = 'bboxVis'")

    how = parser.add_argument_group("method")
    how.add_argument("--method", default="gan", choices=METHODS, help="how boxes are replaced")
    how.add_argument("--fallback", default="pixelate", choices=TRADITIONAL_METHODS,
                     help="for people the GAN cannot take (too small, failure) — never the original pixels")
    how.add_argument("--strength", type=float, default=None,
                     help="strength of a traditional --method: " + "; ".join(
                         f"{m}: {STRENGTH_MEANING[m]} (default {DEFAULT_STRENGTH[m]:g})" for m in TRADITIONAL_METHODS))
    for method, flag in STRENGTH_FLAGS.items():
        how.add_argument(f"--{flag}", type=float, default=None,
                         help=f"{STRENGTH_MEANING[method]} for {method} (as method or fallback)")
    how.add_argument("--blend_px", type=int, default=0,
                     help="feather this many pixels inside the box border (0: hard paste)")
    how.add_argument("--seed", type=int, default=0, help="same seed -> same output bytes")

    gan = parser.add_argument_group("GAN")
    gan.add_argument("--name", default=None, help="trained run under --checkpoints_dir (needed for --method gan)")
    gan.add_argument("--epoch", default="best", help="checkpoint prefix to load")
    gan.add_argument("--checkpoints_dir", default="./checkpoints", help="where runs are saved")
    gan.add_argument("--batch_size", type=int, default=8, help="windows per generator call")
    gan.add_argument("--margin", type=int, default=None,
                     help="context pixels a box needs on each side to use the plain window (default crop/32)")
    gan.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where the generator runs")
    gan.add_argument("--amp", default="auto", choices=AMP_MODES,
                     help="generator precision: auto = bf16 on a bf16-capable GPU, or on a CPU with native bf16 "
                          "where a cached micro-benchmark measured it faster, else fp32; fp16 needs CUDA")
    gan.add_argument("--threads", type=int, default=None,
                     help="torch intra-op threads; default: OMP_NUM_THREADS if set, else the usable cores")
    gan.add_argument("--eval", action="store_true",
                     help="eval mode (BatchNorm running statistics, no dropout); default: train mode like "
                          "test.py, with per-window BatchNorm statistics")
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.method == "gan" and not args.name:
        parser.error("--method gan needs --name (a trained run under --checkpoints_dir)")
    if args.batch_size < 1:
        parser.error(f"--batch_size must be at least 1, got {args.batch_size}")
    if args.blend_px < 0:
        parser.error(f"--blend_px must be >= 0, got {args.blend_px}")
    if args.margin is not None and args.margin < 0:
        parser.error(f"--margin must be >= 0, got {args.margin}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.strength is not None and args.method == "gan":
        parser.error("--strength applies to a traditional --method; use --blur_sigma etc. for the fallback")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: CUDA is not available on this machine")
    if args.method == "gan":
        args.amp = choose_amp(args.amp, args.device == "cuda")
        if amp_problem(args.amp, args.device == "cuda"):
            parser.error(amp_problem(args.amp, args.device == "cuda"))


def strengths(args: argparse.Namespace) -> dict[str, float]:
    out = {m: getattr(args, flag) for m, flag in STRENGTH_FLAGS.items() if getattr(args, flag) is not None}
    if args.strength is not None:
        out[args.method] = args.strength
    return out


# ------------------------------------------------------------------------------------------------ frames


def find_images(source: Path, out: Path) -> tuple[Path, list[Path]]:
    """(root, images): a single file, or every image under a folder (sorted; OUT itself excluded)."""
    if source.is_file():
        return source.parent, [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: input image or folder not found (-i/--input)")
    out = out.resolve()
    images = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
                    and out not in p.resolve().parents)
    if not images:
        raise FileNotFoundError(f"{source}: no images found ({', '.join(IMAGE_EXTENSIONS)})")
    return source, images


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameError(f"{path}: cannot be read as an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_png(path: Path, rgb: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG_PARAMS)
    if not ok:
        raise FrameError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


def process_one(path: Path, relative: PurePosixPath, target: Path, index: AnnotationIndex, labels: set[str],
                settings: Settings, generator: WindowGenerator | None) -> dict:
    """One frame end to end; raises FrameError / AnnotationError for a frame that must not be written."""
    annotation = index.lookup(relative)
    if annotation is None:
        raise AnnotationError(f"{path}: no annotation matches this image")
    if annotation.error:
        raise AnnotationError(annotation.error)
    image = read_rgb(path)
    persons = [(k, p) for k, p in enumerate(annotation.persons) if p.label in labels]
    result, records = anonymize_frame(image, persons, settings, generator, str(relative))
    write_png(target, result)
    return {"annotation": annotation.source, "persons": records, "size": [image.shape[1], image.shape[0]]}


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    root, images = find_images(Path(args.input), out)
    index = load_annotations(args.annotations, args.box_kind)
    plan = configure_threads(args.threads)
    if not args.quiet:
        print(f"[threads] {plan.describe()}" + (f", precision {args.amp}" if args.method == "gan" else ""))
    generator = None
    if args.method == "gan":
        generator = WindowGenerator(load_model(args.name, args.checkpoints_dir, args.epoch, args.device, args.eval,
                                               args.amp))
    settings = Settings(method=args.method, strengths=strengths(args), fallback=args.fallback,
                        blend_px=args.blend_px, batch_size=args.batch_size, margin=args.margin, seed=args.seed)
    labels = set(args.labels)
    frames, failed, started = [], 0, time.perf_counter()
    for path in progress_bar(images, desc="anonymize", quiet=args.quiet, unit="frame"):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        target = out / Path(*relative.parts).with_suffix(".png")
        entry: dict = {"image": str(path), "output": str(target)}
        begin = time.perf_counter()
        if target.exists() and not args.overwrite:
            entry["status"] = "skipped (output exists; --overwrite to redo)"
        else:
            try:
                entry.update(process_one(path, relative, target, index, labels, settings, generator))
                entry["status"] = "written"
            except (FrameError, AnnotationError, OSError) as error:
                failed += 1
                entry.update(status="failed", error=str(error))
                print(f"error: {path}: {error}", file=sys.stderr)
        entry["seconds"] = round(time.perf_counter() - begin, 4)
        frames.append(entry)
    elapsed = time.perf_counter() - started
    report = build_report(args, frames, elapsed, generator)
    atomic_write_json(out / "report.json", report)
    if args.compare:
        write_comparison(args.compare, frames)
    totals = report["totals"]
    print(f"anonymize: {totals['frames_written']} written, {totals['frames_skipped']} skipped, {failed} failed; "
          f"{totals['persons']} persons ({totals['persons_fallback']} by fallback) in {elapsed:.1f} s; "
          f"report {out / 'report.json'}")
    return 1 if failed else 0


def build_report(args: argparse.Namespace, frames: list[dict], elapsed: float,
                 generator: WindowGenerator | None) -> dict:
    persons = [p for f in frames for p in f.get("persons", []) if p.get("method")]
    written = [f for f in frames if f.get("status") == "written"]
    options = dict(vars(args))
    if generator is not None:
        opt = generator.opt
        options["model"] = {"model": opt.model, "netG": opt.netG, "crop_size": opt.crop_size,
                            "bbox_noise": opt.bbox_noise, "netG_mask_input": opt.netG_mask_input,
                            "netG_noise": opt.netG_noise, "epoch": opt.epoch, "precision": opt.amp,
                            "network_mode": "eval (BatchNorm running statistics, no dropout)" if args.eval
                            else "train (per-window BatchNorm statistics, dropout on; as test.py)"}
    return {
        "options": options,
        "frames": frames,
        "totals": {
            "frames": len(frames),
            "frames_written": len(written),
            "frames_skipped": sum(f["status"].startswith("skipped") for f in frames),
            "frames_failed": sum(f["status"] == "failed" for f in frames),
            "persons": len(persons),
            "persons_fallback": sum("fallback_reason" in p for p in persons),
            "persons_by_method": {m: sum(p["method"] == m for p in persons) for m in METHODS},
            "seconds": round(elapsed, 3),
            "seconds_per_written_frame": round(sum(f["seconds"] for f in written) / len(written), 4)
            if written else None,
        },
    }


def write_comparison(target: str, frames: list[dict]) -> None:
    from .compare import save_comparison

    written = [f for f in frames if f.get("status") == "written"]
    if not written:
        print(f"[compare] no frame was written; {target} not made", file=sys.stderr)
        return
    save_comparison(written[0]["image"], written[0]["output"], target)
    print(f"[compare] {target}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    try:
        return run(args)
    except (AnnotationError, ModelError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
