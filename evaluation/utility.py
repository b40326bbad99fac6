"""Does anonymization hurt the data? Detectors trained on anonymized frames, tested on original frames.

    python -m evaluation.utility --frames ROOT --annotations ROOT --methods original,blur,pixelate,mask,noise,gan \\
        [--name RUN [--checkpoints_dir DIR --epoch best] | --model_file FILE] --out DIR \\
        [--seeds 0,1] [--steps 200] [--scale 0.5] [--train_split train] [--test_split test]

``--frames`` holds ``<split>/<city>/*.png`` (Cityscapes ``leftImg8bit``), ``--annotations`` the matching CityPersons
files (``gtBboxCityPersons``). The study of Hukkelås & Lindseth (CVPRW 2023), on our data:

1. every method anonymizes the training and test frames through ``anonymize.py``'s code path (``anonymizer.cli``,
   the annotated boxes, its default labels and seed; ``original`` is the frames as they are);
2. **fixed detector** (no training): the built-in pedestrian detector (``--detector builtin`` of anonymize.py, raw
   boxes without its safety margin) on each method's anonymized *test* frames: is an anonymized person still a
   person to a detector?
3. **trained detectors**: per method and seed, the built-in detector's network fine-tuned on that method's
   anonymized *training* frames (``evaluation.train_detector``, same seed and schedule for every method), then
   tested on the *original* test frames.

Both give COCO-style AP@0.5 and AP@[.5:.95] by box height (``evaluation.detection_ap``) and the drop against
``original``. Everything is resumable: anonymized frames, each fixed-detector result and each (method, seed)
result are files under ``--out`` that a rerun reuses. Writes ``OUT/utility.md`` and ``OUT/metrics.json`` (with
the command, commit, date and machine).
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from pathlib import Path, PurePosixPath

import numpy as np

from anonymizer.annotations import AnnotationError, load_annotations
from anonymizer.detection import DetectionError
from util.cli import number, os_error_text
from util.fileio import atomic_write_json, atomic_write_text
from util.image_files import ImageReadError, read_rgb
from util.provenance import git_commit, machine
from util.weights import WeightsNotFoundError

METHODS = ("original", "blur", "pixelate", "mask", "noise", "gan")
TARGET_LABEL = "pedestrian"  # every other annotated box (riders, groups, 'ignore') is an ignore region
FIXED_KEEP_SCORE = 0.05  # the fixed detector's boxes are kept from this score (AP needs the low-score tail)
OPERATING_SCORE = 0.5  # anonymize.py's --detection_threshold: recall at the score it acts on


class StudyError(Exception):
    """Input the study cannot use; the message names the file or flag."""


# ------------------------------------------------------------------------------------------------ data


def frame_paths(root: Path, split: str, limit: int) -> list[Path]:
    folder = root / split
    paths = sorted(folder.rglob("*.png"))
    if not paths:
        raise StudyError(f"{folder}: no .png frames")
    return paths[:limit] if limit else paths


def load_samples(paths: list[Path], frames_root: Path, image_root: Path, annotations: Path, scale: float):
    """The frames (read from the same relative path under ``image_root``) with their pedestrian boxes and
    ignore regions, at ``scale``."""
    from evaluation.train_detector import Sample, resize

    index = load_annotations(annotations, "full")
    samples = []
    for path in paths:
        relative = PurePosixPath(path.relative_to(frames_root).as_posix())
        annotation = index.lookup(relative)
        if annotation is None or annotation.error:
            raise StudyError(annotation.error if annotation else f"{path}: no annotation in {annotations}")
        image = read_rgb(image_root / Path(*relative.parts))
        boxes = np.asarray([p.box for p in annotation.persons if p.label == TARGET_LABEL], float).reshape(-1, 4)
        ignore = np.asarray([p.box for p in annotation.persons if p.label != TARGET_LABEL], float).reshape(-1, 4)
        samples.append(Sample(resize(image, scale), boxes * scale, ignore * scale, str(relative)))
    return samples


def anonymized_root(args: argparse.Namespace, method: str, split: str) -> Path:
    """The frames of ``split`` anonymized by ``method`` (made now through anonymize.py's code path, or reused)."""
    if method == "original":
        return args.frames / split
    from anonymizer import cli

    out = args.out / "frames" / method / split
    argv = ["-i", str(args.frames / split), "-a", str(args.annotations / split), "-o", str(out), "--method", method]
    if method == "gan":
        argv += (["--name", args.name, "--checkpoints_dir", str(args.checkpoints_dir), "--epoch", args.epoch]
                 if args.name else ["--model_file", str(args.model_file)] if args.model_file else [])
    if args.quiet:
        argv.append("--quiet")
    status = cli.main(argv)
    if status != 0:
        raise StudyError(f"anonymize.py {' '.join(shlex.quote(a) for a in argv)} failed (exit {status}); "
                         "no detector is trained or tested on a partly anonymized set")
    return out


# ------------------------------------------------------------------------------------------------ measures


def ap_of(samples, detections: list[tuple[np.ndarray, np.ndarray]], scale: float) -> dict:
    """detection_ap's summary in frame pixels of the original resolution (boxes and heights unscaled)."""
    from evaluation.detection_ap import ImageBoxes, summarize

    images = [ImageBoxes(np.concatenate([s.boxes, s.ignore]) / scale,
                         np.r_[np.zeros(len(s.boxes), bool), np.ones(len(s.ignore), bool)],
                         boxes / scale, scores, s.name) for s, (boxes, scores) in zip(samples, detections, strict=True)]
    return summarize(images, score_threshold=OPERATING_SCORE)


def run_fixed(args: argparse.Namespace, method: str, test_paths: list[Path], detector_holder: dict) -> dict:
    target = args.out / "fixed" / f"{method}.json"
    if target.exists():
        return _read_json(target)
    from anonymizer.detection import Frame
    from util.progress import progress_bar

    if "detector" not in detector_holder:
        from anonymizer.detectors import builtin_person_detector

        detector_holder["detector"] = builtin_person_detector(args.min_person_height, FIXED_KEEP_SCORE, margin=0.0)
    detector = detector_holder["detector"]
    root = anonymized_root(args, method, args.test_split)
    samples = load_samples(test_paths, args.frames / args.test_split, root, args.annotations / args.test_split, 1.0)
    detections, begin = [], time.perf_counter()
    for sample in progress_bar(samples, desc=f"fixed detector on {method} test frames", quiet=args.quiet,
                               unit="frame"):
        (found,) = detector.detect([Frame(sample.image, Path(sample.name).name)])
        detections.append((np.asarray([d.box for d in found], float).reshape(-1, 4),
                           np.asarray([d.score for d in found], float)))
    result = {"method": method, "detector": detector.identity, "test_frames": len(samples),
              "seconds": round(time.perf_counter() - begin, 1), **ap_of(samples, detections, 1.0)}
    atomic_write_json(target, result)
    return result


def run_trained(args: argparse.Namespace, method: str, seed: int, train_paths: list[Path], test_samples) -> dict:
    target = args.out / "trained" / method / f"seed{seed}.json"
    if target.exists():
        return _read_json(target)
    from evaluation import train_detector
    from util.progress import progress_bar

    root = anonymized_root(args, method, args.train_split)
    samples = load_samples(train_paths, args.frames / args.train_split, root, args.annotations / args.train_split,
                           args.scale)
    model = train_detector.TrainableSSDLite(train_detector.shipped_detector())
    schedule = train_detector.Schedule(steps=args.steps, batch_size=args.batch_size, crop=args.crop)
    bar = progress_bar(range(schedule.steps), desc=f"train on {method} (seed {seed})", quiet=args.quiet, unit="step")
    begin = time.perf_counter()

    def advance(step: int, losses: dict) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{losses['total']:.3f}")

    history = train_detector.train(model, samples, schedule, seed, advance)
    bar.close()
    seconds = time.perf_counter() - begin
    detections = [train_detector.detect(model, s.image) for s in test_samples]
    result = {"method": method, "seed": seed, "train_frames": len(samples), "test_frames": len(test_samples),
              "schedule": vars(schedule), "train_seconds": round(seconds, 1), "loss_history": history,
              **ap_of(test_samples, detections, args.scale)}
    atomic_write_json(target, result)
    return result


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ table


COLUMNS = (("AP50", "all", "AP@0.5"), ("AP", "all", "AP@[.5:.95]"), ("AP50", "small", "AP@0.5 small"),
           ("AP50", "medium", "AP@0.5 medium"), ("AP50", "large", "AP@0.5 large"), ("recall50", "all", "recall@0.5"))


def _stat(values: list[float | None]) -> tuple[float, float] | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def aggregate(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Per method and column: mean and std over seeds, and the drop against ``original`` (paired by seed)."""
    rows = {}
    base = {r.get("seed", 0): r for r in results.get("original", [])}
    for method, runs in results.items():
        row = {}
        for key, size, _ in COLUMNS:
            values = [r["bins"][size][key] for r in runs]
            drops = [base[r.get("seed", 0)]["bins"][size][key] - r["bins"][size][key]
                     for r in runs if r.get("seed", 0) in base and r["bins"][size][key] is not None
                     and base[r.get("seed", 0)]["bins"][size][key] is not None]
            row[f"{key}_{size}"] = {"mean_std": _stat(values), "drop_mean_std": _stat(drops) if base else None,
                                    "values": values}
        rows[method] = row
    return rows


def _cell(stat: tuple[float, float] | None, spread: bool) -> str:
    if stat is None:
        return "–"
    return f"{100 * stat[0]:.1f} ± {100 * stat[1]:.1f}" if spread else f"{100 * stat[0]:.1f}"


def markdown(rows: dict[str, dict], first: str, spread: bool) -> str:
    header = [first] + [name for _, _, name in COLUMNS[:2] for name in (name, "drop")] + \
        [name for _, _, name in COLUMNS[2:]]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for method, row in rows.items():
        cells = [method]
        for key, size, _ in COLUMNS[:2]:
            cell = row[f"{key}_{size}"]
            cells += [_cell(cell["mean_std"], spread),
                      "–" if method == "original" else _cell(cell["drop_mean_std"], spread)]
        cells += [_cell(row[f"{key}_{size}"]["mean_std"], spread) for key, size, _ in COLUMNS[2:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ CLI


def _methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown or len(set(methods)) != len(methods):
        raise argparse.ArgumentTypeError(f"expected distinct methods from {','.join(METHODS)}, got {text!r}")
    return methods


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct seeds >= 0, got {text!r}")
    return seeds


def _crop(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 256x512, got {text!r}") from None
    if not (32 <= height <= 2048 and 32 <= width <= 4096):
        raise argparse.ArgumentTypeError(f"crop {text} out of range (32..2048 x 32..4096)")
    return height, width


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evaluation.utility", description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=Path, required=True, help="leftImg8bit-style root: <split>/<city>/*.png")
    p.add_argument("--annotations", type=Path, required=True, help="gtBboxCityPersons-style root: <split>/...")
    p.add_argument("--out", type=Path, required=True, help="study folder (anonymized frames, results, table)")
    p.add_argument("--methods", type=_methods, default=list(METHODS), help=",".join(METHODS))
    p.add_argument("--measures", default="fixed,trained", choices=("fixed,trained", "fixed", "trained"),
                   help="fixed: the built-in detector on anonymized test frames; trained: detectors trained on "
                        "anonymized training frames, tested on original frames")
    p.add_argument("--train_split", default="train")
    p.add_argument("--test_split", default="test", help="CityPersons: val (its test split has no boxes)")
    p.add_argument("--train_frames", type=number(int, minimum=0), default=0, help="first N (0: all)")
    p.add_argument("--test_frames", type=number(int, minimum=0), default=0, help="first N (0: all)")
    gan = p.add_argument_group("GAN (--methods gan; default: the shipped demo model, as anonymize.py)")
    gan.add_argument("--name", default=None, help="trained run under --checkpoints_dir")
    gan.add_argument("--checkpoints_dir", type=Path, default=Path("checkpoints"))
    gan.add_argument("--epoch", default="best")
    gan.add_argument("--model_file", type=Path, default=None, help="a shipped generator <stem>.pth")
    det = p.add_argument_group("detectors")
    det.add_argument("--seeds", type=_seeds, default=[0, 1], help="training seeds (%(default)s)")
    det.add_argument("--steps", type=number(int, minimum=1), default=200, help="training steps (%(default)s)")
    det.add_argument("--batch_size", type=number(int, minimum=1), default=4, help="crops per step (%(default)s)")
    det.add_argument("--crop", type=_crop, default=(256, 512), help="training crop HxW at --scale (256x512)")
    det.add_argument("--scale", type=number(above=0, maximum=1), default=0.5,
                     help="frames are resized by this for training and testing the trained detectors (%(default)s)")
    det.add_argument("--min_person_height", type=number(above=0), default=50,
                     help="the fixed detector's finest tiles, as anonymize.py (%(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.name and args.model_file:
        parser.error("give either --name (a trained run) or --model_file (a shipped generator), not both")
    for flag, folder in (("--frames", args.frames), ("--annotations", args.annotations)):
        for split in (args.train_split, args.test_split):
            if not (folder / split).is_dir():
                parser.error(f"{flag} {folder}: no {split}/ folder in it")


def settings(args: argparse.Namespace) -> dict:
    """Everything a stored result depends on besides its method and seed."""
    return {"frames": str(args.frames), "annotations": str(args.annotations), "train_split": args.train_split,
            "test_split": args.test_split, "train_frames": args.train_frames, "test_frames": args.test_frames,
            "gan": {"name": args.name, "checkpoints_dir": str(args.checkpoints_dir), "epoch": args.epoch,
                    "model_file": str(args.model_file) if args.model_file else None},
            "steps": args.steps, "batch_size": args.batch_size, "crop": list(args.crop), "scale": args.scale,
            "min_person_height": args.min_person_height}


def check_settings(args: argparse.Namespace) -> None:
    """A rerun may add methods and seeds; with any other setting changed its stored results would be mixed with
    new ones, so it is refused."""
    path = args.out / "settings.json"
    wanted = settings(args)
    if path.exists():
        stored = _read_json(path)
        changed = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
        if changed:
            raise StudyError(f"{path}: this study folder holds results made with other settings ({', '.join(changed)}"
                             f"); rerun with the same ones or use another --out")
    else:
        atomic_write_json(path, wanted)


def provenance(args: argparse.Namespace, seconds: float) -> dict:
    return {"command": "python -m evaluation.utility " + " ".join(shlex.quote(a) for a in args.argv),
            "git_commit": git_commit(), "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": machine(), "seconds": round(seconds, 1)}


def run(args: argparse.Namespace) -> dict:
    begin = time.perf_counter()
    check_settings(args)
    test_paths = frame_paths(args.frames, args.test_split, args.test_frames)
    document: dict = {"methods": args.methods, "settings": settings(args)}
    sections = []
    if "fixed" in args.measures:
        holder: dict = {}
        fixed = {m: [run_fixed(args, m, test_paths, holder)] for m in args.methods}
        document["fixed"] = {"results": fixed, "table": aggregate(fixed)}
        sections.append(("Fixed detector (built-in, no training) on anonymized test frames",
                         markdown(document["fixed"]["table"], "test frames", spread=False)))
    if "trained" in args.measures:
        train_paths = frame_paths(args.frames, args.train_split, args.train_frames)
        test_samples = load_samples(test_paths, args.frames / args.test_split, args.frames / args.test_split,
                                    args.annotations / args.test_split, args.scale)
        trained = {m: [run_trained(args, m, seed, train_paths, test_samples) for seed in args.seeds]
                   for m in args.methods}
        document["trained"] = {"results": trained, "table": aggregate(trained), "seeds": args.seeds,
                               "scale": args.scale}
        sections.append((f"Detectors trained on anonymized training frames, tested on original test frames "
                         f"(mean ± std over seeds {','.join(map(str, args.seeds))})",
                         markdown(document["trained"]["table"], "training set", spread=True)))
    document.update(provenance(args, time.perf_counter() - begin))
    text = "\n\n".join(f"### {title}\n\n{table}" for title, table in sections)
    text += ("\n\nAP in percent (COCO 101-point, IoU 0.5 and 0.50:0.95), drop = AP(original) − AP(method) in AP "
             "points; sizes by full-box height in frame pixels (small ≤ 50, medium 50–150, large ≥ 150; – where the "
             "test frames have none); recall@0.5 of up to 100 detections per frame."
             f"\n\nCommand: `{document['command']}`  \nCommit: {document['git_commit']}; "
             f"{document['date']}; {document['machine']}\n")
    atomic_write_json(args.out / "metrics.json", document)
    atomic_write_text(args.out / "utility.md", text)
    print(text)
    return document


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    check(args, parser)
    try:
        run(args)
    except (StudyError, AnnotationError, ImageReadError, DetectionError, WeightsNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
