"""The project's own bad-input corpus: every command-line tool, run as a user runs it, on inputs that are wrong.

Each case must end with a non-zero exit status, exactly one line containing ``error:`` (argparse's usage lines may
precede it) that names the file or flag at fault, and no traceback. The commands run in subprocesses: one
``tests/bad_input_driver.py`` process per command executes all of that command's cases as ``__main__`` (imports
are paid once), and ``test_the_driver_reports_what_a_real_command_line_reports`` checks that a few cases give the
same status and error line when run as plain ``python CLI ARGS``.

Inputs are tiny and made here (or taken from the session's crop dataset): the whole corpus takes seconds per
command. ``{name}`` in an argument is replaced by the path of the input ``name`` (see ``inputs``).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TINY_NET = ["--crop_size", "64", "--load_size", "72", "--netG", "unet_64", "--ngf", "8", "--ndf", "8",
            "--gpu_ids", "-1", "--quiet"]


@dataclass(frozen=True)
class Case:
    cli: str
    args: tuple[str, ...]
    names: str  # what the error line must contain (the flag or the file at fault, or the problem)

    @property
    def id(self) -> str:
        distinct = [arg for arg in self.args if arg not in COMMON_ARGS]
        return f"{self.cli.removeprefix('-m ')} {' '.join(distinct)}"


def case(cli: str, *args: str, names: str) -> Case:
    return Case(cli, args, names)


TRAIN = ("--dataroot", "{crops}", "--checkpoints_dir", "{tmp}/ck", "--name", "fresh", *TINY_NET,
         "--val_metric", "box_l1")
RUN = ("--dataroot", "{crops}", "--checkpoints_dir", "{runs}", "--name", "run", *TINY_NET)
ANON = ("-o", "{tmp}/anon_out", "--overwrite", "--quiet")
CITY = ("--frame_size", "128x64", "--crop_size", "32", "--workers", "1", "--quiet")
COMMON_ARGS = {*TRAIN, *RUN, *ANON, *CITY} - {"{crops}"}

CASES = [
    # ---- train.py: numeric flags, data, checkpoints, weights, output folder
    *[case("train.py", *TRAIN, flag, value, names=flag) for flag, value in [
        ("--lr", "nan"), ("--lr", "-1"), ("--lr", "inf"), ("--clip_value", "nan"), ("--clip_value", "0"),
        ("--num_threads", "-1"), ("--batch_size", "0"), ("--beta1", "1.5"), ("--n_epochs", "-1"),
        ("--max_dataset_size", "nan"), ("--init_gain", "nan"), ("--seed", "-1"), ("--lambda_L1", "nan"),
        ("--disc_label_noise", "-0.1"), ("--pool_size_image", "-1"), ("--save_epoch_freq", "0"),
        ("--epoch_count", "0"), ("--ngf", "0"), ("--display_winsize", "0"), ("--ema_decay", "1"),
        ("--crop_size", "x"), ("--threads", "0"), ("--L1_box_weight", "2"), ("--diff_augment", "flip")]],
    case("train.py", *TRAIN, "--model", "progan", "--netG", "unet_32", names="--netG"),
    case("train.py", *TRAIN, "--model", "progan", "--lambda_L1_stage_2", "nan", names="--lambda_L1_stage_2"),
    case("train.py", *TRAIN, "--preprocess", "resize_rotate", names="--preprocess"),
    case("train.py", *TRAIN, "--lambda_vae_L1", "10", names="--lambda_vae_L1"),
    case("train.py", *TRAIN, "--person_hole_fraction", "1", "--bbox_noise", "original", names="--person_hole_fraction"),
    case("train.py", *TRAIN, "--gpu_ids", "0,x", names="--gpu_ids"),
    case("train.py", *TRAIN, "--dataroot", "{missing}", names="missing"),
    case("train.py", *TRAIN, "--dataroot", "{bomb_crops}", names="decompression bomb"),
    case("train.py", *TRAIN, "--dataroot", "{bad_box_crops}", names="bbox"),
    case("train.py", *TRAIN, "--checkpoints_dir", "{file}/ck", names="Not a directory"),
    case("train.py", *RUN, "--continue_train", names="latest_state.pth: does not match"),
    case("train.py", *RUN, "--continue_train", "--epoch", "7", names="7_net_G.pth: checkpoint not found"),
    case("train.py", *RUN, "--name", "nostate", "--continue_train", names="latest_state.pth: training state not"),
    case("train.py", *TRAIN, "--val_metric", "fid", "--inception_weights", "{evil_pt}", names="--trust_torchscript"),
    case("train.py", *TRAIN, "--val_metric", "fid", "--inception_weights", "{state_pth}", names="state_dict.pth"),
    case("train.py", *TRAIN, "--dataroot", "{one_val_crops}", "--val_metric", "fid", names="needs at least 2"),
    # ---- test.py
    *[case("test.py", *RUN, flag, value, names=flag) for flag, value in [
        ("--aspect_ratio", "0"), ("--aspect_ratio", "nan"), ("--num_test", "0"), ("--load_iter", "-1"),
        ("--display_winsize", "-5")]],
    case("test.py", *RUN, "--dataroot", "{missing}", names="missing"),
    case("test.py", *RUN, "--epoch", "best", names="best_net_G.pth: does not match"),
    case("test.py", *RUN, "--epoch", "9", names="9_net_G.pth: checkpoint not found"),
    case("test.py", *RUN, "--name", "no_such_run", names="no_such_run"),
    case("test.py", *RUN, "--results_dir", "{file}/results", names="Not a directory"),
    case("test.py", *RUN, "--inception_weights", "{evil_pt}", names="--trust_torchscript"),
    case("test.py", *RUN, "--inception_weights", "{state_pth}", names="state_dict.pth"),
    # ---- anonymize.py: flags, annotations, frames, output folder
    *[case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "blur", flag, value,
           names=flag) for flag, value in [
        ("--blur_sigma", "nan"), ("--blur_sigma", "0"), ("--pixelate_block", "1"), ("--mask_value", "300"),
        ("--noise_amplitude", "2"), ("--blend_px", "-1"), ("--redraws", "9"), ("--batch_size", "0"), ("--seed", "-1"),
        ("--margin", "-2"), ("--strength", "nan")]],
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "pixelate", "--strength", "1",
         names="--strength"),
    case("anonymize.py", "-i", "{missing}", "-a", "{frame_json}", *ANON, "--method", "blur", names="missing"),
    case("anonymize.py", "-i", "{frame}", "-a", "{missing}", *ANON, "--method", "blur", names="missing"),
    case("anonymize.py", "-i", "{frame}", "-a", "{notjson}", *ANON, "--method", "blur", names="notjson.json"),
    case("anonymize.py", "-i", "{frame}", "-a", "{inf_json}", *ANON, "--method", "blur", names="finite numbers"),
    case("anonymize.py", "-i", "{frame}", "-a", "{list_json}", *ANON, "--method", "blur", names="list.json"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "blur", "--labels",
         "pedestrain", names="pedestrain"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "gan", "--name", "x",
         "--model_file", "{state_pth}", names="--model_file"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "gan", "--model_file",
         "{state_pth}", names="state_dict"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "gan", "--threads", "0",
         names="--threads"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "gan", "--name", "nope",
         "--checkpoints_dir", "{runs}", names="train_opt.json"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "blur", "--device", "cuda",
         names="--device cuda"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", "-o", "{file}/out", "--method", "blur",
         names="Not a directory"),
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "blur", "--compare",
         "{file}/compare.png", names="a_file"),
    *[case("anonymize.py", "-i", f"{{{image}}}", "-a", f"{{{image}_json}}", *ANON, "--method", "blur",
           names=problem) for image, problem in [
        ("garbage", "not an image file"), ("empty", "empty file"), ("truncated", "truncated or corrupt"),
        ("bomb", "decompression bomb")]],
    case("anonymize.py", "-i", "{frame}", "-a", "{big_citypersons}", *ANON, "--method", "blur",
         names="is for 2048x1024 frames but the image is 128x64"),
    case("anonymize.py", "-i", "{frame}", "-a", "{outside_json}", *ANON, "--method", "blur",
         names="lies entirely outside"),
    # ---- anonymize.py without annotations: detectors, thresholds, videos
    *[case("anonymize.py", "-i", "{frame}", *ANON, "--method", "blur", flag, value, names=flag) for flag, value in [
        ("--detection_threshold", "1.5"), ("--detection_threshold", "nan"), ("--fallback_threshold", "-0.1"),
        ("--fallback_threshold", "0.6"), ("--min_person_height", "0"), ("--min_face_size", "nan"),
        ("--detection_margin", "-1"), ("--person_class", "-1"), ("--detection_batch", "0"), ("--crf", "60"),
        ("--start", "-1"), ("--end", "0"), ("--tracking", "maybe"), ("--detector", "yolo.onnx"),
        ("--detector", "onnx:"), ("--targets", "people")]],
    *[case("anonymize.py", "-i", "{frame}", *ANON, "--method", "blur", "--detector", detector, names=problem)
      for detector, problem in [
        ("onnx:{missing}", "missing"), ("onnx:{garbage_onnx}", "garbage.onnx"), ("coco:{missing}", "missing"),
        ("coco:{notjson}", "notjson.json"), ("coco:{list_json}", "list.json"), ("coco:{inf_coco}", "inf_coco.json"),
        ("annotations", "--detector annotations")]],
    case("anonymize.py", "-i", "{frame}", "-a", "{frame_json}", *ANON, "--method", "blur", "--detector", "builtin",
         names="-a/--annotations"),
    case("anonymize.py", "-i", "{frame}", *ANON, "--method", "blur", "--start", "3", "--end", "2", names="--end"),
    case("anonymize.py", "-i", "{frame}", *ANON, "--method", "blur", "--cache", "{file}/cache", names="--cache"),
    case("anonymize.py", "-i", "{garbage_mp4}", *ANON, "--method", "blur", names="garbage.mp4"),
    case("anonymize.py", "-i", "{garbage_mp4}", "-o", "{tmp}/anon.mp4", "--quiet", "--method", "blur",
         names="garbage.mp4"),
    # ---- data_preprocessing.cityscapes
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{missing}", "--out", "{tmp}/ds", *CITY,
         names="missing"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{flat}", "--overwrite",
         *CITY, names="is --cityscapes_root or inside it"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{foreign_out}", "--overwrite",
         *CITY, names="did not write"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{file}", *CITY,
         names="is a file"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{file}/ds", *CITY,
         names="Not a directory"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{tmp}/ds", "--split_lists",
         "{missing}", *CITY, names="--split_lists"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{tmp}/ds", "--exclude_list",
         "{missing}", *CITY, names="--exclude_list"),
    case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{tmp}/ds", "--min_width",
         "50", "--max_width", "10", *CITY, names="min_width"),
    *[case("-m data_preprocessing.cityscapes", "--cityscapes_root", "{flat}", "--out", "{tmp}/ds", *CITY, flag,
           value, names=flag) for flag, value in [
        ("--split", "train=nan"), ("--split", "train=-1"), ("--split", "train=inf"), ("--subset", "train=0"),
        ("--seed", "-1"), ("--crop_size", "0"), ("--overlap_iou", "2"), ("--overlap_iou", "nan"),
        ("--frame_size", "big"), ("--workers", "0")]],
    # ---- data_preprocessing.make_demo_data
    *[case("-m synthetic.make_demo_data", "--out", "{tmp}/demo", flag, value, "--quiet", names=flag)
      for flag, value in [("--frames", "0"), ("--frames", "nan"), ("--seed", "-1"), ("--size", "0x0"),
                          ("--size", "big"), ("--workers", "0"), ("--appearances_per_identity", "nan")]],
    case("-m synthetic.make_demo_data", "--out", "{file}", "--frames", "1", names="not a directory"),
    # ---- data.silhouettes: the silhouette bank of a run's crops
    case("-m data.silhouettes", "--out", "{tmp}/bank.npz", names="--dataroot"),
    case("-m data.silhouettes", "--dataroot", "{missing}", "--out", "{tmp}/bank.npz", names="missing"),
    case("-m data.silhouettes", "--dataroot", "{crops}", "--out", "{file}/bank.npz", names="--out"),
    case("-m synthetic.make_demo_data", "--out", "{file}/demo", "--frames", "1", "--size", "256x128",
         "--quiet", names="Not a directory"),
    # ---- evaluation.evaluate
    case("-m evaluation.evaluate", names="--results_dir"),
    case("-m evaluation.evaluate", "--results_dir", "{missing}", "--dataroot", "{crops}", names="missing"),
    case("-m evaluation.evaluate", "--frames_dir", "{tmp}", names="--original_frames"),
    *[case("-m evaluation.evaluate", "--results_dir", "{tmp}", "--dataroot", "{crops}", flag, value, names=flag)
      for flag, value in [("--threshold", "nan"), ("--threshold", "5"), ("--samples_per_input", "0"),
                          ("--report_samples", "-1"), ("--seed", "-1"), ("--lpips_net", "squeeze"),
                          ("--threads", "0")]],
    case("-m evaluation.evaluate", "--results_dir", "{results}", "--dataroot", "{crops}", "--inception_weights",
         "{evil_pt}", "--baselines", "none", "--quiet", names="--trust_torchscript"),
    # ---- evaluation.detection_recall
    case("-m evaluation.detection_recall", "--cityscapes_root", "{missing}", names="missing"),
    case("-m evaluation.detection_recall", "--cityscapes_root", "{garbage_city}", names="not an image file"),
    case("-m evaluation.detection_recall", "--cityscapes_root", "{garbage_city}", "--detector", "yolo",
         names="--detector"),
    *[case("-m evaluation.detection_recall", "--cityscapes_root", "{garbage_city}", flag, value, names=flag)
      for flag, value in [("--iou", "0"), ("--detection_threshold", "2"), ("--frames", "-1"),
                          ("--min_person_height", "nan"), ("--detection_batch", "0")]],
    # ---- evaluation.utility
    case("-m evaluation.utility", "--frames", "{missing}", "--annotations", "{missing}", "--out", "{tmp}/u",
         names="missing"),
    case("-m evaluation.utility", "--frames", "{garbage_city}/leftImg8bit", "--annotations",
         "{garbage_city}/gtBboxCityPersons", "--out", "{tmp}/u", "--train_split", "test", "--measures", "trained",
         names="not an image file"),
    *[case("-m evaluation.utility", "--frames", "{garbage_city}/leftImg8bit", "--annotations",
           "{garbage_city}/gtBboxCityPersons", "--out", "{tmp}/u", "--train_split", "test", flag, value, names=flag)
      for flag, value in [("--steps", "0"), ("--scale", "2"), ("--seeds", "-1"), ("--crop", "1x1"),
                          ("--methods", "sharpen"), ("--batch_size", "nan")]],
    # ---- evaluation.temporal_stability
    case("-m evaluation.temporal_stability", "--video", "{garbage_mp4}", "--report", "{missing}", names="missing"),
    case("-m evaluation.temporal_stability", "--video", "{garbage_mp4}", "--report", "{list_json}",
         names="list.json"),
    case("-m evaluation.temporal_stability", "--video", "{garbage_mp4}", "--report", "{video_report}",
         names="garbage.mp4"),
    # ---- evaluation.lpips
    case("-m evaluation.lpips", "{png}", "{missing}", names="missing"),
    case("-m evaluation.lpips", "{png}", "{garbage}", names="garbage.png"),
    case("-m evaluation.lpips", "{png}", "{empty}", names="empty.png"),
    case("-m evaluation.lpips", "{png}", "{truncated}", names="truncated.png"),
    case("-m evaluation.lpips", "{bomb}", "{png}", names="decompression bomb"),
    case("-m evaluation.lpips", "{png}", "{folder_png}", names="folder.png"),
    case("-m evaluation.lpips", "{tiny}", "{tiny}", names="at least 32"),
    case("-m evaluation.lpips", "{png}", "{png48}", names="differ in size"),
    case("-m evaluation.lpips", "{png}", "{png}", "--backbone", "{garbage_pth}", names="garbage.pth"),
    case("-m evaluation.lpips", "{png}", "{png}", "--backbone", "{missing}", names="missing"),
    case("-m evaluation.lpips", "{png}", "{png}", "--backbone", "{state_pth}", names="state_dict.pth"),
    case("-m evaluation.lpips", "{png}", "{png}", "--linear", "{state_pth}", names="state_dict.pth"),
    case("-m evaluation.lpips", "{png}", "{png}", "--net", "squeeze", names="--net"),
    # ---- evaluation.composite
    case("-m evaluation.composite", "--generated", "{missing}", "--dataroot", "{crops}", "--phase", "val",
         "--out", "{tmp}/comp", names="missing"),
    case("-m evaluation.composite", "--generated", "{tmp}", "--dataroot", "{missing}", "--phase", "val",
         "--out", "{tmp}/comp", names="missing"),
    case("-m evaluation.composite", "--generated", "{wrong_size_generated}", "--dataroot", "{crops}", "--phase",
         "val", "--out", "{tmp}/comp", "--quiet", names="matches neither the crop"),
    case("-m evaluation.composite", "--generated", "{garbage_generated}", "--dataroot", "{crops}", "--phase",
         "val", "--out", "{tmp}/comp", "--quiet", names="not an image file"),
    case("-m evaluation.composite", "--generated", "{good_generated}", "--dataroot", "{crops}", "--phase", "val",
         "--out", "{file}/comp", "--quiet", names="Not a directory"),
    # ---- evaluation.train_reid
    case("-m evaluation.train_reid", "--data", "{missing}", "--out", "{tmp}/reid.pth", names="missing"),
    *[case("-m evaluation.train_reid", "--data", "{tmp}", "--out", "{tmp}/reid.pth", flag, value, names=flag)
      for flag, value in [("--lr", "nan"), ("--epochs", "0"), ("--erase_prob", "2"), ("--seed", "-1"),
                          ("--min_visibility", "nan"), ("--size", "1x1")]],
    # ---- anonymizer.compare
    case("-m anonymizer.compare", "{missing}", "{png}", "{tmp}/c.png", names="missing"),
    case("-m anonymizer.compare", "{png}", "{garbage}", "{tmp}/c.png", names="garbage.png"),
    case("-m anonymizer.compare", "{png}", "{png48}", "{tmp}/c.png", names="differ in size"),
    case("-m anonymizer.compare", "{png}", "{png}", "{tmp}/c.png", "--width", "0", names="--width"),
    case("-m anonymizer.compare", "{png}", "{png}", "{file}/c.png", names="a_file"),
    # ---- util.plot_losses
    case("-m util.plot_losses", "{missing}", names="missing"),
    case("-m util.plot_losses", "{garbage_pth}", names="garbage.pth"),
    case("-m util.plot_losses", "{loss_log}", "--out", "{file}/plots", names="Not a directory"),
    # ---- scripts/export_model.py
    case("scripts/export_model.py", "{missing}", "--out", "{tmp}/m.pth", names="missing"),
    case("scripts/export_model.py", "{runs}/run", "--epoch", "best", "--out", "{tmp}/m.pth",
         names="best_net_G.pth: does not match"),
    case("scripts/export_model.py", "{runs}/run", "--epoch", "latest", "--out", "{tmp}/m.onnx", names="--out"),
    case("scripts/export_model.py", "{runs}/run", "--epoch", "latest", "--out", "{file}/m.pth",
         names="a_file"),
    # ---- scripts/compare_trackers.py
    *[case("scripts/compare_trackers.py", flag, value, names=flag) for flag, value in [
        ("--seeds", "0"), ("--frames", "1"), ("--frames", "nan")]],
    # ---- scripts/make_tables.py
    case("scripts/make_tables.py", "{missing}", "--out", "{tmp}/tables", names="missing"),
    case("scripts/make_tables.py", "{bad_metrics}", "--out", "{tmp}/tables", names="metrics.json"),
    case("scripts/make_tables.py", "{good_metrics}", "--out", "{tmp}/tables", "--seeds", "x", names="--seeds"),
    case("scripts/make_tables.py", "{good_metrics}", "--out", "{file}/tables", names="Not a directory"),
]


# ------------------------------------------------------------------------------------------------ inputs


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A PNG header declaring 30000 x 30000 RGB pixels (2.7 GB decoded) in 60 bytes."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def png_bytes(height: int, width: int, seed: int = 0) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return cv2.imencode(".png", image)[1].tobytes()


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def simple_json(folder: Path, image: str, boxes: list) -> Path:
    return write(folder / f"{Path(image).stem}.json", json.dumps({"image": image, "boxes": boxes}))


def crop_copy(source: Path, target: Path, spoil) -> Path:
    shutil.copytree(source, target)
    spoil(target)
    return target


def make_run(folder: Path, crops: Path) -> None:
    """A tiny psgan run without training: options, the sets latest (truncated state) and best (truncated G)."""
    from models import create_model
    from options.train_options import TrainOptions

    options = TrainOptions()
    opt = options.parse(["--dataroot", str(crops), "--checkpoints_dir", str(folder), "--name", "run", *TINY_NET])
    options.save_options(opt, folder / "run", "train")
    model = create_model(opt)
    model.setup()
    model.save_checkpoint("latest", {"epoch": 1, "rng": None})
    model.save_networks("best")
    shutil.copytree(folder / "run", folder / "nostate")  # the same networks, without the state file
    (folder / "nostate" / "latest_state.pth").unlink()
    (folder / "nostate" / "latest_checkpoint.json").unlink()
    for name in ("latest_state.pth", "best_net_G.pth"):
        data = (folder / "run" / name).read_bytes()
        (folder / "run" / name).write_bytes(data[: len(data) // 2])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, crop_dataroot) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("bad_inputs")
    found: dict[str, Path] = {"tmp": tmp, "crops": crop_dataroot, "missing": tmp / "missing"}
    found["file"] = write(tmp / "a_file", "a file, not a folder")
    found["png"] = write(tmp / "png.png", png_bytes(64, 64))
    found["png48"] = write(tmp / "png48.png", png_bytes(64, 48))
    found["tiny"] = write(tmp / "tiny.png", png_bytes(16, 16))
    found["frame"] = write(tmp / "frame.png", png_bytes(64, 128))
    found["empty"] = write(tmp / "empty.png", b"")
    found["garbage"] = write(tmp / "garbage.png", "this is not an image")
    found["truncated"] = write(tmp / "truncated.png", png_bytes(64, 64)[:-300])
    found["bomb"] = write(tmp / "bomb.png", bomb_png())
    found["folder_png"] = tmp / "folder.png"
    found["folder_png"].mkdir()
    found["notjson"] = write(tmp / "notjson.json", "{not json")
    found["list_json"] = write(tmp / "list.json", "[1, 2, 3]")
    found["garbage_mp4"] = write(tmp / "garbage.mp4", "this is not a video")
    found["garbage_onnx"] = write(tmp / "garbage.onnx", b"\x00 not an ONNX model")
    found["video_report"] = write(tmp / "clip.report.json", json.dumps(
        {"frames": [{"video": "clip.mp4", "frames": [{"frame": 0, "persons": []}]}]}))
    found["garbage_city"] = tmp / "garbage_city"
    write(found["garbage_city"] / "leftImg8bit" / "test" / "x" / "x_000000_000019_leftImg8bit.png", "not an image")
    write(found["garbage_city"] / "gtBboxCityPersons" / "test" / "x" / "x_000000_000019_gtBboxCityPersons.json",
          json.dumps({"imgWidth": 128, "imgHeight": 64, "objects": []}))
    found["inf_coco"] = write(tmp / "inf_coco.json", json.dumps([{"file_name": "frame.png", "category_id": 1,
                                                                  "bbox": [0, 0, float("inf"), 9], "score": 0.9}]))
    found["inf_json"] = write(tmp / "inf.json", json.dumps({"image": "frame.png", "boxes": [[0, 0, float("inf"), 9]]}))
    found["frame_json"] = simple_json(tmp / "ann", "frame.png", [[10, 10, 40, 50]])
    found["outside_json"] = simple_json(tmp / "ann_outside", "frame.png", [[10, 10, 40, 50], [500, 10, 540, 50]])
    for image in ("garbage", "empty", "truncated", "bomb"):
        found[f"{image}_json"] = simple_json(tmp / f"ann_{image}", f"{image}.png", [[1, 1, 9, 9]])
    found["big_citypersons"] = write(tmp / "frame_gtBboxCityPersons.json", json.dumps({
        "imgWidth": 2048, "imgHeight": 1024,
        "objects": [{"label": "pedestrian", "bbox": [40, 40, 60, 160], "bboxVis": [40, 40, 60, 160]}]}))
    found["garbage_pth"] = write(tmp / "garbage.pth", b"\x00\xff garbage \x80")
    found["state_pth"] = tmp / "state_dict.pth"
    torch.save({"conv.weight": torch.zeros(1)}, found["state_pth"])
    found["evil_pt"] = tmp / "evil.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(found["evil_pt"]))
    found["loss_log"] = write(tmp / "log" / "loss_log.txt", "(epoch: 1, iters: 2, lr: 0.0002000, t_comp: 0.100, "
                                                             "t_load: 0.010) G_L1: 1.000 \n")
    found["bomb_crops"] = crop_copy(crop_dataroot, tmp / "bomb_crops", lambda root: write(
        sorted((root / "images" / "train").glob("*.png"))[0], bomb_png()))
    found["bad_box_crops"] = crop_copy(crop_dataroot, tmp / "bad_box_crops", lambda root: write(
        sorted((root / "bbox" / "train").glob("*.json"))[0], '{"x1": "a"}'))
    found["one_val_crops"] = crop_copy(crop_dataroot, tmp / "one_val_crops", lambda root: [
        path.unlink() for path in sorted((root / "images" / "val").glob("*.png"))[1:]])
    found["flat"] = tmp / "flat"
    write(found["flat"] / "images" / "aachen" / "aachen_000000_000019_leftImg8bit.png", png_bytes(64, 128))
    write(found["flat"] / "bboxes" / "aachen" / "aachen_000000_000019_gtBboxCityPersons.json",
          json.dumps({"imgWidth": 128, "imgHeight": 64, "objects": []}))
    found["foreign_out"] = tmp / "foreign_out"
    write(found["foreign_out"] / "images" / "train" / "mine.png", png_bytes(8, 8))
    stems = sorted(p.stem for p in (crop_dataroot / "images" / "val").glob("*.png"))
    for kind, content in (("good", png_bytes(64, 64)), ("wrong_size", png_bytes(10, 10)), ("garbage", b"garbage")):
        found[f"{kind}_generated"] = tmp / f"{kind}_generated"
        for stem in stems:
            write(found[f"{kind}_generated"] / f"{stem}.png", content)
    found["results"] = tmp / "results"
    for stem in stems[:2]:
        write(found["results"] / "images" / "fake_B_display" / f"{stem}_fake_B_display.png", png_bytes(64, 64))
    found["bad_metrics"] = write(tmp / "metrics_bad" / "psgan_seed12" / "metrics.json", "{broken").parents[1]
    found["good_metrics"] = write(tmp / "metrics_good" / "psgan_seed12" / "metrics.json",
                                  json.dumps({"rows": [{"name": "psgan"}]})).parents[1]
    found["runs"] = tmp / "runs"
    make_run(found["runs"], crop_dataroot)
    return found


def resolve(args: tuple[str, ...], inputs: dict[str, Path]) -> list[str]:
    return [arg.format(**{name: str(path) for name, path in inputs.items()}) for arg in args]


@pytest.fixture(scope="module")
def results(inputs) -> dict[Case, dict]:
    """Every case's exit status, stdout and stderr, from one driver process (imports paid once)."""
    case_file, result_file = inputs["tmp"] / "cases.json", inputs["tmp"] / "results.jsonl"
    case_file.write_text(json.dumps([{"cli": c.cli, "args": resolve(c.args, inputs)} for c in CASES]))
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "bad_input_driver.py"), str(case_file),
                           str(result_file)], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    lines = result_file.read_text().splitlines() if result_file.exists() else []
    assert done.returncode == 0, (f"the driver died (status {done.returncode}) in case "
                                  f"{CASES[len(lines)].id if len(lines) < len(CASES) else '?'}: {done.stderr[-2000:]}")
    return dict(zip(CASES, (json.loads(line) for line in lines), strict=True))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


