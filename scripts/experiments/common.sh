#!/usr/bin/env bash
# Shared by the experiment scripts: environment overrides, --help / --dry-run, and a logged command runner.
# Every script takes: train | test | all (default all), and the environment variables
#   DATAROOT (crop dataset), NAME (experiment name), SEED, VARIANT (readme | thesis2021), GPU_IDS, EXTRA (flags
#   appended to every train.py/test.py command), TRAIN_EXTRA / TEST_EXTRA (to train.py / test.py only),
#   CHECKPOINTS_DIR, RESULTS_DIR, PYTHON.
set -euo pipefail

AGAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-${AGAN_PYTHON:-python}}"
DATAROOT="${DATAROOT:-./datasets}"
SEED="${SEED:-12}"
VARIANT="${VARIANT:-readme}"
GPU_IDS="${GPU_IDS:-0}"
EXTRA="${EXTRA:-}"
TRAIN_EXTRA="${TRAIN_EXTRA:-}"
TEST_EXTRA="${TEST_EXTRA:-}"
CHECKPOINTS_DIR="${CHECKPOINTS_DIR:-./checkpoints}"
RESULTS_DIR="${RESULTS_DIR:-./results}"
DRY_RUN=0
STEP=all

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    cat <<TXT

usage: $(basename "$0") [train|test|all] [--dry-run] [--help]
  --dry-run  print the commands without running them
environment: DATAROOT=$DATAROOT NAME=${NAME:-<default>} SEED=$SEED VARIANT=$VARIANT GPU_IDS=$GPU_IDS
             EXTRA='$EXTRA' TRAIN_EXTRA='$TRAIN_EXTRA' TEST_EXTRA='$TEST_EXTRA'
             CHECKPOINTS_DIR=$CHECKPOINTS_DIR RESULTS_DIR=$RESULTS_DIR
TXT
}

parse_args() {
    for arg in "$@"; do
        case "$arg" in
            train|test|all) STEP="$arg" ;;
            --dry-run) DRY_RUN=1 ;;
            -h|--help) usage; exit 0 ;;
            *) echo "error: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
        esac
    done
    case "$VARIANT" in
        readme|thesis2021) ;;
        *) echo "error: VARIANT must be readme or thesis2021, got '$VARIANT'" >&2; exit 2 ;;
    esac
}

# The defaults the thesis experiments most likely ran with: noisy boxes kept from the PNG,
# clip 0.5, pools of 50. The README-era ones are the flags of the thesis README commands.
variant_flags() {
    if [[ "$VARIANT" == thesis2021 ]]; then
        echo "--bbox_noise original --clip_value 0.5 --pool_size_image 50 --pool_size_person 50"
    fi
}

run() {
    echo "+ $*"
    if [[ "$DRY_RUN" == 0 ]]; then
        (cd "$AGAN_ROOT" && "$@")
    fi
}

common_flags() {
    echo "--dataroot $DATAROOT --name $NAME --seed $SEED --gpu_ids $GPU_IDS --checkpoints_dir $CHECKPOINTS_DIR"
}
