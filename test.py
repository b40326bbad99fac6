"""Test a trained generator: ``python test.py --dataroot DATA --name EXP --epoch best [--num_test N] [--eval]``.

Writes ``results/<name>/<phase>_<epoch>/images/<label>/<stem>_<label>.png`` for every visual, an ``index.html``
page, ``test_info.json`` (checkpoint files, seed, BatchNorm/dropout mode) and, when the offline Inception weights are
found, FID/KID of ``fake_B`` and of the composite ``fake_B_display`` against ``real_B`` appended to
``fidelity_log.txt`` and ``fidelity_log_display.txt``. The network flags default to the run's train_opt.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from data import DatasetError, create_dataset
from evaluation.fidelity import (
    InceptionFeatures,
    UnsupportedWeightsFormatError,
    UntrustedTorchScriptError,
    compute_fid_kid,
)
from models import CheckpointError, ready_model
from options.test_options import TestOptions
from util.cli import os_error_text
from util.fileio import atomic_write_json
from util.html import HTMLPage
from util.progress import progress_bar
from util.seed import seed_everything
from util.threads import configure_threads
from util.visualizer import append_fidelity_log, save_images
from util.weights import WeightsNotFoundError, sha256_of

FIDELITY_LOGS = {"fake_B": "fidelity_log.txt", "fake_B_display": "fidelity_log_display.txt"}


def fixed_test_settings(opt) -> None:
    """test.py always reads one sample at a time, in order, unaugmented (as the original hard-codes)."""
    opt.num_threads = 0
    opt.batch_size = 1
    opt.serial_batches = True
    opt.no_flip = True
    opt.display_id = -1


def run_test(opt) -> Path:
    dataset = create_dataset(opt)
    model = ready_model(opt, eval_mode=opt.eval, amp=opt.amp)
    prefix = model.checkpoint_prefix()
    web_dir = Path(opt.results_dir) / opt.name / f"{opt.phase}_{prefix}"
    page = HTMLPage(web_dir, f"Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {prefix}")
    count = min(opt.num_test, len(dataset))
    for index, batch in enumerate(progress_bar(dataset, total=count, desc="test", quiet=opt.quiet)):
        if index >= opt.num_test:
            break
        model.set_input(batch)
        model.test()
        save_images(page, model.get_current_visuals(), model.get_image_paths()[0],
                    aspect_ratio=opt.aspect_ratio, width=opt.display_winsize)
    page.save()
    checkpoints = [model.network_path(prefix, name) for name in model.inference_networks()]
    atomic_write_json(web_dir / "test_info.json", {
        "epoch": prefix, "phase": opt.phase, "num_images": count, "seed": opt.seed,
        "network_mode": "eval (BatchNorm running statistics, no dropout)" if opt.eval
        else "train (BatchNorm per-image statistics, dropout on; the original's default)",
        "precision": model.precision.amp,
        "checkpoints": {str(path): sha256_of(path) for path in checkpoints},
    })
    write_fidelity(opt, web_dir, prefix)
    print(f"results: {web_dir / 'index.html'}")
    return web_dir


def write_fidelity(opt, web_dir: Path, prefix: str) -> None:
    """FID/KID of the raw output and of the composite against the real crops, when Inception is available."""
    try:
        extractor = InceptionFeatures(explicit=opt.inception_weights, trust_torchscript=opt.trust_torchscript)
    except WeightsNotFoundError as error:
        print(f"[fidelity] skipped: {error}")
        return
    real = web_dir / "images" / "real_B"
    for label, log_name in FIDELITY_LOGS.items():
        folder = web_dir / "images" / label
        if not folder.is_dir() or len(list(folder.glob("*.png"))) < 2:
            continue
        result = compute_fid_kid(folder, real, extractor, fid_method="eigh")
        metrics = {"frechet_inception_distance": result["fid"], "kernel_inception_distance_mean": result["kid_mean"],
                   "kernel_inception_distance_std": result["kid_std"]}
        append_fidelity_log(web_dir / log_name, prefix, None, metrics)
        print(f"[fidelity] {label}: FID {result['fid']:.4f}, KID {result['kid_mean']:.5f} "
              f"± {result['kid_std']:.5f} (n = {result['n_fake']})")


def main(argv: list[str] | None = None) -> int:
    options = TestOptions()
    opt = options.parse(argv)
    fixed_test_settings(opt)
    if options.inherited:
        print(f"[options] from train_opt.json: {', '.join(options.inherited)}")
    print(options.format_options(opt), end="")
    print(f"[threads] {configure_threads(opt.threads).describe()}, precision {opt.amp}")
    seed_everything(opt.seed)
    try:
        options.save_options(opt, Path(opt.results_dir) / opt.name, "test")
        run_test(opt)
    except (DatasetError, CheckpointError, UntrustedTorchScriptError, UnsupportedWeightsFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a read-only --results_dir
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
