#!/usr/bin/env bash
# Single-stage model (psgan): the thesis README's train and test commands.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NAME="${NAME:-EXP_SINGLE_STAGE_${VARIANT}_seed${SEED}}"
parse_args "$@"

# Variant flags come last so that the thesis-era clip value replaces the README's.
# shellcheck disable=SC2046
if [[ "$STEP" != test ]]; then
    run "$PYTHON" train.py $(common_flags) --model psgan --preprocess resize_crop_contrast --batch_size 1 \
        --n_epochs 100 --n_epochs_decay 100 --lr 0.0002 --clip_value 100 --netG unet_256 --netG_mask_input \
        --netG_noise decoder --pool_size_image 50 --pool_size_person 50 $(variant_flags) $EXTRA $TRAIN_EXTRA
fi
# shellcheck disable=SC2046
if [[ "$STEP" != train ]]; then
    run "$PYTHON" test.py $(common_flags) --results_dir "$RESULTS_DIR" --model psgan --phase test --epoch best \
        --num_test 500 --preprocess resize --load_size 256 --crop_size 256 $EXTRA $TEST_EXTRA
fi
