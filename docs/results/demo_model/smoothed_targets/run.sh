#!/usr/bin/env bash
# The smoothed-targets diagnostic (rule.md beside this file): blur a copy of the recipe's crops, train the shipped
# generator 10 more epochs on it with fresh discriminators, export, measure the held-out GAN rows. Run from the
# repository root after the recipe's data exist in ./demo_model_work; every step resumes. WORK defaults to
# ./demo_model_work/smoothed_targets; THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/smoothed_targets}"
export OMP_NUM_THREADS="${THREADS:-2}"
here=docs/results/demo_model/smoothed_targets
date -u +"smoothing start %H:%M:%S"
PYTHONPATH=. "$AGAN_PYTHON" "$here/smooth_crops.py" ./demo_model_work/crops "$work/crops" 2.13
name=demo_people64_silhouette_smoothed
start=(--init_from models/shipped/demo_psgan.pth --pretrain_iters_D 428)
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"training start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot "$work/crops" --name "$name" "${demo_model_flags[@]}" \
    "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 \
    --lr 0.0001 --n_epochs 6 --n_epochs_decay 4 --save_val_freq 2 "${demo_logging_flags[@]}" "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_smoothed.pth" "$work"
