"""``python anonymize.py``: anonymize every person in images, folders and videos (issues 7 and 16).

    python anonymize.py -i IMAGE_FOLDER_OR_VIDEO -o OUT [-a ANNOTATIONS] [--method gan|blur|pixelate|mask|noise]
        [--detector annotations|builtin|onnx:FILE|coco:FILE] [--targets persons,faces]
        [--detection_threshold 0.5 --fallback_threshold 0.3] [--cache DIR] [--show_detections]
        [--start S --end S --tracking on|off --crf 18] [--name EXP --epoch best --checkpoints_dir DIR | --model_file F]
        [--labels ...] [--box_kind full|visible] [--scale_boxes] [--batch_size 8] [--window_side PX] [--device cpu|cuda]
        [--amp auto|bf16|fp16|none] [--threads N] [--network_mode train|eval] [--truncation 1]
        [--blend_px N] [--fallback pixelate] [--redraws 2] [--strength S | --blur_sigma ...] [--seed 0] [--overwrite]
        [--quiet] [--compare PNG]

Who is anonymized comes from ``--detector`` (anonymizer/detection.py): the annotation files of ``-a``, or, without
``-a``, the built-in offline pedestrian detector. Images are mirrored under OUT as PNG (same relative paths and
file names); a video ``-i clip.mp4 -o out.mp4`` (or videos inside a folder) is written as H.264 video
(anonymizer/video.py). ``OUT/report.json`` (next to a video output: ``<out>.report.json``) lists every frame, its
detections and what was done to each person (box, score, label, method, fallback reason, track, seconds), totals and
the options; ``report.jsonl`` beside it gets one line per input as soon as it is done (a killed run keeps the
record of every finished input, and a rerun reports skipped outputs with the record of the run that wrote them).
Under ``torchrun`` the inputs are shared out between the processes and rank 0 writes one report.
Exit status: 0 when every frame was written or skipped as existing, 1 when a frame could not be processed (no
output for it — in a video it is written grey; an error line is printed and the other frames are still
processed), 2 for a bad command line, annotation set, detector, model or output folder. A person that falls back
to a traditional method is not a failure: the frame is still fully anonymized (and the report says why).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from data.instance_ids import InstanceIdsError, InstanceIdsIndex
from models.loading import NETWORK_MODES
from util import distributed
from util.cli import number, os_error_text, printable_paths
from util.fileio import append_json_line, atomic_write, atomic_write_json, read_json_lines
from util.image_files import ImageReadError, read_rgb
from util.precision import AMP_MODES, amp_problem, choose_amp
from util.progress import progress_bar
from util.threads import configure_threads

from . import detectors
from .actions import FrameProcessor, Thresholds
from .annotations import DEFAULT_LABELS, AnnotationError
from .detection import DetectionError, Detector
from .frame import FrameError, Settings
from .generator import ModelError, WindowGenerator, load_model, load_model_file, recorded_feather
from .methods import DEFAULT_STRENGTH, STRENGTH_MEANING, STRENGTH_RANGE, TRADITIONAL_METHODS
from .tracking import IoUTracker
from .video import DEFAULT_CRF, VideoError, anonymize_video, is_video, output_name

__all__ = ["DEFAULT_LABELS", "main"]

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
    io_group.add_argument("-i", "--input", required=True,
                          help="an image, a video, or a folder of them (searched recursively)")
    io_group.add_argument("-o", "--out", required=True,
                          help="output folder (the input tree is mirrored: images as PNG, videos as H.264); "
                               "for a single video input also a file name such as out.mp4")
    io_group.add_argument("--overwrite", action="store_true", help="redo frames whose output already exists")
    io_group.add_argument("--quiet", action="store_true", help="no progress bar")
    io_group.add_argument("--compare", default=None, metavar="PNG",
                          help="also write a before|after picture of the first anonymized frame here")

    detectors.add_arguments(parser)
    video = parser.add_argument_group("video")
    video.add_argument("--start", type=number(minimum=0), default=None, help="seconds: where a video's output begins")
    video.add_argument("--end", type=number(above=0), default=None, help="seconds: where a video's output ends")
    video.add_argument("--tracking", default="on", choices=("on", "off"),
                       help="on: link detections over frames; each person keeps one track id (its GAN noise is "
                            "seeded by it) and a person missed for up to 5 frames stays covered; off: frames alone")
    video.add_argument("--crf", type=number(int, minimum=0, maximum=51), default=DEFAULT_CRF,
                       help="H.264 quality (lower: better, larger)")

    how = parser.add_argument_group("method")
    how.add_argument("--method", default="gan", choices=METHODS, help="how boxes are replaced")
    how.add_argument("--fallback", default="pixelate", choices=TRADITIONAL_METHODS,
                     help="for people the GAN cannot take (too small, failure) — never the original pixels")
    how.add_argument("--redraws", type=number(int, minimum=0, maximum=8), default=2,
                     help="GAN: when the leakage check rejects a painted whole box, paint it again up to this many "
                          "times (each with a new stranger's silhouette and new noise) before the fallback")
    how.add_argument("--strength", type=number(), default=None,
                     help="strength of a traditional --method: " + "; ".join(
                         f"{m}: {STRENGTH_MEANING[m]} (default {DEFAULT_STRENGTH[m]:g})" for m in TRADITIONAL_METHODS))
    for method, flag in STRENGTH_FLAGS.items():
        low, high = STRENGTH_RANGE[method]
        how.add_argument(f"--{flag}", type=number(minimum=low, maximum=high), default=None,
                         help=f"{STRENGTH_MEANING[method]} for {method} (as method or fallback), {low:g}-{high:g}")
    how.add_argument("--blend_px", type=number(int, minimum=0), default=None,
                     help="feather this many pixels inside the box border (0: hard paste); at most 1/16 of the "
                          "box's shorter side is used. Default: the feather a --model_file records (the shipped "
                          "demo model: 4), else 0")
    how.add_argument("--seed", type=number(int, minimum=0), default=0, help="same seed -> same output bytes")
    how.add_argument("--instance_ids", default=None, metavar="DIR",
                     help="Cityscapes gtFine instance-id maps (*_gtFine_instanceIds.png, found by frame name under "
                          "DIR): replace each person in its own shape, grown by a few pixels, and keep the "
                          "background of its box (--method gan: a single-stage model, psgan or pix2pix; a frame "
                          "without a map gets whole boxes, with a warning)")

    gan = parser.add_argument_group("GAN")
    gan.add_argument("--name", default=None,
                     help="trained run under --checkpoints_dir (default: the shipped demo model, see --model_file)")
    gan.add_argument("--model_file", default=None,
                     help=f"a shipped generator <stem>.pth with its <stem>.json (used when --name is not given; "
                          f"default {SHIPPED_DEMO_MODEL}; "
                          "trained on synthetic street data only)")
    gan.add_argument("--epoch", default="best", help="checkpoint prefix to load")
    gan.add_argument("--checkpoints_dir", default="./checkpoints", help="where runs are saved")
    gan.add_argument("--batch_size", type=number(int, minimum=1), default=8, help="windows per generator call")
    gan.add_argument("--margin", type=number(int, minimum=0), default=None,
                     help="context pixels a box needs on each side to use the plain window (default crop/32)")
    gan.add_argument("--window_side", type=number(int, minimum=8), default=None,
                     help="frame pixels that become one model input (default: the scale the model was trained at, "
                          "recorded in its options; crop_size for runs that do not record it)")
    gan.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                     help="where the generator and the detectors run")
    gan.add_argument("--amp", default="auto", choices=AMP_MODES,
                     help="generator precision: auto = bf16 on a bf16-capable GPU, or on a CPU with native bf16 "
                          "where a cached micro-benchmark measured it faster, else fp32; fp16 needs CUDA")
    gan.add_argument("--threads", type=number(int, minimum=1), default=None,
                     help="torch intra-op threads; default: OMP_NUM_THREADS if set, else the usable cores")
    gan.add_argument("--poisson_blend", action="store_true",
                     help="correct each painted box (or shape) so that it meets the real street at its edge: a smooth "
                          "correction from the pixels around it only (Poisson image editing; anonymizer/poisson.py)")
    gan.add_argument("--truncation", type=number(minimum=0, maximum=1), default=1.0,
                     help="draw the generator's noise with this fraction of its training spread (the truncation "
                          "trick): below 1, more typical and less varied persons; 0: the same person for every "
                          "seed (a whole box's stranger's silhouette still varies). Needs a model with --netG_noise")
    gan.add_argument("--network_mode", choices=NETWORK_MODES, default=None,
                     help="eval: BatchNorm running statistics, no dropout; train: per-window BatchNorm statistics, "
                          "dropout on (test.py's default). Default: the mode a --model_file records (the shipped "
                          "demo model: eval), train for a --name run")
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
    if args.truncation != 1.0 and args.method != "gan":
        parser.error(f"--truncation scales the GAN's noise; --method {args.method} draws none")
    if args.poisson_blend and args.method != "gan":
        parser.error(f"--poisson_blend blends the GAN's painted boxes; --method {args.method} paints none")
    detectors.check_arguments(parser, args)
    if args.start is not None and args.end is not None and args.end <= args.start:
        parser.error(f"--end ({args.end:g}) must be after --start ({args.start:g})")


def strengths(args: argparse.Namespace) -> dict[str, float]:
    out = {m: getattr(args, flag) for m, flag in STRENGTH_FLAGS.items() if getattr(args, flag) is not None}
    if args.strength is not None:
        out[args.method] = args.strength
    return out


# ------------------------------------------------------------------------------------------------ frames


FRAME_FAILURES = (FrameError, AnnotationError, DetectionError, ImageReadError, InstanceIdsError)


def find_inputs(source: Path, out: Path) -> tuple[Path, list[Path]]:
    """(root, inputs): a single file, or every image and video under a folder (sorted; OUT itself excluded)."""
    if source.is_file():
        return source.parent, [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: input image, video or folder not found (-i/--input)")
    out = out.resolve()
    found = sorted(p for p in source.rglob("*") if (p.suffix.lower() in IMAGE_EXTENSIONS or is_video(p))
                   and p.is_file() and out not in p.resolve().parents and p.resolve() != out)
    if not found:
        raise FileNotFoundError(f"{source}: no images or videos found ({', '.join(IMAGE_EXTENSIONS)}, or video)")
    return source, found


def plan_outputs(args: argparse.Namespace, root: Path, inputs: list[Path]) -> tuple[list[tuple[Path, Path]], Path]:
    """(input, output) pairs and the report's path. A single video may be written to ``-o NAME.mp4``."""
    out = Path(args.out)
    if len(inputs) == 1 and is_video(inputs[0]) and is_video(out):
        return [(inputs[0], output_name(out))], output_name(out).with_suffix(".report.json")
    pairs = []
    for path in inputs:
        relative = Path(path.relative_to(root).as_posix())
        pairs.append((path, out / (output_name(relative) if is_video(path) else relative.with_suffix(".png"))))
    return pairs, out / "report.json"


