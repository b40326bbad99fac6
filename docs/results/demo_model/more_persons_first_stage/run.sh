#!/usr/bin/env bash
# Both stages of the shipped recipe on 1,440 frames of seed 1521 (rule.md beside this file), then export and the
# held-out GAN rows. Run from the repository root; every step resumes. WORK (data and evaluations) defaults to
# ./more_persons_work; THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./more_persons_work}"
export OMP_NUM_THREADS="${THREADS:-2}"
name=demo_people64_silhouette_more_persons
date -u +"data start %H:%M:%S"
if [[ ! -f "$work/cityscapes/identities.json" ]]; then
    "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$work/cityscapes" --frames 1440 --seed 1521 \
        --appearances_per_identity 1 --workers 2 --quiet
fi
if [[ ! -f "$work/crops/manifest.json" ]]; then
    "$AGAN_PYTHON" -m data_preprocessing.cityscapes --cityscapes_root "$work/cityscapes" --out "$work/crops" \
        --source_splits train,val,test --split train=0.85,val=0.15 --seed 1521 --quiet
fi
train=("$AGAN_PYTHON" train.py --dataroot "$work/crops" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}"
    "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 --save_val_freq 1 "${demo_logging_flags[@]}")
resume=(); [[ -f "checkpoints/$name/latest_state.pth" ]] && resume=(--continue_train)
date -u +"stage1 start %H:%M:%S"
"${train[@]}" --name "$name" --n_epochs 5 --n_epochs_decay 4 "${resume[@]}"
tuned=${name}_background
start=(--init_from "checkpoints/$name" --epoch best)
[[ -f "checkpoints/$tuned/latest_state.pth" ]] && start=(--continue_train)
date -u +"stage2 start %H:%M:%S"
"${train[@]}" --name "$tuned" "${demo_finetune_flags[@]}" --n_epochs 1 --n_epochs_decay 1 "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$tuned" "$work/demo_psgan_more_persons.pth" "$work"
