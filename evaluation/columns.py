"""The metric columns of every results table, defined once: an evaluation's metrics.md (crops or full frames) and
the aggregated tables of scripts/make_tables.py.

A column names one number of a ``metrics.json`` row by its path and says how to print it. Rates are
``{"rate", "count", "n"}`` dicts; a column with ``spread`` prints ``value ± spread`` (KID's std over subsets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    path: tuple[str, ...]
    digits: int = 3
    rate: bool = False
    spread: str | None = None  # key beside the last one holding the ± value

    def node(self, row: Mapping[str, Any]) -> Any:
        """What the row holds at the path; a reason string met on the way (a metric not computed) stands for it."""
        node: Any = row
        for key in self.path:
            if isinstance(node, str):
                return node
            if not isinstance(node, Mapping) or key not in node:
                return None
            node = node[key]
        return node

    def value(self, row: Mapping[str, Any]) -> float | None:
        """The number (a rate's fraction), or None when the row has none."""
        node = self.node(row)
        if self.rate:
            node = node.get("rate") if isinstance(node, Mapping) else None
        return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None

    def cell(self, row: Mapping[str, Any]) -> str:
        """The printed cell: ``0.123``, ``0.020 (2/100)``, ``0.0123 ± 0.0040``, or why there is no number."""
        node = self.node(row)
        if self.rate and isinstance(node, Mapping) and "rate" in node:
            return f"{node['rate']:.{self.digits}f} ({node.get('count', '?')}/{node.get('n', '?')})"
        value = self.value(row)
        if value is None:
            # A metric that could not be computed is stored as its reason: show the reason's first words.
            return str(node).split(" (")[0] if isinstance(node, str) else "n/a"
        if self.spread is not None:
            spread = Column(self.name, (*self.path[:-1], self.spread)).value(row)
            if spread is not None:
                return f"{value:.{self.digits}f} ± {spread:.{self.digits}f}"
        return f"{value:.{self.digits}f}"


# A model or baseline row of ``python -m evaluation.evaluate`` on test crops.
CROP_COLUMNS = (
    Column("FID", ("fidelity", "raw", "fid"), digits=2),
    Column("KID", ("fidelity", "raw", "kid_mean"), digits=4, spread="kid_std"),
    Column("FID composite", ("fidelity", "composite", "fid"), digits=2),
    Column("PSNR outside box", ("background", "psnr_outside_box"), digits=2),
    Column("SSIM outside box", ("background", "ssim_outside_box"), digits=4),
    Column("LPIPS-diversity", ("diversity", "lpips", "mean"), digits=4),
    Column("not anonymized", ("anonymity", "rates", "not_anonymized"), rate=True),
    Column("recall@1", ("anonymity", "rates", "recall_at_rank_1"), rate=True),
    Column("similar to train", ("anonymity", "rates", "similar_to_train"), rate=True),
    Column("shared identity", ("anonymity", "rates", "shared_identity"), rate=True),
    Column("re-ID rank-1", ("anonymity", "ranking", "rank_1")),
    Column("re-ID mAP", ("anonymity", "ranking", "mAP")),
)

# The metrics of ``python -m evaluation.evaluate --frames_dir`` (one row: the whole frame set).
FRAME_COLUMNS = (
    Column("FID frames", ("fidelity", "fid"), digits=2),
    Column("KID frames", ("fidelity", "kid_mean"), digits=4, spread="kid_std"),
    Column("FID persons", ("person_fidelity", "fid")),
    Column("KID persons", ("person_fidelity", "kid_mean")),
    Column("LPIPS-diversity", ("diversity", "mean")),
    Column("not anonymized", ("anonymity", "rates", "not_anonymized"), rate=True),
    Column("recall@1", ("anonymity", "rates", "recall_at_rank_1"), rate=True),
    Column("re-ID rank-1", ("anonymity", "ranking", "rank_1")),
    Column("re-ID mAP", ("anonymity", "ranking", "mAP")),
)


def markdown_table(columns: tuple[Column, ...], rows: list[Mapping[str, Any]], first: str | None = None) -> list[str]:
    """Markdown lines: a header and one line per row (``first`` names a leading column taken from ``row["name"]``)."""
    header = ([first] if first else []) + [column.name for column in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = ([str(row["name"])] if first else []) + [column.cell(row) for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
