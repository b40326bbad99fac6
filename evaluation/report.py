"""The evaluation report: metrics.json (every number with n, seeds, weight files), metrics.md, report.html.

All files are written atomically. The HTML page (dominate) escapes every file name and holds the distance
histograms, the ROC of same- vs different-person distances, and one grid per sample: original, anonymized,
nearest training person and its distance.
"""

from __future__ import annotations

import io
import shlex
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from dominate import document  # noqa: E402
from dominate import tags as t  # noqa: E402
from PIL import Image  # noqa: E402

from evaluation import anonymity  # noqa: E402
from evaluation.columns import CROP_COLUMNS, markdown_table  # noqa: E402
from evaluation.pipeline import Reference, Tools, _jsonable, describe_reid, describe_weights  # noqa: E402
from evaluation.reid import reid_crop  # noqa: E402
from util.fileio import atomic_write, atomic_write_bytes, atomic_write_json, atomic_write_text  # noqa: E402


def metrics_document(args, tools: Tools, ref: Reference, rows: list[dict], seconds: float) -> dict[str, Any]:
    calib = ref.calibration
    return _jsonable({
        "command": "python -m evaluation.evaluate " + " ".join(shlex.quote(a) for a in (args.argv or sys.argv[1:])),
        "mode": "crops",
        "dataroot": str(args.dataroot), "phase": args.phase, "train_phase": args.train_phase,
        "results_dir": str(args.results_dir), "n": len(ref.test.stems), "n_train": len(ref.train_stems),
        "seeds": {"seed": args.seed, "kid_subset_draws": args.seed, "samples": [args.seed + k for k in
                                                                             range(args.samples_per_input)]},
        "threshold": ref.threshold,
        "calibration_pairs": {"source": calib.get("source"),
                              "n_same": int(calib["same"].size) if calib.get("same") is not None else 0,
                              "n_diff": int(calib["diff"].size) if calib.get("diff") is not None else 0},
        "weights": {"inception": describe_weights(tools.inception), "reid": describe_reid(tools.reid),
                    "lpips": describe_weights(tools.lpips)},
        "feature_model_note": describe_reid(tools.reid)["description"],
        "rows": rows,
        "seconds": seconds,
    })


# ----------------------------------------------------------------------------------------------------
# Markdown table


def reported_row(row: dict) -> dict:
    """The row as metrics.md shows it: a baseline has no raw output, so its FID/KID columns show the composite's."""
    fidelity = row["fidelity"]
    if isinstance(fidelity.get("raw"), dict):
        return row
    return {**row, "fidelity": {**fidelity, "raw": fidelity["composite"]}}


def markdown(metrics: dict) -> str:
    lines = [f"# Evaluation: {metrics.get('results_dir', metrics.get('frames_dir', ''))}", "",
             f"n = {metrics['n']}; threshold {metrics['threshold']['value']:.4f} "
             f"({metrics['threshold']['source']}); re-ID features: {metrics['feature_model_note']}", "",
             *markdown_table(CROP_COLUMNS, [reported_row(row) for row in metrics["rows"]], first="method")]
    lines += ["", "FID/KID: raw output vs real_B (baselines: the composite); PSNR/SSIM outside the box: raw output "
              "vs real_B. Rates: fraction (count/n); lower is better for all but FID-free columns. "
              "Every number, its n and the weight files (SHA-256) are in metrics.json.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Figures and HTML


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def histogram_figure(calibration: dict, details: dict, threshold: float) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(0, 1.2, 49)
    for values, label in ((calibration.get("same"), "same person (originals)"),
                          (calibration.get("diff"), "different persons (originals)")):
        if values is not None and len(values):
            ax.hist(values, bins=bins, density=True, alpha=0.5, label=label)
    for name, detail in details.items():
        ax.hist(detail["to_own_original"], bins=bins, density=True, histtype="step", label=f"{name} vs original")
    ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set_xlabel("cosine distance")
    ax.legend(fontsize=7)
    return _png(fig)


def roc_figure(calibration: dict) -> bytes | None:
    same, diff = calibration.get("same"), calibration.get("diff")
    if same is None or diff is None or not len(same) or not len(diff):
        return None
    fpr, tpr, auc = anonymity.roc_curve(same, diff)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(fpr, tpr, label=f"AUC {auc:.3f}")
    ax.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    ax.set_xlabel("false positive rate (different persons called same)")
    ax.set_ylabel("true positive rate")
    ax.legend()
    return _png(fig)


def _save_png(path: Path, image: np.ndarray) -> None:
    atomic_write(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))


