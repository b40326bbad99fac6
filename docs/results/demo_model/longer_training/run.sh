#!/usr/bin/env bash
# Train the shipped generator 24 more epochs with fresh discriminators (rule.md beside this file), export it and
# measure the held-out GAN rows. Run from the repository root after the recipe's data exist in ./demo_model_work
# (steps 1-2 of scripts/train_demo_model.sh); every step resumes. WORK (evaluations) defaults to
# ./demo_model_work/longer_training; THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/longer_training}"
export OMP_NUM_THREADS="${THREADS:-2}"
name=demo_people64_silhouette_longer
start=(--init_from models/shipped/demo_psgan.pth --pretrain_iters_D 428)
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"training start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$name" "${demo_model_flags[@]}" \
    "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 \
    --lr 0.0001 --n_epochs 14 --n_epochs_decay 10 --save_val_freq 4 "${demo_logging_flags[@]}" "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_longer.pth" "$work"
