#!/usr/bin/env bash
# The main job on built-in data: set everything up, generate synthetic Cityscapes-layout street frames, turn them
# into training crops, train a small single-stage model (psgan), test it with --epoch best, and anonymize three
# demo frames with the shipped demo model (models/shipped/demo_psgan.pth): whole boxes, then each person in its own
# shape (from the frames' instance ids).
# Environment overrides: DEMO_DIR (default ./demo_data), DEMO_FRAMES (60), DEMO_SEED (0), DEMO_EPOCHS (3, then 2 of decay).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

demo_dir="${DEMO_DIR:-./demo_data}"
frames="${DEMO_FRAMES:-60}"
seed="${DEMO_SEED:-0}"
epochs="${DEMO_EPOCHS:-3}"

echo "== 1/5 synthetic street frames -> $demo_dir/cityscapes"
"$AGAN_PYTHON" -m synthetic.make_demo_data --out "$demo_dir/cityscapes" --frames "$frames" --seed "$seed"

echo "== 2/5 frames + person boxes -> training crops in $demo_dir/crops"
"$AGAN_PYTHON" -m data_preprocessing.cityscapes --cityscapes_root "$demo_dir/cityscapes" --out "$demo_dir/crops" \
    --source_splits train,val,test --split train=0.7,val=0.15,test=0.15 --seed "$seed"

echo "== 3/5 train a small psgan (ngf 16) on the demo crops"
"$AGAN_PYTHON" train.py --dataroot "$demo_dir/crops" --name demo_psgan \
    --model psgan --preprocess resize_crop_contrast --batch_size 1 --n_epochs "$epochs" --n_epochs_decay 2 \
    --lr 0.0002 --clip_value 100 --netG unet_256 --ngf 16 --ndf 16 --netG_mask_input --netG_noise decoder \
    --pool_size_image 50 --pool_size_person 50 --gpu_ids -1 --seed "$seed" --print_freq 50 --display_freq 50

echo "== 4/5 test it with --epoch best"
"$AGAN_PYTHON" test.py --dataroot "$demo_dir/crops" --name demo_psgan \
    --phase test --epoch best --num_test 500 --gpu_ids -1 --seed "$seed"

echo "== 5/5 anonymize three demo test frames with the shipped demo model (models/shipped/demo_psgan.pth)"
mapfile -t test_frames < <(find "$demo_dir/cityscapes/leftImg8bit/test" -name '*.png' | sort | head -n 3)
mkdir -p "$demo_dir/shipped_model_input"
cp "${test_frames[@]}" "$demo_dir/shipped_model_input/"
"$AGAN_PYTHON" anonymize.py -i "$demo_dir/shipped_model_input" -a "$demo_dir/cityscapes/gtBboxCityPersons/test" \
    -o results/demo_shipped_model --method gan --seed "$seed" --quiet \
    --compare results/demo_shipped_model/before_after.png
"$AGAN_PYTHON" anonymize.py -i "$demo_dir/shipped_model_input" -a "$demo_dir/cityscapes/gtBboxCityPersons/test" \
    -o results/demo_shipped_shape_model --method gan --instance_ids "$demo_dir/cityscapes/gtFine" --seed "$seed" \
    --quiet --compare results/demo_shipped_shape_model/before_after.png

echo "done: training pages checkpoints/demo_psgan/web/index.html"
echo "      test results  results/demo_psgan/test_best/index.html"
echo "      shipped model results/demo_shipped_model/ (before_after.png, report.json)"
echo "      person shapes results/demo_shipped_shape_model/ (before_after.png, report.json)"
