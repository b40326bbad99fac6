#!/usr/bin/env bash
# Set everything up, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
"$AGAN_PYTHON" -m ruff check .
"$AGAN_PYTHON" -m pytest "$@"