@pytest.mark.parametrize("item", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_error_line_and_no_traceback(results, item):
    result = results[item]
    assert "Traceback" not in result["stderr"], result["stderr"]
    assert result["code"] != 0, result
    lines = error_lines(result["stderr"])
    assert len(lines) == 1, result["stderr"]
    assert item.names in lines[0], lines[0]


def test_the_corpus_covers_every_command_and_counts_zero_tracebacks(results):
    commands = {item.cli for item in CASES}
    assert commands == {"train.py", "test.py", "anonymize.py", "-m data_preprocessing.cityscapes",
                        "-m synthetic.make_demo_data", "-m evaluation.evaluate", "-m evaluation.lpips",
                        "-m evaluation.composite", "-m evaluation.train_reid", "-m anonymizer.compare",
                        "-m util.plot_losses", "scripts/make_tables.py", "scripts/export_model.py",
                        "-m evaluation.detection_recall", "-m evaluation.temporal_stability",
                        "scripts/compare_trackers.py", "-m evaluation.utility", "-m data.silhouettes"}
    tracebacks = [item.id for item, result in results.items() if "Traceback" in result["stderr"]]
    assert len(results) == len(CASES) >= 120 and tracebacks == []


REAL_COMMAND_LINES = [CASES[0], next(c for c in CASES if "pedestrain" in c.args),
                      next(c for c in CASES if c.cli.endswith("lpips") and "{garbage}" in c.args)]


@pytest.mark.parametrize("item", REAL_COMMAND_LINES, ids=[c.id for c in REAL_COMMAND_LINES])
def test_the_driver_reports_what_a_real_command_line_reports(inputs, results, item):
    prefix = item.cli.split() if item.cli.startswith("-m ") else [str(ROOT / item.cli)]
    done = subprocess.run([sys.executable, *prefix, *resolve(item.args, inputs)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == results[item]["code"]
    assert error_lines(done.stderr) == error_lines(results[item]["stderr"])
