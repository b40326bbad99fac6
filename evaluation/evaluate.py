"""Evaluate anonymized crops or frames: fidelity, background preservation, diversity, anonymity, baselines.

Crops (a test.py results folder against its dataset)::

    python -m evaluation.evaluate --results_dir results/<name>/<phase>_<epoch> --dataroot D [--phase test]
        [--train_phase train] [--out DIR] [--baselines blur,pixelate,mask,noise]
        [--checkpoints_dir checkpoints --name NAME --epoch best --samples_per_input 2]

Full frames (anonymized vs original, matched by relative path; CityPersons boxes per frame)::

    python -m evaluation.evaluate --frames_dir ANON --original_frames ORIG --annotations ANN [--out DIR]

Writes ``metrics.json``, ``metrics.md`` and ``report.html`` into ``--out`` (default ``<results_dir>/evaluation``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.errors import DatasetError
from evaluation.crops import EvaluationInputError
from util.cli import number, os_error_text
from util.weights import WeightsNotFoundError


def _threshold(text: str) -> str:
    if text in ("calibrate", "auto"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'calibrate' or 'auto', got {text!r}") from None
    if not 0.0 < value < 2.0:
        raise argparse.ArgumentTypeError(f"a cosine-distance threshold lies in (0, 2), got {value}")
    return text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evaluation.evaluate", description=__doc__.split("\n")[0])
    crops = p.add_argument_group("crops")
    crops.add_argument("--results_dir", type=Path, help="test.py results: results/<name>/<phase>_<epoch>")
    crops.add_argument("--dataroot", type=Path, help="crop dataset (images/<phase>, bbox/<phase>, manifest.json)")
    crops.add_argument("--phase", default="test", help="split the results were made from (%(default)s)")
    crops.add_argument("--train_phase", default="train", help="training split for 'similar to train' (%(default)s)")
    crops.add_argument("--baselines", default="blur,pixelate,mask,noise",
                       help="traditional methods evaluated beside the model ('none' for none; %(default)s)")
    crops.add_argument("--checkpoints_dir", type=Path, default=Path("checkpoints"), help="%(default)s")
    crops.add_argument("--name", default=None, help="experiment name: re-run its generator for the diversity")
    crops.add_argument("--epoch", default="best", help="checkpoint prefix (%(default)s)")
    crops.add_argument("--samples_per_input", type=_positive, default=2, help="K samples per input (%(default)s)")
    frames = p.add_argument_group("full frames")
    frames.add_argument("--frames_dir", type=Path, help="anonymized frames (any depth)")
    frames.add_argument("--original_frames", type=Path, help="original frames, same relative paths")
    frames.add_argument("--annotations", type=Path, help="CityPersons gtBboxCityPersons JSONs (any depth)")
    frames.add_argument("--second_sample", type=Path, default=None,
                        help="the same frames anonymized with another seed (same relative paths): in-box "
                             "LPIPS-diversity")
    both = p.add_argument_group("common")
    both.add_argument("--out", type=Path, default=None, help="report folder (default <results_dir>/evaluation)")
    both.add_argument("--threshold", type=_threshold, default="auto",
                      help="re-ID distance threshold: a number (the thesis used 0.22), 'calibrate' (F1 sweep on "
                           "same-person pairs; an error-free fallback to 0.22 is noted), or 'auto' (calibrate when "
                           "pairs exist); default %(default)s")
    both.add_argument("--pairs", type=Path, default=None, help="labelled pairs 'stem_a,stem_b,1|0' for calibration")
    both.add_argument("--reid_model", default="osnet_ain_x1_0", help="osnet_ain_x1_0, osnet_x1_0 or alexnet")
    both.add_argument("--reid_weights", default=None, help="torchreid weights file (else searched offline)")
    both.add_argument("--allow_random_reid", action="store_true", help="random re-ID weights if none (tests only)")
    both.add_argument("--inception_weights", default=None, help="FID Inception file (else searched offline)")
    both.add_argument("--trust_torchscript", action="store_true",
                      help="load a TorchScript --inception_weights file other than the pinned FID network "
                           "(loading TorchScript runs the code inside it)")
    both.add_argument("--lpips_net", default="alex", choices=("alex", "vgg"), help="%(default)s")
    both.add_argument("--report_samples", type=number(int, minimum=0), default=20,
                      help="samples shown in report.html (%(default)s)")
    both.add_argument("--seed", type=number(int, minimum=0), default=0,
                      help="seed of samples, KID subsets, noise (%(default)s)")
    both.add_argument("--quiet", action="store_true", help="no progress bars")
    both.add_argument("--amp", default="auto", choices=("auto", "bf16", "none"),
                      help="precision of the generator re-runs (the metric networks always run in fp32, so scores "
                           "compare across machines); auto = bf16 only on a CPU measured faster in it")
    both.add_argument("--threads", type=number(int, minimum=1), default=None,
                      help="torch intra-op threads; default: OMP_NUM_THREADS if set, else the usable cores")
    return p


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    frame_flags = (args.frames_dir, args.original_frames, args.annotations)
    if any(f is not None for f in frame_flags):
        if not all(f is not None for f in frame_flags):
            parser.error("frame mode needs --frames_dir, --original_frames and --annotations together")
        if args.results_dir is not None:
            parser.error("give either --results_dir (crops) or --frames_dir (frames), not both")
        args.mode = "frames"
        args.out = args.out or args.frames_dir.parent / f"{args.frames_dir.name}_evaluation"
    else:
        if args.results_dir is None or args.dataroot is None:
            parser.error("crop mode needs --results_dir and --dataroot (or use --frames_dir ...)")
        args.mode = "crops"
        args.out = args.out or args.results_dir / "evaluation"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from evaluation import frames, runner  # heavy imports after the argument check
    from util.threads import configure_threads

    print(f"[threads] {configure_threads(args.threads).describe()}")

    try:
        metrics = runner.run_crops(args) if args.mode == "crops" else frames.run_frames(args)
    except (EvaluationInputError, DatasetError, WeightsNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    print(f"report: {args.out / 'report.html'} ({metrics['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
