"""Visualizer: log line formats (as the original's), parsing, pages, plots, optional visdom."""

from __future__ import annotations

import sys
import types
import warnings
from argparse import Namespace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from util import plot_losses as plot_losses_cli
from util.html import HTMLPage
from util.visualizer import (
    Visualizer,
    append_fidelity_log,
    format_loss_line,
    parse_loss_log,
    plot_losses,
    save_images,
)

SAMPLE_LINE = (
    "(epoch: 1, iters: 100, lr: 0.0002000, t_comp: 0.060, t_load: 0.129) G_image: 0.516 G_person: 0.604 "
    "G_L1: 14.425 D_image_real: 0.511 D_image_fake: 0.481 D_person_real: 0.327 D_person_fake: 0.049 "
    "acc_D_image_real: 0.480 acc_D_image_fake: 0.560 acc_D_person_real: 0.000 acc_D_person_fake: 1.000"
)
SAMPLE_LOSSES = {
    "G_image": 0.516,
    "G_person": 0.604,
    "G_L1": 14.425,
    "D_image_real": 0.511,
    "D_image_fake": 0.481,
    "D_person_real": 0.327,
    "D_person_fake": 0.049,
    "acc_D_image_real": 0.48,
    "acc_D_image_fake": 0.56,
    "acc_D_person_real": 0.0,
    "acc_D_person_fake": 1.0,
}
VAL_LINE = (
    "(epoch: 1, iters: 1200, sample: 0, lr: 0.0002000) D_image_real: 0.324 D_image_fake: 0.155 "
    "D_person_real: 0.000 D_person_fake: 0.001 acc_D_image_real: 0.310 acc_D_image_fake: 0.840 "
    "acc_D_person_real: 1.000 acc_D_person_fake: 1.000"
)
VAL_LOSSES = {
    "D_image_real": 0.324,
    "D_image_fake": 0.155,
    "D_person_real": 0.0,
    "D_person_fake": 0.001,
    "acc_D_image_real": 0.31,
    "acc_D_image_fake": 0.84,
    "acc_D_person_real": 1.0,
    "acc_D_person_fake": 1.0,
}


def _opt(tmp_path: Path, **kw) -> Namespace:
    base = {"checkpoints_dir": str(tmp_path), "name": "exp", "display_id": 0, "quiet": True}
    return Namespace(**{**base, **kw})


def _visuals() -> dict[str, torch.Tensor]:
    return {
        "real_A": torch.zeros(1, 3, 8, 8),
        "diff_B": torch.linspace(-3, 3, 64).view(1, 1, 8, 8).expand(1, 3, 8, 8),
        "fake_B": torch.ones(1, 3, 8, 8),
        "fake_B_display": -torch.ones(1, 3, 8, 8),
    }


class _Srcs(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.srcs: list[str] = []
        self.headers: list[str] = []
        self._in_h3 = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self._in_h3 = tag == "h3"
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])

    def handle_data(self, data):
        if self._in_h3 and data.strip():
            self.headers.append(data.strip())


def test_loss_line_matches_original_sample_exactly(tmp_path, capsys):
    line = format_loss_line(1, 100, SAMPLE_LOSSES, 0.060, 0.129, 0.0002)
    assert line == SAMPLE_LINE + " "  # the original appends '%s: %.3f ' per loss, so one trailing space
    vis = Visualizer(_opt(tmp_path, quiet=False))
    vis.print_current_losses(
        1, 100, {k: torch.tensor(v) for k, v in SAMPLE_LOSSES.items()}, 0.060, 0.129, 0.0002
    )
    assert capsys.readouterr().out.strip() == SAMPLE_LINE
    lines = (tmp_path / "exp" / "loss_log.txt").read_text().splitlines()
    assert lines[0].startswith("================ Training Loss (") and lines[0].endswith(") ================")
    assert lines[1] == SAMPLE_LINE + " "


