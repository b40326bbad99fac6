#!/usr/bin/env bash
# The spread study's second stages, from the repository root: scripts/train_demo_model.sh's stage 4 with its own
# flags and data, from FIRST_STAGE's best checkpoint (or from a model file FIRST_STAGE: its generator, with fresh
# discriminators), plus EXTRA flags (the later flag wins); then the export and the shipped model's held-out GAN rows
# (48 frames, seed 1502) in $WORK/NAME (./spread_work by default).
#   bash docs/results/demo_model/spread/second_stage.sh s2_ema9995 repro_check_inpaint --ema_decay 0.9995
#   bash docs/results/demo_model/spread/second_stage.sh s30_seed1541_background s30_seed1541
#   bash docs/results/demo_model/spread/second_stage.sh s35_fresh_d_seed1541 spread_work/s35/s30_seed1541_first_stage.pth \
#       --pretrain_iters_D 428
# Resumes when run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
name=$1; first_stage=$2; shift 2
source scripts/setup.sh
source scripts/demo_model_recipe.sh
export OMP_NUM_THREADS=2
variant=("${demo_silhouette_flags[@]}" "${demo_inpaint_flags[@]}")
start=(--init_from "checkpoints/$first_stage" --epoch best)
[[ -f "$first_stage" ]] && start=(--init_from "$first_stage")
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"train start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot demo_model_work/crops --name "$name" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" \
    "${demo_recipe_augment[@]}" "${variant[@]}" "${demo_finetune_flags[@]}" --batch_size 4 --save_val_freq 2 \
    "${demo_logging_flags[@]}" "${start[@]}" "$@"
date -u +"train end %H:%M:%S"
out="${WORK:-./spread_work}/$name"
"$AGAN_PYTHON" scripts/export_model.py "checkpoints/$name" --epoch best --out "$out/model.pth" --network_mode eval --blend_px 4
WORK_DIR="$out/eval48" FRAMES=48 MODEL_FILE="$out/model.pth" METHODS=gan RESULTS_DIR="$out/eval48/results" \
    bash scripts/demo_model_evidence.sh
