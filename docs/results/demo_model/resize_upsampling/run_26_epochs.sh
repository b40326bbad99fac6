#!/usr/bin/env bash
# From-scratch recipe with resize-convolution upsampling in G and a 26-epoch first stage (the shipped schedule); export; held-out GAN rows.
set -uo pipefail
cd /work/main
source scripts/setup.sh
source scripts/demo_model_recipe.sh
export OMP_NUM_THREADS=${THREADS:-2}
name=demo_people64_silhouette_resize26
data=demo_model_work/crops
extra=(--netG_upsample resize)
resume=(); [[ -f checkpoints/$name/latest_state.pth ]] && resume=(--continue_train)
date -u +"stage1 start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot $data --name "$name" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" \
    "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" "${extra[@]}" --batch_size 4 --n_epochs 15 \
    --n_epochs_decay 11 --save_val_freq 4 "${demo_logging_flags[@]}" "${resume[@]}" || exit 1
tuned=${name}_background
start=(--init_from checkpoints/$name --epoch best)
[[ -f checkpoints/$tuned/latest_state.pth ]] && start=(--continue_train)
date -u +"stage2 start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot $data --name "$tuned" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" \
    "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" "${extra[@]}" "${demo_finetune_flags[@]}" \
    --batch_size 4 --save_val_freq 2 "${demo_logging_flags[@]}" "${start[@]}" || exit 1
date -u +"export start %H:%M:%S"
"$AGAN_PYTHON" scripts/export_model.py checkpoints/$tuned --epoch best --out /work/runs/resize26.pth --network_mode eval
sha256sum /work/runs/resize26.pth
date -u +"eval12 start %H:%M:%S"
ONLY=12 /work/runs/evaluate1.sh /work/runs/resize26.pth resize26
date -u +"eval48 start %H:%M:%S"
ONLY=48 /work/runs/evaluate1.sh /work/runs/resize26.pth resize26
date -u +"all done %H:%M:%S"
