#!/usr/bin/env bash
# Two-stage model (progan): the thesis README's train and test commands.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NAME="${NAME:-EXP_TWO_STAGE_${VARIANT}_seed${SEED}}"
parse_args "$@"

# shellcheck disable=SC2046
if [[ "$STEP" != test ]]; then
    run "$PYTHON" train.py $(common_flags) --model progan --preprocess resize_crop_contrast --load_size 286 \
        --crop_size 256 --batch_size 1 --n_epochs 150 --n_epochs_decay 50 --stage_1_epochs 100 \
        --pretrain_iters_stage_2 1000 --lr 0.00012 --clip_value 10 --lambda_L1 80 --lambda_L1_stage_2 80 \
        --netG unet_128 --netG2 unet_256 --netG_mask_input --netG2_mask_input --netG_noise decoder --unet_diff_map \
        --netD_image n_layers --n_layers_D 2 --netD2_image basic --netD_person spp_128 --netD2_person spp \
        $(variant_flags) $EXTRA $TRAIN_EXTRA
fi
# shellcheck disable=SC2046
if [[ "$STEP" != train ]]; then
    run "$PYTHON" test.py $(common_flags) --results_dir "$RESULTS_DIR" --model progan --phase test --epoch best \
        --num_test 500 --preprocess resize --load_size 256 --crop_size 256 $EXTRA $TEST_EXTRA
fi
