#!/usr/bin/env bash
# Evidence for the shipped demo GAN (models/shipped/demo_psgan.pth) on held-out synthetic frames (seed 1502: no
# training, test or other evaluation uses it): every method anonymizes the same frames and boxes, then
# evaluation.evaluate measures person-crop and full-frame FID/KID, in-box LPIPS-diversity (a second seed) and
# re-ID anonymity; a table and a picture of 16 persons go to RESULTS_DIR. A method <m>_shape (gan_shape,
# pixelate_shape, ...) is <m> replacing each person in its own shape from the frames' gtFine instance ids
# (anonymize.py --instance_ids), the rest of the box kept.
# Every step resumes (outputs and evaluations already in WORK_DIR are kept: use a fresh WORK_DIR for a new model);
# frames already in WORK_DIR/heldout must be those of HELDOUT_SEED and FRAMES (their demo_manifest.json says).
# Environment overrides: WORK_DIR (./demo_model_work), FRAMES (24), HELDOUT_SEED (1502; 1503 is the second held-out
# set, docs/results/demo_model/second_frame_set/), MODEL_FILE (the shipped model), METHODS, RESULTS_DIR
# (docs/results/demo_model), REDRAWS (anonymize.py --redraws for the GAN methods; unset: its default, 2).
# The GAN methods paste with the feather MODEL_FILE records (anonymize.py --blend_px; the shipped model's: 4).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
heldout_seed="${HELDOUT_SEED:-1502}"
if [[ ! "$heldout_seed" =~ ^[0-9]+$ ]]; then
    echo "demo_model_evidence.sh: HELDOUT_SEED must be a whole number, got '$heldout_seed'" >&2
    exit 2
fi
source scripts/setup.sh

work_dir="${WORK_DIR:-./demo_model_work}"
frames="${FRAMES:-24}"
model_file="${MODEL_FILE:-models/shipped/demo_psgan.pth}"
methods="${METHODS:-gan,gan_shape,blur,pixelate,mask,noise}"
redraws="${REDRAWS:-}"
held_out="$work_dir/heldout"
results="${RESULTS_DIR:-docs/results/demo_model}"

echo "== 1/4 $frames held-out frames (seed $heldout_seed) -> $held_out"
if [[ -f "$held_out/identities.json" ]]; then
    # a folder made for another seed or size would be measured silently as if it were this one
    made_with="$("$AGAN_PYTHON" -c 'import json, sys
try:
    manifest = json.load(open(sys.argv[1]))
    print("seed %s, %s frames" % (manifest["seed"], manifest["total_frames"]))
except (OSError, ValueError, KeyError) as error:
    print("unreadable (%s)" % error)' "$held_out/demo_manifest.json")"
    if [[ "$made_with" != "seed $heldout_seed, $frames frames" ]]; then
        echo "demo_model_evidence.sh: $held_out/demo_manifest.json says $made_with; HELDOUT_SEED and FRAMES ask" \
            "for seed $heldout_seed, $frames frames: use another WORK_DIR" >&2
        exit 2
    fi
else
    "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$held_out" --frames "$frames" --seed "$heldout_seed" --quiet
fi

echo "== 2/4 anonymize with every method (seeds 0 and 1)"
for method in ${methods//,/ }; do
    how=(--method "${method%_shape}" --model_file "$model_file")
    if [[ "$method" == *_shape ]]; then
        how+=(--instance_ids "$held_out/gtFine")
    fi
    if [[ "$method" == gan* && -n "$redraws" ]]; then
        how+=(--redraws "$redraws")
    fi
    for seed in 0 1; do
        "$AGAN_PYTHON" anonymize.py -i "$held_out/leftImg8bit" -a "$held_out/gtBboxCityPersons" \
            -o "$work_dir/anonymized/${method}_seed$seed" "${how[@]}" \
            --labels pedestrian --seed "$seed" --quiet
    done
done

echo "== 3/4 evaluate every method against the original frames"
for method in ${methods//,/ }; do
    if [[ -f "$work_dir/evaluations/$method/metrics.json" ]]; then
        continue  # done by an earlier run (a fresh WORK_DIR measures a new model)
    fi
    "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$work_dir/anonymized/${method}_seed0" \
        --second_sample "$work_dir/anonymized/${method}_seed1" --original_frames "$held_out/leftImg8bit" \
        --annotations "$held_out/gtBboxCityPersons" --out "$work_dir/evaluations/$method" --quiet
done

echo "== 4/4 table and picture -> $results"
"$AGAN_PYTHON" scripts/demo_model_report.py table --evaluations "$work_dir/evaluations" --methods "$methods" \
    --out "$results/table.md"
# The picture's rows are those of the GAN seeds, the GAN in each person's shape and blur that METHODS ran.
declare -A row_label=([gan]="GAN seed 0" [gan_shape]="GAN shape" [blur]="blur")
rows=()
for method in gan gan_shape blur; do
    if [[ ",$methods," == *",$method,"* ]]; then
        rows+=("${row_label[$method]}=$work_dir/anonymized/${method}_seed0")
        if [[ "$method" == gan ]]; then
            rows+=("GAN seed 1=$work_dir/anonymized/gan_seed1")
        fi
    fi
done
if (( ${#rows[@]} )); then
    "$AGAN_PYTHON" scripts/demo_model_report.py persons --original "$held_out/leftImg8bit" \
        --annotations "$held_out/gtBboxCityPersons" --out "$results/persons_before_after.png" \
        --rows "$(IFS=,; echo "${rows[*]}")"
fi
mkdir -p "$results/evaluations"
for method in ${methods//,/ }; do
    cp "$work_dir/evaluations/$method/metrics.json" "$results/evaluations/$method.json"
done
echo "done: $results/table.md${rows[*]:+, $results/persons_before_after.png}"
