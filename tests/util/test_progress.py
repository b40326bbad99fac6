"""Progress output: whole lines every 10 % when stderr is a file or pipe, a tqdm bar on a terminal."""

from __future__ import annotations

import io
import sys

from tqdm import tqdm

from util.progress import LineProgress, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_one_line_per_tenth_and_no_carriage_returns():
    stream = io.StringIO()
    seen = list(LineProgress(range(40), desc="frames", unit="frame", stream=stream))
    lines = stream.getvalue().splitlines()
    assert seen == list(range(40)) and "\r" not in stream.getvalue()
    assert len(lines) == 10
    assert lines[0].startswith("frames:  10% 4/40 frame [") and "frame/s, eta" in lines[0]
    assert lines[-1].startswith("frames: 100% 40/40 frame [")


def test_small_totals_print_each_step_and_large_ones_stay_at_ten_lines():
    stream = io.StringIO()
    list(LineProgress(range(3), stream=stream))
    assert [line.split(" [")[0] for line in stream.getvalue().splitlines()] == [" 33% 1/3 it", " 66% 2/3 it",
                                                                                "100% 3/3 it"]
    stream = io.StringIO()
    list(LineProgress(range(100_000), stream=stream))
    assert len(stream.getvalue().splitlines()) == 10


def test_unknown_totals_report_every_hundred_items_and_at_the_end():
    stream = io.StringIO()
    list(LineProgress((i for i in range(250)), desc="crops", unit="img", stream=stream))
    assert [line.split(" [")[0] for line in stream.getvalue().splitlines()] == [
        "crops: 100 img", "crops: 200 img", "crops: 250 img"]


def test_a_loop_left_early_ends_with_its_count_and_postfix_values_are_shown():
    stream = io.StringIO()
    bar = LineProgress(range(50), total=20, desc="test", stream=stream)
    for index, _ in enumerate(bar):
        bar.set_postfix({"G_L1": "12.345"}, refresh=False)
        if index == 7:
            break  # seven items done
    bar.close()  # what dropping the loop's generator does, too
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("test:  35% 7/20 it") and lines[-1].endswith("G_L1=12.345")
    assert len(lines) == 4  # 10, 20, 30 % and the final count


def test_counting_without_iterating_and_closing_once():
    stream = io.StringIO()
    bar = LineProgress(range(10), total=10, desc="train", unit="step", stream=stream)
    bar.update(5)
    bar.update(5)
    bar.close()
    bar.close()
    assert [line.split(" [")[0] for line in stream.getvalue().splitlines()] == ["train:  50% 5/10 step",
                                                                                "train: 100% 10/10 step"]


def test_the_kind_of_progress_follows_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress_bar(range(3)), LineProgress)
    quiet = progress_bar(range(3), quiet=True)
    assert isinstance(quiet, tqdm) and quiet.disable
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(range(3), desc="x")
    assert isinstance(bar, tqdm) and not bar.disable
    bar.close()
