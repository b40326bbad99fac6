"""Parse ``loss_log.txt`` / ``validation_loss_log.txt`` and plot the loss curves.

CLI (the original plotting notebook as a command)::

    python -m util.plot_losses checkpoints/<name>/loss_log.txt [--out DIR]

writes ``<name>_<series>.png`` per series (lr, G_image, D_image_fake, ...), the combined
``<name>_losses.png``, and, when ``validation_loss_log.txt`` sits next to the log, ``<name>_validation.png``
(one line per val sample).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from util.cli import os_error_text
from util.fileio import atomic_write

# `key: value` with the value running to the next space or comma; keys are loss names such as D_image_real.
_PAIR = re.compile(r"([A-Za-z_][\w.\-]*): ([^\s,()]+)")
# Bookkeeping fields of a line, not curves of their own.
_META_KEYS = ("epoch", "iters", "sample", "t_comp", "t_load")
_INT_KEYS = ("epoch", "iters", "sample")

LogValue = int | float | str


def _parse_value(key: str, text: str) -> LogValue:
    if key in _INT_KEYS:
        try:
            return int(text)
        except ValueError:
            pass  # e.g. "epoch: best" in test.py's fidelity logs
    try:
        return float(text)
    except ValueError:
        return text


def parse_log_line(line: str) -> dict[str, LogValue]:
    """All ``key: value`` pairs of one log line, in order; epoch/iters/sample as int, the rest as float."""
    return {key: _parse_value(key, value) for key, value in _PAIR.findall(line)}


def parse_loss_log(path: str | Path) -> list[dict[str, LogValue]]:
    """One dict per entry of a loss, validation or fidelity log; header and blank lines are skipped."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("="):
            continue
        entry = parse_log_line(line)
        if entry:
            entries.append(entry)
    return entries


def loss_families(keys: Sequence[str]) -> dict[str, list[str]]:
    """Group curve names for plotting: G terms, D terms, accuracies, and anything else (lr excluded)."""
    families: dict[str, list[str]] = {"G losses": [], "D losses": [], "D accuracies": [], "other": []}
    for key in keys:
        if key in _META_KEYS or key == "lr":
            continue
        if key.startswith("acc"):
            families["D accuracies"].append(key)
        elif key.startswith("G"):
            families["G losses"].append(key)
        elif key.startswith("D"):
            families["D losses"].append(key)
        else:
            families["other"].append(key)
    return {name: members for name, members in families.items() if members}


def _series(entries: list[dict[str, LogValue]], key: str, x_key: str) -> tuple[list[float], list[float]]:
    points = [(e[x_key], e[key]) for e in entries if isinstance(e.get(key), float) and x_key in e]
    return [float(x) for x, _ in points], [float(y) for _, y in points]


def _ordered_keys(entries: list[dict[str, LogValue]]) -> list[str]:
    """Every key in first-seen order (logs of the original's --save_grads runs and resumed runs may add keys
    part-way)."""
    return list(dict.fromkeys(key for entry in entries for key in entry))


def _save_figure(fig: Figure, out_png: str | Path) -> Path:
    # No pyplot: a bare Agg canvas needs no display and leaves matplotlib's global state alone.
    FigureCanvasAgg(fig)
    return atomic_write(out_png, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def plot_losses(loss_log_path: str | Path, out_png: str | Path) -> Path | None:
    """One PNG, a subplot per loss family against iterations; None (nothing written) for an empty log."""
    entries = [e for e in parse_loss_log(loss_log_path) if "iters" in e]
    families = loss_families(_ordered_keys(entries))
    if not families:
        return None
    fig = Figure(figsize=(12, 3 * len(families)))
    for row, (title, keys) in enumerate(families.items(), start=1):
        ax = fig.add_subplot(len(families), 1, row)
        for key in keys:
            ax.plot(*_series(entries, key, "iters"), label=key, linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return _save_figure(fig, out_png)


def plot_series(loss_log_path: str | Path, out_dir: str | Path, prefix: str) -> list[Path]:
    """One wide PNG per series (lr and every loss), ``<out_dir>/<prefix>_<series>.png``, like the notebook."""
    entries = [e for e in parse_loss_log(loss_log_path) if "iters" in e]
    keys = [k for k in _ordered_keys(entries) if k not in _META_KEYS]
    written = []
    for key in keys:
        xs, ys = _series(entries, key, "iters")
        if not xs:
            continue
        fig = Figure(figsize=(16, 3))
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(xs, ys, linewidth=0.8)
        ax.set_title(key)
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        written.append(_save_figure(fig, Path(out_dir) / f"{prefix}_{key}.png"))
    return written


def plot_validation_losses(val_log_path: str | Path, out_png: str | Path) -> Path | None:
    """Per val5 sample, each D loss and accuracy against epochs (a subplot per series, a line per sample)."""
    entries = [e for e in parse_loss_log(val_log_path) if "epoch" in e and "sample" in e]
    keys = [k for k in _ordered_keys(entries) if k not in _META_KEYS and k != "lr"]
    if not keys:
        return None
    samples = sorted({int(e["sample"]) for e in entries})
    fig = Figure(figsize=(12, 2.5 * len(keys)))
    for row, key in enumerate(keys, start=1):
        ax = fig.add_subplot(len(keys), 1, row)
        for sample in samples:
            sample_entries = [e for e in entries if e["sample"] == sample]
            ax.plot(*_series(sample_entries, key, "epoch"), label=f"img{sample}")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return _save_figure(fig, out_png)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m util.plot_losses", description=__doc__.split("\n\n")[0])
    parser.add_argument("loss_log", type=Path, help="checkpoints/<name>/loss_log.txt")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the log's folder)")
    args = parser.parse_args(argv)
    if not args.loss_log.is_file():
        parser.error(f"no such file: {args.loss_log}")
    log_dir = args.loss_log.resolve().parent
    name = log_dir.name
    out_dir = args.out or log_dir
    try:
        written = plot_series(args.loss_log, out_dir, name)
        combined = plot_losses(args.loss_log, out_dir / f"{name}_losses.png")
        written += [combined] if combined else []
        val_log = log_dir / "validation_loss_log.txt"
        if val_log.is_file():
            val_png = plot_validation_losses(val_log, out_dir / f"{name}_validation.png")
            written += [val_png] if val_png else []
    except UnicodeDecodeError:
        print(f"error: {args.loss_log}: not a text loss log (not UTF-8)", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    if not written:
        print(f"no loss entries in {args.loss_log}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