def write_png(path: Path, rgb: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG_PARAMS)
    if not ok:
        raise FrameError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


class Job:
    """One input file end to end (an image, or a whole video) -> its report entry; an input that cannot be
    processed is reported as failed and nothing is written for it."""

    def __init__(self, args: argparse.Namespace, root: Path, processor: FrameProcessor,
                 video_processor: FrameProcessor, log: Path) -> None:
        self.args = args
        self.log = log  # report.jsonl: one line per finished input
        self.root = root
        self.processor = processor
        self.video_processor = video_processor

    def image(self, path: Path, target: Path) -> dict:
        image = read_rgb(path)
        result, entry = self.processor(image, path.relative_to(self.root).as_posix())
        write_png(target, result)
        return {**entry, "size": [image.shape[1], image.shape[0]]}

    def video(self, path: Path, target: Path) -> dict:
        name = path.relative_to(self.root).as_posix()
        tracker = IoUTracker() if self.args.tracking == "on" else None

        def one(image: np.ndarray, index: int) -> tuple[np.ndarray, dict]:
            return self.video_processor(image, name, index, tracker)

        return anonymize_video(path, target, one, FRAME_FAILURES, self.args.start, self.args.end, self.args.crf,
                               self.args.quiet)

    def __call__(self, path: Path, target: Path) -> dict:
        kind = "video" if is_video(path) else "image"
        entry: dict = {kind: str(path), "output": str(target)}
        begin = time.perf_counter()
        if target.exists() and not self.args.overwrite:
            entry["status"] = "skipped (output exists; --overwrite to redo)"
        else:
            try:
                entry.update(self.video(path, target) if kind == "video" else self.image(path, target))
                failed = entry.get("frames_failed", 0)
                entry["status"] = f"written with {failed} grey frame(s)" if failed else "written"
                if failed:
                    print(f"error: {path}: {failed} frame(s) could not be anonymized and were written grey",
                          file=sys.stderr)
            except (*FRAME_FAILURES, VideoError, OSError) as error:
                problem = error.problem if isinstance(error, ImageReadError) else str(error)
                entry.update(status="failed", error=problem)
                print(f"error: {path}: {problem}", file=sys.stderr)
            if "warning" in entry:
                print(f"warning: {path}: {entry['warning']}", file=sys.stderr)
        entry["seconds"] = round(time.perf_counter() - begin, 4)
        append_json_line(self.log, entry)
        return entry