def test_parse_round_trip_and_original_lines(tmp_path):
    log = tmp_path / "loss_log.txt"
    log.write_text(
        "================ Training Loss (Mon May 10 12:00:00 2021) ================\n"
        f"{SAMPLE_LINE}\n\n{format_loss_line(2, 200, {'G_image': float('nan')}, 1, 2, 1e-4)}\n"
    )
    first, second = parse_loss_log(log)
    assert first["epoch"] == 1 and first["iters"] == 100 and isinstance(first["iters"], int)
    assert first["lr"] == pytest.approx(2e-4) and first["t_comp"] == 0.06 and first["t_load"] == 0.129
    assert {k: first[k] for k in SAMPLE_LOSSES} == pytest.approx(SAMPLE_LOSSES)
    assert list(first)[5:] == list(SAMPLE_LOSSES)
    assert second["iters"] == 200 and np.isnan(second["G_image"])


def test_validation_and_fidelity_lines(tmp_path):
    vis = Visualizer(_opt(tmp_path))
    assert vis.print_validation_losses(1, 1200, 0, 0.0002, VAL_LOSSES) == VAL_LINE + " "
    assert (tmp_path / "exp" / "validation_loss_log.txt").read_text() == VAL_LINE + " \n"
    [entry] = parse_loss_log(tmp_path / "exp" / "validation_loss_log.txt")
    assert entry["sample"] == 0 and entry["D_image_fake"] == 0.155

    path = tmp_path / "new" / "val" / "fidelity_log.txt"
    append_fidelity_log(path, 3, 3600, {"frechet_inception_distance": 87.12344})
    append_fidelity_log(
        path,
        "best",
        None,
        {"inception_score_mean": 1.5, "inception_score_std": 0.25, "frechet_inception_distance": 90},
    )
    assert path.read_text().splitlines() == [
        "epoch: 3, iters: 3600, frechet_inception_distance: 87.1234, ",
        "epoch: best, inception_score_mean: 1.5000, inception_score_std: 0.2500, "
        "frechet_inception_distance: 90.0000, ",
    ]
    assert parse_loss_log(path)[1] == {
        "epoch": "best",
        "inception_score_mean": 1.5,
        "inception_score_std": 0.25,
        "frechet_inception_distance": 90.0,
    }


def test_training_page_lists_epochs_newest_first(tmp_path):
    vis = Visualizer(_opt(tmp_path, display_winsize=32))
    web = tmp_path / "exp" / "web"
    vis.display_current_results(_visuals(), epoch=1, save_result=False)
    vis.display_current_results(
        {"real_A": torch.ones(1, 3, 8, 8)}, epoch=1, save_result=False
    )  # already saved
    assert (np.asarray(Image.open(web / "images" / "epoch001_real_A.png")) == 128).all()
    vis.display_current_results(_visuals(), epoch=2, save_result=True)
    page = _Srcs((web / "index.html").read_text())
    assert page.headers == ["epoch [2]", "epoch [1]"]
    assert page.srcs[:4] == [f"images/epoch002_{lb}.png" for lb in _visuals()]
    assert all((web / s).is_file() for s in page.srcs) and len(page.srcs) == 8
    # diff_B is rescaled symmetrically, not clipped at +-1: its extremes are black and white.
    diff = np.asarray(Image.open(web / "images" / "epoch002_diff_B.png"))
    assert diff.min() == 0 and diff.max() == 255


def test_no_html_skips_pages(tmp_path):
    vis = Visualizer(_opt(tmp_path, no_html=True))
    vis.display_current_results(_visuals(), epoch=1, save_result=True)
    assert not (tmp_path / "exp" / "web").exists()


def test_save_images_for_test_pages(tmp_path):
    page = HTMLPage(tmp_path / "results", "test")
    written = save_images(
        page, _visuals(), ["/data/images/test/frame_01.left.png"], aspect_ratio=1.0, width=64
    )
    page.save()
    assert written["fake_B"] == tmp_path / "results" / "images" / "fake_B" / "frame_01_fake_B.png"
    assert all(p.is_file() for p in written.values())
    parsed = _Srcs((tmp_path / "results" / "index.html").read_text())
    assert parsed.headers == ["frame_01"]
    assert parsed.srcs == [f"images/{lb}/frame_01_{lb}.png" for lb in _visuals()]


