#!/usr/bin/env bash
# The "more persons" second stage again with --EL_person and without --diff_augment (rule_feature_matching.md), then export and the held-out
# GAN rows. Needs run.sh's first stage and data; run from the repository root; it resumes.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./more_persons_work}"
export OMP_NUM_THREADS="${THREADS:-2}"
first=demo_people64_silhouette_more_persons
name=${first}_background_el
start=(--init_from "checkpoints/$first" --epoch best)
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"stage2 start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot "$work/crops" --name "$name" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" \
    "${demo_silhouette_flags[@]}" --batch_size 4 --save_val_freq 1 "${demo_logging_flags[@]}" \
    "${demo_finetune_flags[@]}" --n_epochs 1 --n_epochs_decay 1 --EL_person "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_more_persons_el.pth" "$work/feature_matching"
