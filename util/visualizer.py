"""Training/validation/test logging and visual dumps: loss logs, HTML pages, loss plots, optional visdom.

Log line formats are the original's so that old plot scripts keep working, e.g.::

    (epoch: 1, iters: 100, lr: 0.0002000, t_comp: 0.060, t_load: 0.129) G_image: 0.516 G_person: 0.604 ...
    (epoch: 1, iters: 1200, sample: 0, lr: 0.0002000) D_image_real: 0.324 ...
    epoch: 3, iters: 3600, frechet_inception_distance: 87.1234,
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from util.html import HTMLPage
from util.images import diff_map_to_image, make_grid, save_image, tensor_to_image
from util.plot_losses import parse_loss_log, plot_losses

__all__ = [
    "Visualizer",
    "append_fidelity_log",
    "format_loss_line",
    "format_validation_line",
    "parse_loss_log",
    "plot_losses",
    "save_images",
    "visual_to_image",
]

# epoch%03d_<rest>.png as written by the training and validation pages.
_EPOCH_FILE = re.compile(r"^epoch(\d+)_(.+)\.png$")


def _losses_text(losses: Mapping[str, Any]) -> str:
    return "".join(f"{k}: {float(v):.3f} " for k, v in losses.items())


def format_loss_line(
    epoch: int, iters: int, losses: Mapping[str, Any], t_comp: float, t_load: float, lr: float
) -> str:
    """The original loss_log.txt line (no newline); each loss is ``'%s: %.3f '``, so it ends in a space."""
    times = f"t_comp: {t_comp:.3f}, t_load: {t_load:.3f}"
    head = f"(epoch: {int(epoch)}, iters: {int(iters)}, lr: {lr:.7f}, {times}) "
    return head + _losses_text(losses)


def format_validation_line(epoch: int, iters: int, sample: int, lr: float, losses: Mapping[str, Any]) -> str:
    """The original validation_loss_log.txt line (no newline)."""
    head = f"(epoch: {int(epoch)}, iters: {int(iters)}, sample: {int(sample)}, lr: {lr:.7f}) "
    return head + _losses_text(losses)


def _append_line(path: Path, line: str) -> None:
    # Logs grow line by line; a plain flushed append is enough (a torn last line only loses that line).
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()


def append_fidelity_log(
    path: str | Path, epoch: int | str, iters: int | None, metrics: Mapping[str, float]
) -> str:
    """Append ``epoch: 3, iters: 3600, frechet_inception_distance: 87.1234, `` (iters left out when None)."""
    line = f"epoch: {epoch}, "
    if iters is not None:
        line += f"iters: {iters}, "
    line += "".join(f"{k}: {float(v):.4f}, " for k, v in metrics.items())
    _append_line(Path(path), line)
    return line


def _image_stem(image_path: str | Path | Sequence[str]) -> str:
    """Basename up to its first dot; a batch's list of paths names its first sample."""
    if not isinstance(image_path, str | Path):
        image_path = image_path[0]
    name = Path(image_path).name
    return name.split(".")[0] or Path(name).stem


def visual_to_image(label: str, visual: torch.Tensor) -> np.ndarray:
    """uint8 image of one visual; difference maps (labels starting 'diff') are rescaled, not clipped."""
    return diff_map_to_image(visual) if label.startswith("diff") else tensor_to_image(visual)


def save_images(
    webpage: HTMLPage,
    visuals: Mapping[str, torch.Tensor],
    image_path: str | Path | Sequence[str],
    aspect_ratio: float = 1.0,
    width: int = 256,
) -> dict[str, Path]:
    """Save the first sample of each visual to ``images/<label>/<stem>_<label>.png`` and add a header + row.

    The page is not written; call ``webpage.save()`` when done.  Returns label -> file written.
    """
    stem = _image_stem(image_path)
    written, ims = {}, []
    for label, visual in visuals.items():
        rel = Path("images") / label / f"{stem}_{label}.png"
        written[label] = save_image(visual_to_image(label, visual), webpage.web_dir / rel, aspect_ratio)
        ims.append(rel.as_posix())
    webpage.add_header(stem)
    webpage.add_images(ims, list(visuals), ims, width=width)
    return written


def _scan_epoch_files(img_dir: Path) -> dict[int, list[str]]:
    """epoch -> the '<rest>' parts of its ``epoch%03d_<rest>.png`` files (sorted)."""
    found: dict[int, list[str]] = {}
    for path in sorted(img_dir.glob("epoch*.png")):
        match = _EPOCH_FILE.match(path.name)
        if match:
            found.setdefault(int(match.group(1)), []).append(match.group(2))
    return found