def sample_grid(out: Path, ref: Reference, details: dict, images: dict, count: int, train_crops: dict) -> list[dict]:
    """One PNG per person crop and per sample; returns the table rows for the HTML."""
    rows = []
    for i, stem in enumerate(ref.test.stems[:count]):
        box = ref.test.boxes[i]
        cells = [("original", reid_crop(ref.test.clean[i], box), None)]
        for name, imgs in images.items():
            cells.append((name, reid_crop(imgs["display"][i], box), float(details[name]["to_own_original"][i])))
        nearest = details["model"]["nearest_train"]
        if nearest is not None:
            j = int(nearest[i])
            cells.append((f"nearest train: {ref.train_stems[j]}", train_crops[j],
                          float(details["model"]["nearest_train_distance"][i])))
        files = []
        for k, (label, crop, distance) in enumerate(cells):
            rel = Path("samples") / f"{i:04d}_{k}.png"
            _save_png(out / rel, crop)
            files.append((label, str(rel), distance))
        rows.append({"stem": stem, "cells": files})
    return rows


def html_page(metrics: dict, figures: dict[str, str], samples: list[dict]) -> str:
    doc = document(title="A-GAN evaluation")
    with doc:
        t.h1("A-GAN evaluation")
        t.p(f"Command: {metrics['command']}")  # dominate escapes text nodes and attributes
        t.p(f"Threshold {metrics['threshold']['value']:.4f}: {metrics['threshold']['source']}")
        t.p(f"Re-ID features: {metrics['feature_model_note']}")
        with t.table(border=1, style="border-collapse:collapse"):
            t.tr([t.th(name) for name in ("method", *(column.name for column in CROP_COLUMNS))])
            for row in map(reported_row, metrics["rows"]):
                t.tr([t.td(cell) for cell in (row["name"], *(column.cell(row) for column in CROP_COLUMNS))])
        for title, rel in figures.items():
            t.h2(title)
            t.img(src=rel)
        t.h2(f"First {len(samples)} samples (cosine distance to the original)")
        with t.table():
            for sample in samples:
                with t.tr():
                    t.td(sample["stem"])
                    for label, rel, distance in sample["cells"]:
                        caption = label if distance is None else f"{label}: {distance:.3f}"
                        t.td(t.img(src=rel, width=64), t.br(), caption, style="font-size:10px")
    return doc.render()


def write_all(out: Path, metrics: dict, ref: Reference, details: dict, images: dict, report_samples: int,
              train_crops: dict | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "metrics.md", markdown(metrics))
    figures = {"Distance histograms": "figures/distances.png"}
    atomic_write_bytes(out / figures["Distance histograms"],
                       histogram_figure(ref.calibration, details, ref.threshold["value"]))
    roc = roc_figure(ref.calibration)
    if roc is not None:
        figures["ROC: same vs different person"] = "figures/roc.png"
        atomic_write_bytes(out / figures["ROC: same vs different person"], roc)
    if train_crops is None:
        train_crops = _train_crops(ref, details, report_samples)
    samples = sample_grid(out, ref, details, images, report_samples, train_crops)
    atomic_write_text(out / "report.html", html_page(metrics, figures, samples))


def _train_crops(ref: Reference, details: dict, count: int) -> dict:
    """Re-ID crops of the nearest training persons of the first samples (loaded on demand)."""
    nearest = details.get("model", {}).get("nearest_train")
    if nearest is None or ref.train_dataroot is None:
        return {}
    from evaluation.crops import load_phase

    wanted = sorted({int(j) for j in nearest[:count]})
    loaded = load_phase(ref.train_dataroot, ref.train_phase, [ref.train_stems[j] for j in wanted])
    return {j: reid_crop(img, box) for j, img, box in zip(wanted, loaded.clean, loaded.boxes, strict=True)}
