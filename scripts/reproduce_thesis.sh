#!/usr/bin/env bash
# Reproduce the thesis: Cityscapes + CityPersons -> the thesis crop dataset (2,475/500/500 frames, 1,200/120 subset)
# -> psgan, progan and pix2pix at the README settings x seeds 12, 22, 32 -> test.py --epoch best -> evaluation with
# the four baselines -> tables (mean ± std over seeds) in $WORK/tables. Resumes where it stopped when rerun.
# Environment: CITYSCAPES (the folder with leftImg8bit/ and gtBboxCityPersons/, default datasets/cityscapes),
# WORK (default work/thesis), GPU_IDS (default 0), MODELS, SEEDS, EVAL_EXTRA (e.g. --reid_weights FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ " $* " != *" --help "* && " $* " != *" -h "* && " $* " != *" --dry-run "* ]]; then
    source scripts/setup.sh
fi
export PYTHON="${AGAN_PYTHON:-python}"
CITYSCAPES="${CITYSCAPES:-datasets/cityscapes}"
WORK="${WORK:-work/thesis}"
DATAROOT="$WORK/crops"
GPU_IDS="${GPU_IDS:-0}"
MODELS="${MODELS:-psgan progan pix2pix}"
SEEDS="${SEEDS:-12 22 32}"
TABLES_DIR="$WORK/tables"

make_dataset() {
    run "$PYTHON" -m data_preprocessing.cityscapes --cityscapes_root "$CITYSCAPES" --out "$DATAROOT" \
        --split train=2475,val=500,test=500 --subset train=1200,val=120 --seed 0
}

source scripts/experiments/reproduce.sh "$@"