class _Visdom:
    """Optional visdom connection: any failure (not installed, no server, server gone) warns once."""

    def __init__(self, server: str, port: int, env: str) -> None:
        self.vis: Any = None
        self.failed = False
        try:
            import visdom  # optional dependency, only needed with --display_id > 0

            vis = visdom.Visdom(
                server=server, port=port, env=env, raise_exceptions=True, use_incoming_socket=False
            )
            if not vis.check_connection(timeout_seconds=2):
                raise ConnectionError(f"no visdom server answers at {server}:{port}")
            self.vis = vis
        except Exception as exc:  # ImportError, connection errors, visdom's own errors
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if not self.failed:
            message = (
                f"visdom display disabled ({exc!r}); training continues without it. "
                "Start a server with `python -m visdom.server` or set --display_id 0."
            )
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        self.failed = True
        self.vis = None

    def call(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self.vis is None:
            return
        try:
            getattr(self.vis, method)(*args, **kwargs)
        except Exception as exc:
            self._fail(exc)


class Visualizer:
    """Writes the training logs and pages under ``checkpoints/<name>/``; optionally mirrors them to visdom."""

    def __init__(self, opt: Any) -> None:
        self.name: str = getattr(opt, "name", "experiment_name")
        self.save_dir = Path(getattr(opt, "checkpoints_dir", "./checkpoints")) / self.name
        self.display_id: int = getattr(opt, "display_id", 0)
        self.ncols: int = getattr(opt, "display_ncols", 4)
        self.win_size: int = getattr(opt, "display_winsize", 256)
        self.is_train: bool = getattr(opt, "isTrain", True)
        self.use_html: bool = self.is_train and not getattr(opt, "no_html", False)
        self.quiet: bool = getattr(opt, "quiet", False)
        self.web_dir = self.save_dir / "web"
        self.val_web_dir = self.save_dir / "web_validation"
        self.log_name = self.save_dir / "loss_log.txt"
        self.val_log_name = self.save_dir / "validation_loss_log.txt"
        self._saved_epoch: int | None = None
        self._plot_data: dict[str, list] = {"x": [], "losses": {}}
        self.visdom: _Visdom | None = None
        if self.display_id > 0:
            self.visdom = _Visdom(
                getattr(opt, "display_server", "http://localhost"),
                getattr(opt, "display_port", 8097),
                getattr(opt, "display_env", "main"),
            )
        if self.is_train:
            # Each (re)start appends a dated header, so a resumed run's log shows where it picked up.
            header = f"================ Training Loss ({time.strftime('%c')}) ================"
            _append_line(self.log_name, header)

    # ---------------------------------------------------------------- logs
    def _emit(self, path: Path, line: str) -> None:
        if not self.quiet:
            print(line)
        _append_line(path, line)

    def print_current_losses(
        self, epoch: int, iters: int, losses: Mapping[str, Any], t_comp: float, t_load: float, lr: float
    ) -> str:
        line = format_loss_line(epoch, iters, losses, t_comp, t_load, lr)
        self._emit(self.log_name, line)
        return line

    def print_validation_losses(
        self, epoch: int, iters: int, sample: int, lr: float, losses: Mapping[str, Any]
    ) -> str:
        line = format_validation_line(epoch, iters, sample, lr, losses)
        self._emit(self.val_log_name, line)
        return line

    def plot_loss_log(self, out_png: str | Path | None = None) -> Path | None:
        """Redraw this run's loss curves (default ``checkpoints/<name>/loss_plot.png``)."""
        return plot_losses(self.log_name, out_png or self.save_dir / "loss_plot.png")

    # ---------------------------------------------------------------- training page
    def display_current_results(
        self, visuals: Mapping[str, torch.Tensor], epoch: int, save_result: bool
    ) -> None:
        """Show visuals in visdom and, at least once per epoch or when ``save_result``, on the HTML page."""
        save_html = self.use_html and (save_result or self._saved_epoch != epoch)
        if not save_html and (self.visdom is None or self.visdom.vis is None):
            return  # nothing to show: skip the tensor -> image conversions
        images = {label: visual_to_image(label, v) for label, v in visuals.items()}
        if self.visdom is not None:
            self._visdom_images(images, epoch)
        if not save_html:
            return
        self._saved_epoch = epoch
        for label, image in images.items():
            save_image(image, self.web_dir / "images" / f"epoch{epoch:03d}_{label}.png")
        self._write_training_page(list(visuals))

    def _write_training_page(self, label_order: list[str]) -> None:
        """Rebuild index.html from the files on disk, so epochs from before a resume stay listed."""
        page = HTMLPage(self.web_dir, f"Experiment name = {self.name}", refresh=0)
        rank = {label: i for i, label in enumerate(label_order)}
        for epoch, labels in sorted(_scan_epoch_files(page.img_dir).items(), reverse=True):
            labels = sorted(labels, key=lambda lb: (rank.get(lb, len(rank)), lb))
            ims = [f"images/epoch{epoch:03d}_{label}.png" for label in labels]
            page.add_header(f"epoch [{epoch}]")
            page.add_images(ims, labels, ims, width=self.win_size)
        page.save()

    # ---------------------------------------------------------------- validation page (val5)
    def save_validation_visuals(
        self, visuals: Mapping[str, torch.Tensor], epoch: int, image_path: str | Path | Sequence[str]
    ) -> dict[str, Path]:
        """Save ``web_validation/images/epoch%03d_<stem>_<label>.png``, rebuild that folder's index.html."""
        stem = _image_stem(image_path)
        written = {
            label: save_image(
                visual_to_image(label, v),
                self.val_web_dir / "images" / f"epoch{epoch:03d}_{stem}_{label}.png",
            )
            for label, v in visuals.items()
        }
        self._write_validation_page(list(visuals))
        return written

    def _write_validation_page(self, labels: list[str]) -> None:
        """One header per (epoch, sample), newest epoch first; older files are matched by current labels."""
        page = HTMLPage(self.val_web_dir, f"Validation: {self.name}", refresh=0)
        by_length = sorted(labels, key=len, reverse=True)  # longest first: fake_B_display before fake_B
        for epoch, rests in sorted(_scan_epoch_files(page.img_dir).items(), reverse=True):
            samples: dict[str, set[str]] = {}
            for rest in rests:
                label = next((lb for lb in by_length if rest.endswith("_" + lb)), None)
                if label is not None:
                    samples.setdefault(rest[: -len(label) - 1], set()).add(label)
            for stem in sorted(samples):
                present = [lb for lb in labels if lb in samples[stem]]
                ims = [f"images/epoch{epoch:03d}_{stem}_{lb}.png" for lb in present]
                page.add_header(f"epoch [{epoch}] {stem}")
                page.add_images(ims, present, ims, width=self.win_size)
        page.save()

    # ---------------------------------------------------------------- visdom
    def _visdom_images(self, images: Mapping[str, np.ndarray], epoch: int) -> None:
        assert self.visdom is not None
        grid = make_grid(list(images.values()), self.ncols)
        self.visdom.call(
            "image",
            grid.transpose(2, 0, 1),
            win=self.display_id + 1,
            opts={"title": f"{self.name} images, epoch {epoch}"},
        )
        labels = "".join(f"<td>{label}</td>" for label in images)
        self.visdom.call(
            "text",
            f"<table><tr>{labels}</tr></table>",
            win=self.display_id + 2,
            opts={"title": f"{self.name} labels"},
        )

    def plot_current_losses(self, epoch: int, counter_ratio: float, losses: Mapping[str, Any]) -> None:
        """Send the loss curves (window display_id) and accuracies (display_id + 3) to visdom, if enabled."""
        if self.visdom is None or self.visdom.vis is None:
            return
        self._plot_data["x"].append(epoch + counter_ratio)
        for key, value in losses.items():
            self._plot_data["losses"].setdefault(key, []).append(float(value))
        n = len(self._plot_data["x"])
        groups = {
            self.display_id: [k for k in losses if not k.startswith(("acc", "grad"))],
            self.display_id + 3: [k for k in losses if k.startswith("acc")],
            self.display_id + 4: [k for k in losses if k.startswith("grad")],
        }
        for win, keys in groups.items():
            # Only keys logged on every call so far have a value per x; others would misalign the columns.
            keys = [k for k in keys if len(self._plot_data["losses"][k]) == n]
            if not keys:
                continue
            x = np.tile(np.asarray(self._plot_data["x"])[:, None], (1, len(keys)))
            y = np.stack([self._plot_data["losses"][k] for k in keys], axis=1)
            self.visdom.call(
                "line",
                X=x,
                Y=y,
                win=win,
                opts={
                    "title": f"{self.name} loss over time",
                    "legend": keys,
                    "xlabel": "epoch",
                    "ylabel": "value",
                },
            )