def open_report_log(report: Path) -> Path:
    """The report's ``.jsonl`` log, created (with its folder) now, so an unwritable output fails before any work."""
    log = report.with_suffix(".jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    return log


def merged_frames(entries: list[dict], log: list[dict]) -> list[dict]:
    """This run's entries, where an input skipped because its output exists gets the latest record of the run
    that wrote that output (from the log)."""
    written = {entry["output"]: entry for entry in log if entry.get("status", "").startswith("written")}
    merged = []
    for entry in entries:
        earlier = written.get(entry["output"]) if entry["status"].startswith("skipped") else None
        if earlier is None and entry["status"].startswith("skipped"):
            entry = {**entry, "note": "no record of the run that wrote this output"}
        merged.append(entry if earlier is None else {**earlier, "status": entry["status"], "seconds": 0.0})
    return merged


def build_generator(args: argparse.Namespace) -> WindowGenerator | None:
    if args.method != "gan" or args.show_detections:
        return None
    eval_mode = None if args.network_mode is None else args.network_mode == "eval"
    model = (load_model(args.name, args.checkpoints_dir, args.epoch, args.device, bool(eval_mode), args.amp)
             if args.name else load_model_file(model_file(args), args.device, eval_mode, args.amp))
    return WindowGenerator(model, args.truncation)


def feather(args: argparse.Namespace) -> int:
    """--blend_px, else the feather the GAN's model file was measured with (the shipped demo model's: 4), else 0."""
    if args.blend_px is not None:
        return args.blend_px
    if args.method == "gan" and not args.name and not args.show_detections:
        return recorded_feather(model_file(args))
    return 0


def model_file(args: argparse.Namespace) -> Path:
    """The generator file without --name: --model_file, else the shipped demo model."""
    return Path(args.model_file) if args.model_file else SHIPPED_DEMO_MODEL


def run(args: argparse.Namespace) -> int:
    root, inputs = find_inputs(Path(args.input), Path(args.out))
    pairs, report_path = plan_outputs(args, root, inputs)
    rank, world = distributed.rank(), distributed.world_size()
    mine = pairs[rank::world]  # round robin: every output has exactly one writer
    if args.device == "cuda" and world > 1:
        args.device = f"cuda:{distributed.local_rank()}"  # detectors and generator on this process's GPU
    plan = configure_threads(args.threads)
    if not args.quiet and distributed.is_main_process():
        print(f"[threads] {plan.describe()}" + (f", precision {args.amp}" if args.method == "gan" else ""))
    detector_list = detectors.build_detectors(args)  # bad detector files or --labels: refused before OUT is made
    log = open_report_log(report_path)
    generator = build_generator(args)
    args.blend_px = feather(args)  # resolved here, so the report records the feather used
    person_maps = None
    if args.instance_ids is not None:
        if generator is not None and generator.small_size is not None:
            raise ModelError(f"--instance_ids: the model ({generator.opt.name}, --model {generator.opt.model}) paints "
                             "in two stages, and a person's shape is painted in one: use a psgan or pix2pix model")
        person_maps = InstanceIdsIndex(args.instance_ids)
    settings = Settings(method=args.method, strengths=strengths(args), fallback=args.fallback,
                        blend_px=args.blend_px, batch_size=args.batch_size, margin=args.margin,
                        window_side=args.window_side, seed=args.seed, redraws=args.redraws,
                        poisson_blend=args.poisson_blend)
    thresholds = Thresholds(args.detection_threshold, args.fallback_threshold)
    processor = FrameProcessor(detector_list, thresholds, settings, generator, args.show_detections, person_maps)
    # With tracking, windows are generated one at a time so that each track's noise comes from its own seed.
    video_settings = replace(settings, batch_size=1) if args.tracking == "on" else settings
    video_processor = FrameProcessor(detector_list, thresholds, video_settings, generator, args.show_detections,
                                     person_maps)
    job = Job(args, root, processor, video_processor, log)
    started = time.perf_counter()
    entries = [(k, job(path, target)) for k, (path, target) in
               zip(range(rank, len(pairs), world), progress_bar(mine, desc="anonymize", quiet=args.quiet,
                                                                unit="file"), strict=True)]
    if world > 1:
        for _, entry in entries:
            entry["rank"] = rank
    entries = distributed_gather(entries)
    if entries is None:
        return 0  # not rank 0: rank 0 reports
    frames = [entry for _, entry in sorted(entries, key=lambda e: e[0])]
    elapsed = time.perf_counter() - started
    report = build_report(args, merged_frames(frames, read_json_lines(log)), elapsed, generator, detector_list,
                          world, log.name)
    atomic_write_json(report_path, report)
    if args.compare:
        write_comparison(args.compare, frames)
    totals = report["totals"]
    unselected = f", {totals['frames_nobody_selected']} with persons none of whom --labels selected" \
        if totals["frames_nobody_selected"] else ""
    print(f"anonymize: {totals['frames_written']} written, {totals['frames_skipped']} skipped, "
          f"{totals['frames_failed']} failed{unselected}; {totals['persons']} persons ({totals['persons_fallback']} "
          f"by fallback) in {elapsed:.1f} s; report {report_path}")
    return 1 if totals["frames_failed"] or any(e["status"] == "failed" for e in frames) else 0


def distributed_gather(entries: list[tuple[int, dict]]) -> list[tuple[int, dict]] | None:
    """Every rank's entries on rank 0 (None on the others); the entries themselves in a single process."""
    if not distributed.is_distributed():
        return entries
    import torch.distributed as dist

    gathered: list | None = [None] * distributed.world_size() if distributed.is_main_process() else None
    dist.gather_object(entries, gathered, dst=0)
    if not distributed.is_main_process():
        return None
    return [entry for part in gathered for entry in part]


def frame_entries(entries: list[dict]) -> list[dict]:
    """Image entries and the per-frame entries of the videos written in this run (a skipped video is one entry)."""
    return [f for e in entries for f in (e["frames"] if isinstance(e.get("frames"), list)
                                         and not e["status"].startswith("skipped") else [e])]


def build_report(args: argparse.Namespace, entries: list[dict], elapsed: float, generator: WindowGenerator | None,
                 detector_list: list[Detector], world: int, log_name: str = "report.jsonl") -> dict:
    frames = frame_entries(entries)
    persons = [p for f in frames for p in f.get("persons", []) if p.get("method")]
    written = [f for f in frames if f.get("status") == "written"]
    timed = [e for e in entries if e.get("status", "").startswith("written")]
    options = dict(vars(args))
    if generator is not None:
        opt = generator.opt
        options["model"] = {"model": opt.model, "netG": opt.netG, "crop_size": opt.crop_size,
                            "window_side": args.window_side or generator.window_side or opt.crop_size,
                            "bbox_noise": opt.bbox_noise, "netG_mask_input": opt.netG_mask_input,
                            "netG_noise": opt.netG_noise, "netG_upsample": opt.netG_upsample,
                            "precision": generator.model.precision.amp, "truncation": generator.truncation,
                            "weights": (f"{Path(args.checkpoints_dir) / args.name} epoch {opt.epoch}" if args.name
                                        else str(model_file(args))),
                            "network_mode": "eval (BatchNorm running statistics, no dropout)" if generator.eval_mode
                            else "train (per-window BatchNorm statistics, dropout on; as test.py)"}
    return {
        "options": options,
        "detectors": [{"identity": d.identity, **({"cache_hits": d.hits, "cache_misses": d.misses}
                                                 if hasattr(d, "hits") else {})} for d in detector_list],
        "processes": world,
        "log": f"{log_name} (one line per finished input, appended as the run goes)",
        "frames": entries,
        "totals": {
            "inputs": len(entries),
            "frames": len(frames),
            "frames_written": len(written),
            "frames_skipped": sum(f.get("status", "").startswith("skipped") for f in frames),
            "frames_failed": sum(f.get("status") == "failed" for f in frames),
            "frames_nobody_selected": sum("warning" in f for f in frames),
            "detections": sum(f.get("detections", 0) for f in frames),
            "persons": len(persons),
            "persons_fallback": sum("fallback_reason" in p for p in persons),
            "persons_by_method": {m: sum(p["method"] == m for p in persons) for m in METHODS},
            "seconds": round(elapsed, 3),
            "seconds_per_written_frame": round(sum(e["seconds"] for e in timed) / len(written), 4)
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
    joined = distributed.launched_by_torchrun() and distributed.init_distributed(use_cuda=False)
    try:
        return run(args)
    except (AnnotationError, ModelError, DetectionError, FileNotFoundError, ImageReadError, InstanceIdsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    finally:
        if joined:
            distributed.destroy_distributed()
