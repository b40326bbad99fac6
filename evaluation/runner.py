"""Orchestration of ``python -m evaluation.evaluate``: build the tools and the reference, evaluate every row, report.

Crop mode compares a test.py results folder (and baselines on the same crops) with the dataset; frame mode
compares anonymized full frames with the original frames.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from evaluation import anonymity, baselines, crops, pipeline, report
from evaluation.fidelity_sets import RealFeatureCache, cache_dir
from evaluation.inception import load_fid_extractor
from evaluation.pipeline import Reference, Tools
from util.image_files import read_rgb


def build_tools(args: argparse.Namespace, inception=None, reid=None, lpips=None) -> Tools:
    """The networks from the flags; tests inject tiny ones."""
    if inception is None:
        inception = load_fid_extractor(args.inception_weights, args.trust_torchscript)
    if reid is None:
        from evaluation.reid import load_reid_extractor

        frame_paths = (args.original_frames, args.annotations) if args.mode == "frames" else ()
        demo_seed = crops.demo_data_seed(args.dataroot if args.mode == "crops" else None, frame_paths)
        reid = load_reid_extractor(args.reid_model, args.reid_weights, allow_random=args.allow_random_reid,
                                   demo_seed=demo_seed)
    if lpips is None and args.samples_per_input > 1:
        from evaluation.lpips import LPIPS
        from util.weights import WeightsNotFoundError

        try:
            lpips = LPIPS(net=args.lpips_net)
        except WeightsNotFoundError as error:
            print(f"[diversity] LPIPS not available: {error}", file=sys.stderr)
    return Tools(inception, reid, lpips, RealFeatureCache(cache_dir(args.out), args.quiet), args.seed, args.quiet)


def build_reference(args: argparse.Namespace, tools: Tools, stems: list[str]) -> Reference:
    real_files = crops.result_files(args.results_dir, "real_B", stems)
    real_images = [read_rgb(p) for p in real_files]
    height, width = real_images[0].shape[:2]
    test = crops.at_size(crops.load_phase(args.dataroot, args.phase, stems), width, height)
    real_features, key, hit = tools.cache.features(real_files, real_images, tools.inception)
    orig = pipeline.reid_of(tools, test.clean, test.boxes)
    train_stems: list[str] = []
    train_features = None
    if args.train_phase and (args.dataroot / "images" / args.train_phase).is_dir():
        train = crops.at_size(crops.load_phase(args.dataroot, args.train_phase, flag="--train_phase"), width, height)
        train_stems, train_features = train.stems, pipeline.reid_of(tools, train.clean, train.boxes)
    identities, id_source = crops.crop_identities(args.dataroot, stems + train_stems)
    gallery_ids = [identities.get(s, f"crop:{s}") for s in stems]
    same, diff, pairs_source = calibration_sets(args, orig, stems, train_features, train_stems, identities, id_source)
    threshold = pipeline.choose_threshold(args.threshold, same, diff, pairs_source)
    calibration = {"same": same, "diff": diff, "source": pairs_source}
    real_cache = {"key": key, "cache_hit": hit, "n": len(real_files), "folder": str(real_files[0].parent)}
    return Reference(test, real_files, real_images, real_features, real_cache, orig, gallery_ids, train_stems,
                     train_features, threshold, calibration, args.dataroot if train_stems else None, args.train_phase)


def calibration_sets(args, orig: np.ndarray, stems: list[str], train_features: np.ndarray | None,
                     train_stems: list[str], identities: dict, id_source: str | None):
    """Same/different-person distances among the ORIGINAL crops (test + train): from --pairs or identities."""
    feats = orig if train_features is None else np.concatenate([orig, train_features])
    names = stems + train_stems
    if args.pairs is not None:
        index = {s: i for i, s in enumerate(names)}
        pairs = crops.read_pairs(args.pairs)
        unknown = [p for p in pairs if p[0] not in index or p[1] not in index]
        if unknown:
            raise crops.EvaluationInputError(f"--pairs {args.pairs}: {len(unknown)} pairs name crops outside the "
                                             f"{args.phase}/{args.train_phase} originals, e.g. {unknown[0][:2]}")
        dist = anonymity.cosine_distance_matrix(feats, feats)
        values = np.array([dist[index[a], index[b]] for a, b, _ in pairs])
        labels = np.array([s for _, _, s in pairs])
        return values[labels], values[~labels], f"--pairs {args.pairs}, {len(pairs)} labelled pairs"
    known = [i for i, s in enumerate(names) if s in identities]
    if len(known) < 2:
        return None, None, None
    same, diff = pipeline.calibration_distances(feats[known], [identities[names[i]] for i in known])
    if not same.size:
        return None, None, None
    return same, diff, f"identities from {id_source}, {len(known)} crops of phases {args.phase}+{args.train_phase}"


def model_row(args, tools: Tools, ref: Reference) -> tuple[dict, dict, dict]:
    stems = ref.test.stems
    display = crops.load_results(args.results_dir, "fake_B_display", stems)
    raw = crops.load_results(args.results_dir, "fake_B", stems)
    samples, generation = None, {}
    why_not = "not run (give --checkpoints_dir/--name/--epoch to re-run the generator K times)"
    if args.name and args.samples_per_input > 1:
        from evaluation.resample import generate_samples, network_mode_is_eval

        samples, generation = generate_samples(
            args.checkpoints_dir, args.name, args.epoch, args.dataroot, args.phase, stems, args.samples_per_input,
            args.seed, network_mode_is_eval(args.results_dir), args.quiet, args.amp)
    row, details = pipeline.evaluate_row("model", tools, ref, display, raw, samples, why_not)
    row["source"] = str(args.results_dir)
    if generation:
        row["diversity"]["generation"] = generation
    return row, details, {"display": display}


def baseline_row(args, tools: Tools, ref: Reference, method: str) -> tuple[dict, dict, dict]:
    test = ref.test
    display = baselines.apply_baseline(test.clean, test.boxes, method, args.seed)
    samples = None
    why_not = "n/a (deterministic method)"
    if method in baselines.STOCHASTIC and args.samples_per_input > 1:
        runs = [display] + [baselines.apply_baseline(test.clean, test.boxes, method, args.seed, j)
                            for j in range(1, args.samples_per_input)]
        samples = [list(group) for group in zip(*runs, strict=True)]
    row, details = pipeline.evaluate_row(method, tools, ref, display, None, samples, why_not)
    row["baseline"] = baselines.describe(method)
    return row, details, {"display": display}


def run_crops(args: argparse.Namespace, tools: Tools | None = None) -> dict[str, Any]:
    start = time.perf_counter()
    methods = baselines.parse_baselines(args.baselines)
    stems = crops.result_stems(args.results_dir)
    tools = tools or build_tools(args)
    ref = build_reference(args, tools, stems)
    rows, details, images = [], {}, {}
    for name, make in [("model", lambda: model_row(args, tools, ref))] + [
            (m, lambda m=m: baseline_row(args, tools, ref, m)) for m in methods]:
        row, detail, imgs = make()
        rows.append(row)
        details[name], images[name] = detail, imgs
    metrics = report.metrics_document(args, tools, ref, rows, time.perf_counter() - start)
    report.write_all(args.out, metrics, ref, details, images, args.report_samples)
    return metrics
