"""Metric columns, defined once for metrics.md and the aggregated tables."""

from __future__ import annotations

from evaluation.columns import CROP_COLUMNS, FRAME_COLUMNS, Column, markdown_table
from evaluation.report import reported_row

ROW = {"name": "model",
       "fidelity": {"raw": {"fid": 12.345, "kid_mean": 0.01234, "kid_std": 0.00111},
                    "composite": {"fid": 10.0, "kid_mean": 0.01, "kid_std": 0.0}},
       "diversity": {"lpips": "n/a (samples_per_input 1)"},
       "anonymity": {"rates": {"not_anonymized": {"rate": 0.02, "count": 2, "n": 100}},
                     "ranking": {"rank_1": 0.5, "mAP": 0.25}}}


def cells(row: dict) -> dict[str, str]:
    return {column.name: column.cell(row) for column in CROP_COLUMNS}


def test_cells_print_numbers_rates_spreads_and_reasons():
    shown = cells(ROW)
    assert shown["FID"] == "12.35" and shown["KID"] == "0.0123 ± 0.0011" and shown["FID composite"] == "10.00"
    assert shown["not anonymized"] == "0.020 (2/100)" and shown["re-ID rank-1"] == "0.500"
    assert shown["LPIPS-diversity"] == "n/a"  # the stored reason, first words
    assert shown["PSNR outside box"] == shown["similar to train"] == "n/a"  # absent


def test_values_are_what_tables_aggregate():
    values = {column.name: column.value(ROW) for column in CROP_COLUMNS}
    assert values["FID"] == 12.345 and values["not anonymized"] == 0.02 and values["re-ID mAP"] == 0.25
    assert values["LPIPS-diversity"] is None and values["SSIM outside box"] is None
    assert Column("x", ("anonymity", "rates", "not_anonymized")).value(ROW) is None  # a rate dict is no number


def test_a_baseline_row_shows_its_composite_under_fid_in_metrics_md():
    baseline = {**ROW, "name": "blur", "fidelity": {**ROW["fidelity"], "raw": "n/a (no raw output)"}}
    assert cells(baseline)["FID"] == "n/a"  # the aggregated tables leave it out
    assert cells(reported_row(baseline))["FID"] == "10.00"  # metrics.md shows the composite's


def test_markdown_table_has_one_header_for_every_row():
    lines = markdown_table(CROP_COLUMNS, [ROW], first="method")
    assert lines[0] == "| method | " + " | ".join(column.name for column in CROP_COLUMNS) + " |"
    assert lines[2].startswith("| model | 12.35 | 0.0123 ± 0.0011 |")
    frame_lines = markdown_table(FRAME_COLUMNS, [{"fidelity": {"fid": 1.0, "kid_mean": 0.5, "kid_std": 0.1}}])
    assert frame_lines[2].startswith("| 1.00 | 0.5000 ± 0.1000 | n/a |")
