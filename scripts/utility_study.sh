#!/usr/bin/env bash
# The downstream-utility study on demo data (python -m evaluation.utility): held-out synthetic frames (seed 1717:
# no training, test or other evaluation uses it) are anonymized with every method; the built-in pedestrian detector
# is measured on the anonymized test frames, and fine-tuned once per method and seed on the anonymized training
# frames, then tested on the original test frames. The table and metrics.json go to docs/results/utility/.
# Resumable: a rerun reuses every finished (method, seed). Environment overrides: WORK_DIR (./utility_work),
# FRAMES (120), METHODS (all six), SEEDS (0,1), STEPS (the study's schedule), MODEL_FILE (the GAN; default the
# shipped demo model), EXTRA (more flags for evaluation.utility).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

work_dir="${WORK_DIR:-./utility_work}"
frames="${FRAMES:-120}"
methods="${METHODS:-original,blur,pixelate,mask,noise,gan}"
seeds="${SEEDS:-0,1}"
data="$work_dir/demo"
results="docs/results/utility"

echo "== 1/2 $frames synthetic frames (seed 1717) -> $data"
if [[ ! -f "$data/identities.json" ]]; then
    "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$data" --frames "$frames" --seed 1717 --quiet
fi

echo "== 2/2 the study -> $work_dir/study"
# shellcheck disable=SC2086  # EXTRA is a list of flags
"$AGAN_PYTHON" -m evaluation.utility --frames "$data/leftImg8bit" --annotations "$data/gtBboxCityPersons" \
    --methods "$methods" --seeds "$seeds" ${STEPS:+--steps "$STEPS"} ${MODEL_FILE:+--model_file "$MODEL_FILE"} \
    --out "$work_dir/study" ${EXTRA:-}

mkdir -p "$results"
cp "$work_dir/study/utility.md" "$results/table.md"
cp "$work_dir/study/metrics.json" "$results/metrics.json"
echo "done: $results/table.md"
