#!/usr/bin/env bash
# Evidence for anonymize.py without annotations (README "Without annotations" and "Videos and tracking"): the built-in
# detector's recall at IoU 0.5 by person height on synthetic demo frames with exact boxes (30 frames of 2048×1024,
# seed 16, the 20 train frames scored), its speed on a 2048×1024 frame and on a 768×576 clip (scripts/benchmark.py),
# and the temporal stability of a tracked video (per-track vs per-frame seeding) on OpenCV's vtest.avi with the
# shipped demo model. Everything goes to docs/results/detection/.
# Environment: VTEST (vtest.avi; Debian's opencv-doc package installs it as
# /usr/share/doc/opencv-doc/examples/data/vtest.avi), WORK_DIR (./detection_work).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

work_dir="${WORK_DIR:-./detection_work}"
vtest="${VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}"
results="docs/results/detection"
mkdir -p "$results" "$work_dir"

echo "== 1/4 demo frames with exact boxes -> $work_dir/demo"
if [[ ! -f "$work_dir/demo/identities.json" ]]; then
    "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$work_dir/demo" --frames 30 --seed 16 --quiet
fi

echo "== 2/4 recall by person height"
for run in "50 0.5" "100 0.5" "50 0.3"; do
    set -- $run
    "$AGAN_PYTHON" -m evaluation.detection_recall --cityscapes_root "$work_dir/demo" --split train \
        --min_person_height "$1" --detection_threshold "$2" --out "$results/recall_min_height_$1_threshold_$2.json"
done

echo "== 3/4 speed"
"$AGAN_PYTHON" scripts/benchmark.py --only detect_frame,video_fps --out "$results/benchmark.json" > /dev/null

echo "== 4/4 temporal stability on the first 5 s of $vtest (shipped demo model)"
for tracking in on off; do
    "$AGAN_PYTHON" anonymize.py -i "$vtest" -o "$work_dir/vtest_tracking_$tracking.mp4" --end 5 \
        --tracking "$tracking" --cache "$work_dir/cache" --overwrite --quiet
done
# Both videos are scored at the boxes of the tracked run, so they compare the same people and frames.
report="$work_dir/vtest_tracking_on.report.json"
for method in all gan; do
    selection=()
    [[ "$method" == gan ]] && selection=(--method gan)
    for tracking in on off; do
        "$AGAN_PYTHON" -m evaluation.temporal_stability --video "$work_dir/vtest_tracking_$tracking.mp4" \
            --report "$report" --original "$vtest" "${selection[@]}" \
            --out "$results/temporal_stability_${method}_tracking_$tracking.json"
    done
done
echo "done: $results"
