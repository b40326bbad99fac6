"""``python anonymize.py``: anonymize every annotated person in full street frames (issue 7).

    python anonymize.py -i IMAGE_OR_FOLDER -a ANNOTATIONS -o OUT [--method gan|blur|pixelate|mask|noise]
        [--name EXP --epoch best --checkpoints_dir DIR] [--labels ...] [--box_kind full|visible]
        [--batch_size 8] [--device cpu|cuda] [--amp auto|bf16|fp16|none] [--threads N] [--eval] [--blend_px 0]
        [--fallback pixelate]
        [--strength S | --blur_sigma --pixelate_block --mask_value --noise_amplitude] [--seed 0]
        [--overwrite] [--quiet] [--compare PNG]

The input tree is mirrored under OUT as PNG (same relative paths and file names). ``OUT/report.jsonl`` gets one
line per frame as soon as the frame is done (a killed run keeps the record of every finished frame);
``OUT/report.json`` is written at the end: every frame and person (box, label, method, fallback reason, leakage
measures, seconds), totals and the options — for a frame skipped because its output exists, the record of the
run that wrote it. Exit status: 0 when every frame was written or skipped as existing, 1 when a frame could not
be processed (no output for it; an error line is printed and the other frames are still processed), 2 for a bad
command line, annotation set, model or output folder. A person that falls back to a traditional method is not a
failure: the frame is still fully anonymized (and the report says why).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from data.boxes import scale_box
from util.cli import number, os_error_text, printable_paths
from util.fileio import append_json_line, atomic_write, atomic_write_json, read_json_lines
from util.image_files import ImageReadError, read_rgb
from util.precision import AMP_MODES, amp_problem, choose_amp
from util.progress import progress_bar
from util.threads import configure_threads

from .annotations import (
    BOX_KINDS,
    DEFAULT_LABELS,
    KNOWN_LABELS,
    AnnotationError,
    AnnotationIndex,
    FrameAnnotation,
    Person,
    load_annotations,
)
from .frame import FrameError, Settings, anonymize_frame
from .generator import ModelError, WindowGenerator, load_model, load_model_file
from .methods import DEFAULT_STRENGTH, STRENGTH_MEANING, STRENGTH_RANGE, TRADITIONAL_METHODS

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")
METHODS = ("gan", *TRADITIONAL_METHODS)
STRENGTH_FLAGS = {"blur": "blur_sigma", "pixelate": "pixelate_block", "mask": "mask_value", "noise": "noise_amplitude"}
# The generator anonymize.py uses without --name: trained by scripts/train_demo_model.sh (models/shipped/MODEL_CARD.md).
SHIPPED_DEMO_MODEL = Path(__file__).resolve().parent.parent / "models" / "shipped" / "demo_psgan.pth"
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
    who.add_argument("--scale_boxes", action="store_true",
                     help="scale the boxes of annotations made for another frame size (CityPersons imgWidth/"
                          "imgHeight, COCO width/height) to the image; without it such frames are refused")

    how = parser.add_argument_group("method")
    how.add_argument("--method", default="gan", choices=METHODS, help="how boxes are replaced")
    how.add_argument("--fallback", default="pixelate", choices=TRADITIONAL_METHODS,
                     help="for people the GAN cannot take (too small, failure) — never the original pixels")
    how.add_argument("--strength", type=number(), default=None,
                     help="strength of a traditional --method: " + "; ".join(
                         f"{m}: {STRENGTH_MEANING[m]} (default {DEFAULT_STRENGTH[m]:g})" for m in TRADITIONAL_METHODS))
    for method, flag in STRENGTH_FLAGS.items():
        low, high = STRENGTH_RANGE[method]
        how.add_argument(f"--{flag}", type=number(minimum=low, maximum=high), default=None,
                         help=f"{STRENGTH_MEANING[method]} for {method} (as method or fallback), {low:g}-{high:g}")
    how.add_argument("--blend_px", type=number(int, minimum=0), default=0,
                     help="feather this many pixels inside the box border (0: hard paste); at most 1/16 of the "
                          "box's shorter side is used")
    how.add_argument("--seed", type=number(int, minimum=0), default=0, help="same seed -> same output bytes")

    gan = parser.add_argument_group("GAN")
    gan.add_argument("--name", default=None,
                     help="trained run under --checkpoints_dir (default: the shipped demo model, see --model_file)")
    gan.add_argument("--model_file", default=None,
                     help=f"a shipped generator <stem>.pth with its <stem>.json (used when --name is not given; "
                          f"default {SHIPPED_DEMO_MODEL}, trained on synthetic street data only)")
    gan.add_argument("--epoch", default="best", help="checkpoint prefix to load")
    gan.add_argument("--checkpoints_dir", default="./checkpoints", help="where runs are saved")
    gan.add_argument("--batch_size", type=number(int, minimum=1), default=8, help="windows per generator call")
    gan.add_argument("--margin", type=number(int, minimum=0), default=None,
                     help="context pixels a box needs on each side to use the plain window (default crop/32)")
    gan.add_argument("--window_side", type=number(int, minimum=8), default=None,
                     help="frame pixels that become one model input (default: the scale the model was trained at, "
                          "recorded in its options; crop_size for runs that do not record it)")
    gan.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where the generator runs")
    gan.add_argument("--amp", default="auto", choices=AMP_MODES,
                     help="generator precision: auto = bf16 on a bf16-capable GPU, or on a CPU with native bf16 "
                          "where a cached micro-benchmark measured it faster, else fp32; fp16 needs CUDA")
    gan.add_argument("--threads", type=number(int, minimum=1), default=None,
                     help="torch intra-op threads; default: OMP_NUM_THREADS if set, else the usable cores")
    gan.add_argument("--eval", action="store_true",
                     help="eval mode (BatchNorm running statistics, no dropout); default: train mode like "
                          "test.py, with per-window BatchNorm statistics")
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.name and args.model_file:
        parser.error("give either --name (a trained run) or --model_file (a shipped generator), not both")
    if args.strength is not None and args.method == "gan":
        parser.error("--strength applies to a traditional --method; use --blur_sigma etc. for the fallback")
    if args.strength is not None:
        low, high = STRENGTH_RANGE[args.method]
        if not low <= args.strength <= high:
            parser.error(f"--strength {args.strength:g}: {args.method} takes {STRENGTH_MEANING[args.method]} "
                         f"in {low:g}-{high:g}")
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


def write_png(path: Path, rgb: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG_PARAMS)
    if not ok:
        raise FrameError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


def frame_persons(annotation: FrameAnnotation, size: tuple[int, int], scale: bool) -> list[Person]:
    """The annotation's persons in the image's pixels: refused (FrameError) when the annotation was made for
    another frame size, unless ``scale`` (then the boxes are scaled outward, ``data.boxes.scale_box``)."""
    if annotation.size is None or annotation.size == size:
        return annotation.persons
    if not scale:
        raise FrameError(f"the annotation {annotation.source} is for {annotation.size[0]}x{annotation.size[1]} "
                         f"frames but the image is {size[0]}x{size[1]}; its boxes would miss the persons "
                         "(--scale_boxes scales them)")
    return [replace(p, box=scale_box(p.box, annotation.size, size)) for p in annotation.persons]


def process_one(path: Path, relative: PurePosixPath, target: Path, index: AnnotationIndex, labels: set[str],
                settings: Settings, generator: WindowGenerator | None, scale: bool) -> dict:
    """One frame end to end; raises FrameError / AnnotationError for a frame that must not be written."""
    annotation = index.lookup(relative)
    if annotation is None:
        raise AnnotationError(f"{path}: no annotation matches this image")
    if annotation.error:
        raise AnnotationError(annotation.error)
    image = read_rgb(path)
    all_persons = frame_persons(annotation, (image.shape[1], image.shape[0]), scale)
    persons = [(k, p) for k, p in enumerate(all_persons) if p.label in labels]
    result, records = anonymize_frame(image, persons, settings, generator, str(relative))
    write_png(target, result)
    entry = {"annotation": annotation.source, "persons": records, "size": [image.shape[1], image.shape[0]]}
    unselected = sorted({p.label for p in all_persons if p.label in DEFAULT_LABELS and p.label not in labels})
    if not persons and unselected:
        entry["warning"] = (f"none of the frame's annotated persons was selected by --labels "
                            f"(it has: {', '.join(unselected)}); nobody in it was anonymized")
    return entry


def check_labels(labels: list[str], index: AnnotationIndex) -> None:
    """A requested label that no annotation uses and that is no known person label is a typo: refuse it."""
    unknown = index.unknown_labels(labels)
    if unknown:
        found = ", ".join(sorted(index.labels)) or "none"
        raise AnnotationError(f"--labels {' '.join(unknown)}: no such label in the annotations (found: {found}; "
                              f"known: {', '.join(KNOWN_LABELS)})")


def open_report_log(out: Path) -> Path:
    """OUT/report.jsonl, created (with OUT) now, so an unwritable output folder fails before any work."""
    log = out / "report.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    log.touch()
    return log


def merged_frames(frames: list[dict], log: list[dict]) -> list[dict]:
    """This run's frames, where a frame skipped because its output exists gets the latest record of the run
    that wrote that output (from OUT/report.jsonl)."""
    written = {entry["output"]: entry for entry in log if entry.get("status") == "written"}
    merged = []
    for entry in frames:
        earlier = written.get(entry["output"]) if entry["status"].startswith("skipped") else None
        if earlier is None and entry["status"].startswith("skipped"):
            entry = {**entry, "note": "no record of the run that wrote this output"}
        merged.append(entry if earlier is None else {**earlier, "status": entry["status"], "seconds": 0.0})
    return merged


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    root, images = find_images(Path(args.input), out)
    index = load_annotations(args.annotations, args.box_kind)
    plan = configure_threads(args.threads)
    if not args.quiet:
        print(f"[threads] {plan.describe()}" + (f", precision {args.amp}" if args.method == "gan" else ""))
    check_labels(args.labels, index)
    log = open_report_log(out)
    generator = None
    if args.method == "gan":
        model = (load_model(args.name, args.checkpoints_dir, args.epoch, args.device, args.eval, args.amp)
                 if args.name else load_model_file(args.model_file or SHIPPED_DEMO_MODEL, args.device, args.eval,
                                                   args.amp))
        generator = WindowGenerator(model)
    settings = Settings(method=args.method, strengths=strengths(args), fallback=args.fallback,
                        blend_px=args.blend_px, batch_size=args.batch_size, margin=args.margin,
                        window_side=args.window_side, seed=args.seed)
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
                entry.update(process_one(path, relative, target, index, labels, settings, generator,
                                         args.scale_boxes))
                entry["status"] = "written"
            except (FrameError, AnnotationError, ImageReadError, OSError) as error:
                failed += 1
                problem = error.problem if isinstance(error, ImageReadError) else str(error)
                entry.update(status="failed", error=problem)
                print(f"error: {path}: {problem}", file=sys.stderr)
            if "warning" in entry:
                print(f"warning: {path}: {entry['warning']}", file=sys.stderr)
        entry["seconds"] = round(time.perf_counter() - begin, 4)
        append_json_line(log, entry)
        frames.append(entry)
    elapsed = time.perf_counter() - started
    report = build_report(args, merged_frames(frames, read_json_lines(log)), elapsed, generator)
    atomic_write_json(out / "report.json", report)
    if args.compare:
        write_comparison(args.compare, frames)
    totals = report["totals"]
    unselected = f", {totals['frames_nobody_selected']} with persons none of whom --labels selected" \
        if totals["frames_nobody_selected"] else ""
    print(f"anonymize: {totals['frames_written']} written, {totals['frames_skipped']} skipped, {failed} failed"
          f"{unselected}; {totals['persons']} persons ({totals['persons_fallback']} by fallback) in {elapsed:.1f} s; "
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
                            "window_side": args.window_side or generator.window_side or opt.crop_size,
                            "bbox_noise": opt.bbox_noise, "netG_mask_input": opt.netG_mask_input,
                            "netG_noise": opt.netG_noise, "precision": generator.model.precision.amp,
                            "weights": (f"{Path(args.checkpoints_dir) / args.name} epoch {opt.epoch}" if args.name
                                        else str(args.model_file or SHIPPED_DEMO_MODEL)),
                            "network_mode": "eval (BatchNorm running statistics, no dropout)" if args.eval
                            else "train (per-window BatchNorm statistics, dropout on; as test.py)"}
    return {
        "options": options,
        "log": "report.jsonl (one line per finished frame, appended as the run goes)",
        "frames": frames,
        "totals": {
            "frames": len(frames),
            "frames_written": len(written),
            "frames_skipped": sum(f["status"].startswith("skipped") for f in frames),
            "frames_failed": sum(f["status"] == "failed" for f in frames),
            "frames_nobody_selected": sum("warning" in f for f in frames),
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
    printable_paths()
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    try:
        return run(args)
    except (AnnotationError, ModelError, FileNotFoundError, ImageReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
