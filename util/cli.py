"""What every command-line entry point shares: checked numeric flags, one-line errors for file-system failures,
printable paths."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any


def os_error_text(error: OSError) -> str:
    """``<file>: <reason>`` for an OSError (e.g. a read-only output folder), one line, without ``[Errno n]``."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return reason
    target = f" -> {error.filename2}" if error.filename2 is not None else ""
    return f"{error.filename}{target}: {reason}"


def printable_paths() -> None:
    """File names that are not valid UTF-8 (kept by Python as surrogate escapes) print with backslash escapes
    instead of raising UnicodeEncodeError on stdout; stderr already does so."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def number(kind: type = float, minimum: float | None = None, maximum: float | None = None,
           above: float | None = None, below: float | None = None, allow_inf: bool = False) -> Callable[[str], Any]:
    """An argparse ``type`` for a number in a range: finite (unless ``allow_inf``), ``>= minimum``, ``> above``,
    ``<= maximum``, ``< below``. A bad value exits with argparse's one-line ``error: argument --flag: ...``."""
    limits = [f">= {minimum:g}" if minimum is not None else "", f"> {above:g}" if above is not None else "",
              f"<= {maximum:g}" if maximum is not None else "", f"< {below:g}" if below is not None else ""]
    wanted = f"{'an integer' if kind is int else 'a finite number' if not allow_inf else 'a number'}" + (
        " " + " and ".join(limit for limit in limits if limit) if any(limits) else "")

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        ok = not math.isnan(value) and (allow_inf or math.isfinite(value))
        ok = ok and (minimum is None or value >= minimum) and (above is None or value > above)
        ok = ok and (maximum is None or value <= maximum) and (below is None or value < below)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def one_line(error: BaseException) -> str:
    """``Type: first line of the message`` — for wrapping errors of libraries whose messages span several lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
