#!/usr/bin/env bash
# The reproduction of README.md's shipped demo model (2026-12-05, commit 5e3a581; README.md here): the recipe's
# command from scratch on a fresh machine, the export the card names, then the shipped model's held-out GAN rows
# (scripts/demo_model_evidence.sh, seed 1502) for the reproduced model and, on the same machine, for the shipped one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
out=${OUT:-/work/runs}  # where this run wrote; any folder will do
GENERATOR=inpaint NAME=repro_check_inpaint bash scripts/train_demo_model.sh
"$AGAN_PYTHON" scripts/export_model.py checkpoints/repro_check_inpaint_background --epoch best \
    --out "$out/repro_eval/repro_psgan.pth" --network_mode eval --blend_px 4
for frame_set in eval48:48 eval12:12; do
    IFS=: read -r name frames <<< "$frame_set"
    WORK_DIR="$out/repro_eval/$name" FRAMES=$frames MODEL_FILE="$out/repro_eval/repro_psgan.pth" METHODS=gan \
        RESULTS_DIR="$out/repro_eval/$name/results" bash scripts/demo_model_evidence.sh
done
# the shipped model, measured on the same machine and the same 48 frames
mkdir -p "$out/shipped_eval/eval48" && ln -sfn "$out/repro_eval/eval48/heldout" "$out/shipped_eval/eval48/heldout"
WORK_DIR="$out/shipped_eval/eval48" FRAMES=48 METHODS=gan RESULTS_DIR="$out/shipped_eval/eval48/results" \
    bash scripts/demo_model_evidence.sh
# the reproduced run's last epoch (second stage epoch 6) instead of its best by validation FID
"$AGAN_PYTHON" scripts/export_model.py checkpoints/repro_check_inpaint_background --epoch latest \
    --out "$out/repro_eval/repro_latest_psgan.pth" --network_mode eval --blend_px 4
mkdir -p "$out/repro_latest/eval48" && ln -sfn "$out/repro_eval/eval48/heldout" "$out/repro_latest/eval48/heldout"
WORK_DIR="$out/repro_latest/eval48" FRAMES=48 MODEL_FILE="$out/repro_eval/repro_latest_psgan.pth" METHODS=gan \
    RESULTS_DIR="$out/repro_latest/eval48/results" bash scripts/demo_model_evidence.sh
# the reproduced first stage's best checkpoint, measured as the shipped run's first stage was (no feather, no redraws)
"$AGAN_PYTHON" scripts/export_model.py checkpoints/repro_check_inpaint --epoch best \
    --out "$out/repro_eval/repro_first_stage.pth" --network_mode eval --blend_px 0
mkdir -p "$out/repro_first/eval48" && ln -sfn "$out/repro_eval/eval48/heldout" "$out/repro_first/eval48/heldout"
REDRAWS=0 WORK_DIR="$out/repro_first/eval48" FRAMES=48 MODEL_FILE="$out/repro_eval/repro_first_stage.pth" METHODS=gan \
    RESULTS_DIR="$out/repro_first/eval48/results" bash scripts/demo_model_evidence.sh
