#!/usr/bin/env bash
# The GAN rows of a model file on held-out sets of 48 frames, one per seed: scripts/demo_model_evidence.sh with
# METHODS=gan (whole boxes, the file's feather, sampling seeds 0 and 1) in OUT/<seed> (its log OUT/<seed>.log),
# then the evaluation copied to DEST_PREFIX<seed>.json. A seed whose copy exists is skipped, so a rerun resumes.
# Usage: bash scripts/demo_gan_rows.sh MODEL_FILE OUT DEST_PREFIX SEED...
#   e.g. bash scripts/demo_gan_rows.sh mine.pth eval_mine eval_mine/gan_ 1502 1503 1504
set -euo pipefail
if (( $# < 4 )); then
    echo "usage: bash scripts/demo_gan_rows.sh MODEL_FILE OUT DEST_PREFIX SEED..." >&2
    exit 2
fi
# Absolute paths: the script works from the repository root.
model_file="$(realpath -m "$1")" out="$(realpath -m "$2")" dest_prefix="$(realpath -m "$3")"
shift 3
if [[ ! -f "$model_file" ]]; then
    echo "demo_gan_rows.sh: MODEL_FILE $model_file not found" >&2
    exit 2
fi
for seed in "$@"; do
    if [[ ! "$seed" =~ ^[0-9]+$ ]]; then
        echo "demo_gan_rows.sh: SEED must be a whole number, got '$seed'" >&2
        exit 2
    fi
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p "$out" "$(dirname "$dest_prefix")"
for seed in "$@"; do
    [[ -f "$dest_prefix$seed.json" ]] && continue
    date -u +"set $seed start %H:%M:%S"
    HELDOUT_SEED=$seed FRAMES=48 WORK_DIR="$out/$seed" MODEL_FILE="$model_file" METHODS=gan \
        RESULTS_DIR="$out/$seed/results" bash scripts/demo_model_evidence.sh > "$out/$seed.log" 2>&1
    cp "$out/$seed/evaluations/gan/metrics.json" "$dest_prefix$seed.json"
done
