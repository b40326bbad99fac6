#!/usr/bin/env bash
# The thesis pipeline small, on synthetic demo data and a CPU: 60 demo frames -> crops -> psgan, progan and pix2pix
# (128 px, ngf 16, 3-4 epochs) x seeds 12, 22, 32 -> test.py --epoch best -> evaluation with the four baselines ->
# tables in $WORK/tables (default docs/results/mini). About 20-30 minutes on 2 CPU cores. Resumes when rerun.
# Environment: WORK (default work/mini), TABLES_DIR, MODELS, SEEDS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ " $* " != *" --help "* && " $* " != *" -h "* && " $* " != *" --dry-run "* ]]; then
    source scripts/setup.sh
fi
export PYTHON="${AGAN_PYTHON:-python}"
WORK="${WORK:-work/mini}"
DATAROOT="$WORK/crops"
GPU_IDS=-1
MODELS="${MODELS:-psgan progan pix2pix}"
SEEDS="${SEEDS:-12 22 32}"
TABLES_DIR="${TABLES_DIR:-docs/results/mini}"

small="--load_size 143 --crop_size 128 --ngf 16 --ndf 16 --print_freq 100 --display_freq 200"
export TRAIN_EXTRA_psgan="$small --netG unet_128 --n_epochs 2 --n_epochs_decay 1"
export TRAIN_EXTRA_pix2pix="$TRAIN_EXTRA_psgan"
export TRAIN_EXTRA_progan="$small --netG unet_64 --netG2 unet_128 --n_epochs 3 --n_epochs_decay 1 \
--stage_1_epochs 2 --pretrain_iters_stage_2 20"
export TEST_EXTRA_psgan="--load_size 128 --crop_size 128"
export TEST_EXTRA_pix2pix="$TEST_EXTRA_psgan"
export TEST_EXTRA_progan="$TEST_EXTRA_psgan"

make_dataset() {
    run "$PYTHON" -m synthetic.make_demo_data --out "$WORK/cityscapes" --frames 60 --seed 0 --quiet
    run "$PYTHON" -m data_preprocessing.cityscapes --cityscapes_root "$WORK/cityscapes" --out "$DATAROOT" \
        --source_splits train,val,test --split train=0.7,val=0.15,test=0.15 --seed 0 --quiet
}

source scripts/experiments/reproduce.sh "$@"
