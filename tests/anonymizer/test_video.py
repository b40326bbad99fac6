"""Videos: round trip (frame count, rate, size, audio), --start/--end, folders of videos, odd sizes, a frame that
fails (written grey, reported), and tracking (one id and one look per person)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from anonymizer import cli
from anonymizer.actions import FrameProcessor, Thresholds
from anonymizer.detection import Detection, Detector
from anonymizer.frame import FrameError, Settings
from anonymizer.tracking import IoUTracker
from anonymizer.video import probe

from .test_anonymize_cli import report

FPS, FRAMES = 8, 12


def person_box(index: int) -> list[int]:
    """The moving 'person' of frame ``index``: x1, y1, w, h (COCO), 2 px to the right per frame."""
    return [8 + 2 * index, 10, 12, 28]


def make_clip(path: Path, width: int = 64, height: int = 48, audio: bool = True) -> Path:
    rng = np.random.default_rng(0)
    background = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        sound = container.add_stream("aac", rate=8000) if audio else None
        for k in range(FRAMES):
            image = background.copy()
            x, y, w, h = person_box(k)
            image[y:y + h, x:x + w] = 230
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = (np.sin(np.arange(8000 * FRAMES // FPS) / 5) * 8000).astype(np.int16)[None]
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in [*sound.encode(frame), *sound.encode(None)]:
                container.mux(packet)
    return path


def results_file(path: Path) -> Path:
    path.write_text(json.dumps([{"image_id": k, "category_id": 1, "bbox": person_box(k), "score": 0.9}
                                for k in range(FRAMES)]))
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_video_round_trip_keeps_frames_rate_size_and_audio_and_masks_the_person(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4")
    out = tmp_path / "out.mp4"
    assert cli.main(["-i", str(clip), "-o", str(out), "--quiet", "--detector",
                     f"coco:{results_file(tmp_path / 'r.json')}", "--method", "mask"]) == 0
    before, after = probe(clip), probe(out)
    assert after == before == {"frames": FRAMES, "fps": FPS, "width": 64, "height": 48, "audio_streams": 1}
    for k, image in enumerate(decoded(out)):
        x, y, w, h = person_box(k)
        assert image[y + 2:y + h - 2, x + 2:x + w - 2].mean() < 20  # masked black (was 230), codec blur aside
    entry = json.loads(out.with_suffix(".report.json").read_text())["frames"][0]
    assert entry["status"] == "written" and entry["frames_written"] == FRAMES and entry["audio_streams_copied"] == 1
    assert [f["persons"][0]["track"] for f in entry["frames"]] == [0] * FRAMES  # one person, one track


def test_start_end_cut_the_video_and_folders_mirror_videos(tmp_path):
    folder = tmp_path / "in" / "cam"
    folder.mkdir(parents=True)
    make_clip(folder / "a.mkv", audio=False)
    make_clip(folder / "odd.mp4", width=63, height=47, audio=False)
    results = results_file(tmp_path / "r.json")
    assert cli.main(["-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--detector",
                     f"coco:{results}", "--method", "pixelate", "--start", "0.5", "--end", "1.0"]) == 0
    for name, size in (("a.mkv", (64, 48)), ("odd.mp4", (63, 47))):
        info = probe(tmp_path / "out" / "cam" / name)
        assert (info["frames"], info["width"], info["height"]) == (4, *size)  # frames 4..7 of 8 fps
    frames = report(tmp_path / "out")["frames"][0]["frames"]
    assert [f["frame"] for f in frames] == [4, 5, 6, 7]


def test_a_frame_that_cannot_be_anonymized_is_written_grey_and_reported(tmp_path, monkeypatch, capsys):
    clip = make_clip(tmp_path / "clip.mp4", audio=False)
    real = FrameProcessor.__call__

    def failing(self, image, name, index=None, tracker=None):
        if index == 3:
            raise FrameError("simulated failure")
        return real(self, image, name, index, tracker)

    monkeypatch.setattr(FrameProcessor, "__call__", failing)
    out = tmp_path / "out.mp4"
    assert cli.main(["-i", str(clip), "-o", str(out), "--quiet", "--detector",
                     f"coco:{results_file(tmp_path / 'r.json')}", "--method", "blur"]) == 1
    assert "1 frame(s) could not be anonymized" in capsys.readouterr().err
    images = decoded(out)
    assert len(images) == FRAMES and abs(float(images[3].mean()) - 128) < 3
    entry = json.loads(out.with_suffix(".report.json").read_text())["frames"][0]
    assert entry["frames"][3]["status"] == "failed" and "simulated failure" in entry["frames"][3]["error"]


def test_tracker_keeps_ids_through_misses_and_coasts_on_the_prediction():
    tracker = IoUTracker(max_misses=2)
    walker = [Detection((10 + 4 * k, 10, 30 + 4 * k, 60), 0.9) for k in range(8)]
    other = [Detection((200 - 4 * k, 10, 220 - 4 * k, 60), 0.9) for k in range(8)]
    ids, coasting = [], []
    for k in range(8):
        seen = [walker[k]] + ([other[k]] if k not in (3, 4) else [])  # the second person is missed twice
        frame_ids, frame_coasting = tracker.update(seen, 320, 240)
        ids.append(frame_ids)
        coasting.append(frame_coasting)
    assert [i[0] for i in ids] == [0] * 8
    assert [i[1] for i in ids if len(i) > 1] == [1] * 6
    assert [c.identity for c in coasting[3]] == [1] and [c.identity for c in coasting[4]] == [1]
    np.testing.assert_allclose(coasting[4][0].box, other[4].box, atol=1.0)  # predicted with its velocity
    tracker.update([], 320, 240)
    tracker.update([], 320, 240)
    assert tracker.update([], 320, 240)[1] == []  # gone after max_misses frames


def test_a_coasting_box_keeps_its_size_when_the_detections_shrank():
    tracker = IoUTracker()
    for k in range(3):  # moving right by 4 px while the detected box narrows by 6 px per frame
        tracker.update([Detection((100 + 4 * k, 10, 140 - 2 * k, 90), 0.9)], 320, 240)
    coasting = [tracker.update([], 320, 240)[1][0].box for _ in range(3)]
    assert [round(x2 - x1) for x1, _, x2, _ in coasting] == [28, 28, 28]  # the last detected width
    assert coasting[1][0] > coasting[0][0]  # still following the centre's motion


class FixedDetector(Detector):
    identity = "fixed"
    uses_pixels = False

    def detect(self, frames):
        return [[Detection((20.0, 8.0, 44.0, 56.0), 0.9)] for _ in frames]


@pytest.mark.parametrize("tracking", [True, False])
def test_a_tracked_person_keeps_one_look_while_per_frame_seeds_change_it(tiny_run, tracking):
    from anonymizer.generator import WindowGenerator, load_model

    generator = WindowGenerator(load_model("tiny", str(tiny_run), "latest", "cpu", False))
    processor = FrameProcessor([FixedDetector()], Thresholds(0.5, 0.3), Settings(method="gan", batch_size=1),
                               generator)
    image = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    tracker = IoUTracker() if tracking else None
    outputs = [processor(image, "clip.mp4", k, tracker)[0] for k in range(3)]
    same = [np.array_equal(outputs[0], o) for o in outputs[1:]]
    # Identical frames: with a track the person's noise is seeded by the track, so the output repeats exactly;
    # without, every frame draws new noise.
    assert same == ([True, True] if tracking else [False, False])
    assert not np.array_equal(outputs[0][8:56, 20:44], image[8:56, 20:44])


def test_probe_reads_what_a_round_trip_must_keep(tmp_path):
    info = probe(make_clip(tmp_path / "c.mp4", audio=False))
    assert info["frames"] == FRAMES and Fraction(info["fps"]) == FPS and info["audio_streams"] == 0
