"""Run a command-line entry point on many argument lists in one process, as ``python CLI ARGS`` would run each.

    python tests/bad_input_driver.py CASES.json RESULTS.jsonl

``CASES.json`` is a list of ``{"cli": "train.py" | "-m package.module", "args": [...]}``. For each case the entry
point is executed as ``__main__`` (``runpy``, so exactly the code ``python train.py`` or ``python -m module`` runs)
with file descriptors 1 and 2 redirected to files, so that messages printed by C libraries count too. An exception
that escapes the entry point is printed with its traceback and exit status 1, as the interpreter does. One JSON
line per case (``code``, ``stdout``, ``stderr``) is appended to ``RESULTS.jsonl`` as soon as the case ends, so a
crash of the process (a segfault) still leaves the results of the cases before it.

Used by tests/test_bad_inputs.py: one process per command instead of one per case keeps the corpus fast (the
imports of torch and the project are paid once per command).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_entry_point(cli: str) -> int:
    """Execute ``cli`` as ``__main__``; its exit status."""
    try:
        if cli.startswith("-m "):
            sys.modules.pop(cli[3:], None)  # imported by an earlier case: run it fresh, as ``python -m`` does
            runpy.run_module(cli[3:], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(str(ROOT / cli), run_name="__main__")
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - what the interpreter does with an exception nobody caught
        traceback.print_exc()
        return 1
    return 0


def run_case(cli: str, args: list[str]) -> dict:
    sys.argv = [cli[3:] if cli.startswith("-m ") else cli, *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = run_entry_point(cli)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        out.seek(0)
        err.seek(0)
        return {"code": code, "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")}


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    results = Path(sys.argv[2])
    os.chdir(ROOT)
    sys.path[0] = str(ROOT)  # as for ``python train.py`` in the repository (not this file's tests/ folder)
    for case in cases:
        result = run_case(case["cli"], case["args"])
        with open(results, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
