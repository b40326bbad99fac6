"""scripts/demo_model_report.py: a malformed --rows is one clear error naming the flag, not a stack trace."""

from __future__ import annotations

import pytest

from scripts import demo_model_report


def test_a_row_label_with_a_comma_is_refused_with_the_flag_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo_model_report.main(["persons", "--original", str(tmp_path), "--annotations", str(tmp_path),
                                "--out", str(tmp_path / "p.png"), "--rows", f"shipped, boxes={tmp_path}"])
    assert exit_info.value.code == 2
    assert "--rows" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()
