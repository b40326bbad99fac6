#!/usr/bin/env bash
# Measure a trained demo-domain candidate the way the shipped model was measured: export RUN_DIR's best checkpoint
# in eval mode to MODEL_FILE (with its silhouette bank), print its SHA-256, then the GAN rows of
# scripts/demo_model_evidence.sh on 12 and on 48 held-out frames (seed 1502, whole boxes, sampling seeds 0/1) in
# EVAL_ROOT/eval12 and EVAL_ROOT/eval48, and on the 48 frames of the second held-out set (seed 1503,
# docs/results/demo_model/second_frame_set/) in EVAL_ROOT/eval48_seed1503 (each with results/table.md and
# results/persons_before_after.png).
# Every step resumes as demo_model_evidence.sh does; use a fresh EVAL_ROOT for a new model. REDRAWS is passed on
# to it (anonymize.py --redraws; unset: its default, 2). BLEND_PX (0) is recorded in MODEL_FILE (export_model.py
# --blend_px): the feather anonymize.py pastes the candidate's boxes with.
# Usage: bash scripts/measure_demo_candidate.sh RUN_DIR MODEL_FILE EVAL_ROOT
set -euo pipefail
if (( $# != 3 )); then
    echo "usage: bash scripts/measure_demo_candidate.sh RUN_DIR MODEL_FILE EVAL_ROOT" >&2
    exit 2
fi
# Absolute paths: the script works from the repository root.
run_dir="$(realpath -m "$1")" model="$(realpath -m "$2")" eval_root="$(realpath -m "$3")"
if [[ ! -f "$run_dir/train_opt.json" ]]; then
    echo "measure_demo_candidate.sh: RUN_DIR $run_dir is not a training run (no train_opt.json there)" >&2
    exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
mkdir -p "$(dirname "$model")"
"$AGAN_PYTHON" scripts/export_model.py "$run_dir" --epoch best --out "$model" --network_mode eval \
    --blend_px "${BLEND_PX:-0}"
sha256sum "$model"
for frame_set in eval12:12:1502 eval48:48:1502 eval48_seed1503:48:1503; do
    IFS=: read -r name frames heldout_seed <<< "$frame_set"
    date -u +"$name start %H:%M:%S"
    WORK_DIR="$eval_root/$name" FRAMES=$frames HELDOUT_SEED=$heldout_seed MODEL_FILE="$model" METHODS=gan \
        RESULTS_DIR="$eval_root/$name/results" bash scripts/demo_model_evidence.sh
done
date -u +"all done %H:%M:%S"
