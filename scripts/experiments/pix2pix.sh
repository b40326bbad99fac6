#!/usr/bin/env bash
# pix2pix baseline: the single-stage settings without the person discriminator.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NAME="${NAME:-EXP_PIX2PIX_${VARIANT}_seed${SEED}}"
parse_args "$@"

# shellcheck disable=SC2046
if [[ "$STEP" != test ]]; then
    run "$PYTHON" train.py $(common_flags) --model pix2pix --preprocess resize_crop_contrast --batch_size 1 \
        --n_epochs 100 --n_epochs_decay 100 --lr 0.0002 --netG unet_256 --netG_mask_input --netG_noise decoder \
        $(variant_flags) $EXTRA $TRAIN_EXTRA
fi
# shellcheck disable=SC2046
if [[ "$STEP" != train ]]; then
    run "$PYTHON" test.py $(common_flags) --results_dir "$RESULTS_DIR" --model pix2pix --phase test --epoch best \
        --num_test 500 --preprocess resize --load_size 256 --crop_size 256 $EXTRA $TEST_EXTRA
fi
