#!/usr/bin/env bash
# The whole thesis pipeline, resumable: crop dataset -> models x seeds (train, test --epoch best) -> evaluation with
# the four baselines -> tables. Sourced by scripts/reproduce_thesis.sh and scripts/reproduce_mini.sh, which set:
#   make_dataset (a function), DATAROOT, WORK (state, checkpoints, results), MODELS, SEEDS, GPU_IDS,
#   TRAIN_EXTRA_<model>, TEST_EXTRA_<model>, EVAL_EXTRA, TABLES_DIR.
# A finished step leaves WORK/.done/<step>; a rerun skips it. An interrupted training continues from its
# latest_state.pth (--continue_train), so a rerun after a crash ends where an uninterrupted run ends.
set -euo pipefail

AGAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DRY_RUN="${DRY_RUN:-0}"
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
                   echo; echo "usage: $(basename "$0") [--dry-run]"; exit 0 ;;
        *) echo "error: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
    esac
done
export DRY_RUN

done_dir="$WORK/.done"
mkdir -p "$done_dir"
checkpoints="$WORK/checkpoints"
results="$WORK/results"

step() {  # step NAME COMMAND...: run once, remember success
    local name="$1"; shift
    if [[ -f "$done_dir/$name" ]]; then
        echo "== $name: done before, skipped"
        return
    fi
    echo "== $name"
    "$@"
    if [[ "$DRY_RUN" == 0 ]]; then touch "$done_dir/$name"; fi
}

run() {
    echo "+ $*"
    if [[ "$DRY_RUN" == 0 ]]; then (cd "$AGAN_ROOT" && "$@"); fi
}

experiment_name() { echo "EXP_${1^^}_readme_seed$2"; }

train_and_test() {  # model seed
    local model="$1" seed="$2" name extra_var test_var resume=""
    name="$(experiment_name "$model" "$seed")"
    extra_var="TRAIN_EXTRA_$model"; test_var="TEST_EXTRA_$model"
    if [[ -f "$checkpoints/$name/latest_state.pth" ]]; then
        resume="--continue_train"
    fi
    DATAROOT="$DATAROOT" NAME="$name" SEED="$seed" GPU_IDS="$GPU_IDS" CHECKPOINTS_DIR="$checkpoints" \
        RESULTS_DIR="$results" PYTHON="$PYTHON" TRAIN_EXTRA="${!extra_var:-} $resume" \
        TEST_EXTRA="${!test_var:-}" bash "$AGAN_ROOT/scripts/experiments/$model.sh" all \
        $([[ "$DRY_RUN" == 1 ]] && echo --dry-run)
}

evaluate() {  # model seed
    local name
    name="$(experiment_name "$1" "$2")"
    # shellcheck disable=SC2086
    run "$PYTHON" -m evaluation.evaluate --results_dir "$results/$name/test_best" --dataroot "$DATAROOT" \
        --checkpoints_dir "$checkpoints" --name "$name" --epoch best --baselines blur,pixelate,mask,noise \
        --samples_per_input 2 --seed "$2" --quiet ${EVAL_EXTRA:-}
}

step dataset make_dataset
for model in $MODELS; do
    for seed in $SEEDS; do
        step "train_test_${model}_$seed" train_and_test "$model" "$seed"
        step "evaluate_${model}_$seed" evaluate "$model" "$seed"
    done
done
experiments="$(for model in $MODELS; do printf '%s,' "$(experiment_name "$model" 0 | sed 's/_seed0$//')"; done)"
run "$PYTHON" scripts/make_tables.py "$results" --out "$TABLES_DIR" --seeds "$(echo $SEEDS | tr ' ' ',')" \
    --experiments "${experiments%,}"
