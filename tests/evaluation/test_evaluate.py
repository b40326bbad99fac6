"""python -m evaluation.evaluate end to end on a tiny trained psgan and its test results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import test as test_script
import train as train_script
from evaluation import crops, evaluate, runner
from util import weights as W
from util.weights import WeightsFile, WeightsNotFoundError

TINY = ["--crop_size", "64", "--load_size", "72", "--netG", "unet_64", "--ngf", "8", "--ndf", "8", "--gpu_ids",
        "-1", "--quiet", "--val_metric", "box_l1"]


class TinyInception(nn.Module):
    """Stand-in for the FID Inception (too slow for a unit test), traceable like the real one."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 16, 5, stride=4)
        torch.save(self.state_dict(), path)
        self.weights_file = WeightsFile(path, "inception_fid", "test stand-in", "state_dict")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)).mean(dim=(2, 3)).double()


@pytest.fixture(scope="module")
def results(crop_dataroot, tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("eval_run")
    assert train_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(work), "--name", "run",
                              "--n_epochs", "1", "--n_epochs_decay", "0", *TINY]) == 0
    with pytest.MonkeyPatch.context() as mp:  # test.py's own FID is not under test here
        mp.setattr(test_script, "InceptionFeatures", _no_inception)
        assert test_script.main(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(work), "--name", "run",
                                 "--results_dir", str(work / "results"), "--gpu_ids", "-1", "--quiet",
                                 "--epoch", "latest"]) == 0
    return work, work / "results" / "run" / "test_latest"


def _no_inception(*args, **kwargs):
    raise WeightsNotFoundError("inception_fid", "not in this test")


def test_evaluate_end_to_end(crop_dataroot, results, tmp_path, monkeypatch):
    work, results_dir = results
    monkeypatch.setattr(runner, "load_fid_extractor", lambda *args, **kwargs: TinyInception(tmp_path / "tiny.pth"))
    out = tmp_path / "report"
    argv = ["--results_dir", str(results_dir), "--dataroot", str(crop_dataroot), "--out", str(out),
            "--checkpoints_dir", str(work), "--name", "run", "--epoch", "latest", "--reid_model", "alexnet",
            "--allow_random_reid", "--report_samples", "3", "--quiet"]
    assert evaluate.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    names = [row["name"] for row in metrics["rows"]]
    assert names == ["model", "blur", "pixelate", "mask", "noise"]
    n = metrics["n"]
    model = metrics["rows"][0]
    assert model["fidelity"]["raw"]["n_fake"] == n and model["fidelity"]["composite"]["n_real"] == n
    assert model["anonymity"]["rates"]["not_anonymized"]["n"] == n
    assert model["diversity"]["k"] == 2 and model["diversity"]["lpips"]["n_inputs"] == n
    assert metrics["rows"][1]["diversity"]["lpips"].startswith("n/a")
    assert isinstance(metrics["rows"][4]["diversity"]["lpips"], dict)  # noise is random: it has a diversity
    assert metrics["rows"][1]["background"]["psnr_identical_count"] == n  # a baseline only touches the box
    # Traceability: every network's file and SHA-256.
    assert metrics["weights"]["inception"]["files"][0]["sha256"]
    assert "not a re-ID model" in metrics["weights"]["reid"]["description"]
    assert metrics["weights"]["lpips"]["files"][0]["sha256"]
    assert metrics["threshold"]["source"] and 0 < metrics["threshold"]["value"] < 2
    table = (out / "metrics.md").read_text()
    assert all(f"| {name} |" in table for name in names)
    page = (out / "report.html").read_text()
    assert "distances.png" in page and "samples/0000_0.png" in page
    assert not (out / "samples" / "0003_0.png").exists()

    # Second run: the real-set features come from the cache, and the numbers are the same.
    computed = []
    original = runner.RealFeatureCache.features

    def spy(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        computed.append(result[2])
        return result

    monkeypatch.setattr(runner.RealFeatureCache, "features", spy)
    assert evaluate.main(argv[:-1] + ["--baselines", "none", "--samples_per_input", "1", "--quiet"]) == 0
    again = json.loads((out / "metrics.json").read_text())
    assert computed == [True]
    assert again["rows"][0]["fidelity"]["raw"]["fid"] == model["fidelity"]["raw"]["fid"]


def test_demo_data_is_measured_with_the_shipped_demo_reid_model(crop_dataroot, results, tmp_path, monkeypatch):
    """On demo data (no torchreid files around) every report names the shipped OSNet trained on demo identities;
    on other data the generic fallback is used and labelled."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("AGAN_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setattr(runner, "load_fid_extractor", lambda *args, **kwargs: TinyInception(tmp_path / "tiny.pth"))
    _, results_dir = results
    out = tmp_path / "report"
    assert evaluate.main(["--results_dir", str(results_dir), "--dataroot", str(crop_dataroot), "--out", str(out),
                          "--baselines", "blur", "--samples_per_input", "1", "--report_samples", "1",
                          "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    reid = metrics["weights"]["reid"]
    # The committed model (evaluation/shipped/MODEL_CARD.md), trained on demo data of another seed.
    assert reid["description"].startswith("OSNet trained on demo identities (OSNet x0.25, osnet_x0_25_demo.pth; "
                                          "synthetic people of make_demo_data seed 1416") and reid["is_reid_model"]
    shipped = W.REPO_ROOT / W.SHIPPED_DEMO_REID
    assert reid["weights"] == str(shipped) and reid["weights_sha256"] == W.sha256_of(shipped)
    for name in ("metrics.md", "report.html"):
        assert "OSNet trained on demo identities" in (out / name).read_text()
    assert crops.demo_data_seed(crop_dataroot) == 3
    assert crops.demo_data_seed(None, (crop_dataroot.parent / "frames" / "leftImg8bit" / "test",)) == 3
    other = tmp_path / "not_demo"
    other.mkdir()
    assert crops.demo_data_seed(other, (other,)) is None
    args = evaluate.parse(["--results_dir", str(results_dir), "--dataroot", str(other), "--samples_per_input", "1"])
    assert "generic appearance features" in runner.build_tools(args).reid.description


def test_bad_input_names_the_flag(crop_dataroot, tmp_path, capsys):
    code = evaluate.main(["--results_dir", str(tmp_path / "missing"), "--dataroot", str(crop_dataroot),
                          "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2 and "--results_dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate.main(["--dataroot", str(crop_dataroot)])


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_an_unknown_torchscript_file_is_refused_with_one_error(tmp_path, capsys):
    other = tmp_path / "other.pt"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(other))
    display = tmp_path / "results" / "images" / "fake_B_display"
    display.mkdir(parents=True)
    for stem in ("a", "b"):
        (display / f"{stem}_fake_B_display.png").write_bytes(b"")  # never read: the network is refused first
    assert evaluate.main(["--results_dir", str(tmp_path / "results"), "--dataroot", str(tmp_path),
                          "--inception_weights", str(other), "--baselines", "none", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {other}: a TorchScript file runs code")