def test_validation_page(tmp_path):
    vis = Visualizer(_opt(tmp_path))
    for epoch in (1, 2):
        for stem in ("b_img", "a_img"):
            vis.save_validation_visuals(_visuals(), epoch, f"/val5/{stem}.png")
    web = tmp_path / "exp" / "web_validation"
    assert (web / "images" / "epoch002_a_img_fake_B_display.png").is_file()
    parsed = _Srcs((web / "index.html").read_text())
    assert parsed.headers == ["epoch [2] a_img", "epoch [2] b_img", "epoch [1] a_img", "epoch [1] b_img"]
    assert parsed.srcs[:4] == [f"images/epoch002_a_img_{lb}.png" for lb in _visuals()]


def test_plot_losses_and_cli(tmp_path, capsys):
    exp = tmp_path / "exp"
    vis = Visualizer(_opt(tmp_path))
    assert plot_losses(vis.log_name, exp / "empty.png") is None  # header only
    for i in range(1, 6):
        vis.print_current_losses(1, i * 10, {k: v * i for k, v in SAMPLE_LOSSES.items()}, 0.1, 0.2, 2e-4)
        vis.print_validation_losses(i, i * 10, 0, 2e-4, VAL_LOSSES)
        vis.print_validation_losses(i, i * 10, 1, 2e-4, VAL_LOSSES)
    out = vis.plot_loss_log()
    assert out == exp / "loss_plot.png" and Image.open(out).format == "PNG"

    assert plot_losses_cli.main([str(vis.log_name), "--out", str(tmp_path / "plots")]) == 0
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    expected = {f"exp_{s}.png" for s in ["lr", *SAMPLE_LOSSES]} | {"exp_losses.png", "exp_validation.png"}
    assert names == expected
    assert len(capsys.readouterr().out.splitlines()) == len(expected)


def _fake_visdom(monkeypatch, connected: bool) -> list[tuple]:
    calls: list[tuple] = []

    class FakeVisdom:
        def __init__(self, **kwargs):
            calls.append(("init", kwargs))

        def check_connection(self, timeout_seconds=0):
            return connected

        def __getattr__(self, name):
            return lambda *a, **k: calls.append((name, a, k))

    monkeypatch.setitem(sys.modules, "visdom", types.SimpleNamespace(Visdom=FakeVisdom))
    return calls


def _run_display(tmp_path: Path) -> Visualizer:
    vis = Visualizer(_opt(tmp_path, display_id=1))
    for epoch in (1, 2):
        vis.display_current_results(_visuals(), epoch, save_result=True)
        vis.plot_current_losses(epoch, 0.5, SAMPLE_LOSSES)
    return vis


def test_visdom_missing_warns_once_and_continues(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "visdom", None)  # makes `import visdom` raise ImportError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _run_display(tmp_path)
    assert len([w for w in caught if "visdom" in str(w.message)]) == 1
    assert (tmp_path / "exp" / "web" / "index.html").is_file()


def test_visdom_without_server_warns_once(tmp_path, monkeypatch):
    calls = _fake_visdom(monkeypatch, connected=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _run_display(tmp_path)
    assert len([w for w in caught if "visdom" in str(w.message)]) == 1
    assert [c[0] for c in calls] == ["init"]


def test_visdom_connected_receives_images_and_curves(tmp_path, monkeypatch):
    calls = _fake_visdom(monkeypatch, connected=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_display(tmp_path)
    kinds = [c[0] for c in calls]
    assert kinds.count("image") == 2 and kinds.count("text") == 2
    lines = [c[2] for c in calls if c[0] == "line"]
    assert {k["win"] for k in lines} == {1, 4}  # losses and accuracies windows
    assert lines[-2]["Y"].shape == (2, 7) and lines[-1]["Y"].shape == (2, 4)
    image_call = next(c for c in calls if c[0] == "image")
    assert image_call[1][0].shape[0] == 3 and image_call[2]["win"] == 2
