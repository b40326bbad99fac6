"""scripts/demo_model_recipe.sh: the flags scripts/train_demo_model.sh trains with are the options the shipped
demo model records — the fine-tune's at the top level, the run it started from under
``exported_from.initialised_from`` — so the recipe reproduces the shipped model."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from options.train_options import TrainOptions

ROOT = Path(__file__).resolve().parents[2]
FIRST_RUN_ARRAYS = ("demo_model_flags", "demo_recipe_losses", "demo_recipe_augment", "demo_silhouette_flags",
                    "demo_inpaint_flags")
RECIPE_ARRAYS = (*FIRST_RUN_ARRAYS, "demo_finetune_flags")


def recipe_flags(train_script: str, arrays: tuple[str, ...] = RECIPE_ARRAYS) -> list[str]:
    """The recipe's train.py flags of ``arrays`` that ``train_script`` passes, read by bash itself (one per line;
    later flags win, as in the fine-tune's command)."""
    text = (ROOT / "scripts" / train_script).read_text()
    used = [name for name in arrays if f'"${{{name}[@]}}"' in text]
    printed = " ".join(f'"${{{name}[@]}}"' for name in used)
    result = subprocess.run(["bash", "-c", f'source scripts/demo_model_recipe.sh && printf "%s\\n" {printed}'],
                            cwd=ROOT, capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.splitlines()


def first_stage_seed() -> str:
    """demo_first_stage_seed of the recipe, read by bash."""
    result = subprocess.run(["bash", "-c", 'source scripts/demo_model_recipe.sh && echo "$demo_first_stage_seed"'],
                            cwd=ROOT, capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.strip()


def test_train_demo_model_uses_every_recipe_array_and_the_shipped_model_has_their_values(crop_dataroot, tmp_path):
    """Both stages' flags are the shipped model's options; the first stage's --seed is demo_first_stage_seed, which
    the script gives the default generator and silhouette after the recipe's arrays (the later flag wins)."""
    shipped = json.loads((ROOT / "models" / "shipped" / "demo_psgan.json").read_text())
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    first_command = text.split('"$AGAN_PYTHON" train.py')[1]
    assert '"${variant[@]}" --seed "$first_seed"' in first_command
    assert 'default_first_seed="$demo_first_stage_seed"' in text
    for arrays, record, extra in ((RECIPE_ARRAYS, shipped, second_stage_size(default_second_stage_crop())),
                                  (FIRST_RUN_ARRAYS, shipped["exported_from"]["initialised_from"]["options"],
                                   ["--seed", first_stage_seed()])):
        flags = recipe_flags("train_demo_model.sh", arrays) + extra
        assert "--diff_augment" in flags and "--ema_decay" in flags
        opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *flags])
        names = [flag[2:] for flag in flags if flag.startswith("--")]
        differing = {name: (getattr(opt, name), record.get(name)) for name in names
                     if getattr(opt, name) != record.get(name)}
        assert not differing, f"recipe ({', '.join(arrays)}) vs shipped model: {differing}"
    assert shipped["L1_box_background_weight"] == 1.0 and shipped["netG_silhouette_input"]
    assert shipped["netG"] == "inpaint" and shipped["exported_from"]["initialised_from"]["options"]["netG"] == "inpaint"


def test_train_demo_model_defaults_give_the_shipped_models_schedule():
    """Batch, epochs and validation frequency are the script's own (not the recipe's arrays): its defaults must
    be what the shipped model and the run it was fine-tuned from were trained with, or the script no longer
    reproduces it."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    batches = [int(size) for size in re.findall(r"--batch_size (\d+)", text)]
    # the first stage validates at the default generator's frequency (its branch of the script), the second at its own
    default_branch = re.search(r'if \[\[ "\$generator" == inpaint \]\]; then\n(.*?)\nelse', text, re.S).group(1)
    assert 'generator="${GENERATOR:-inpaint}"' in text and '--save_val_freq "$first_val_freq"' in text
    first_run = {"n_epochs": int(re.search(r'epochs="\$\{EPOCHS:-(\d+)\}"', text).group(1)),
                 "n_epochs_decay": int(re.search(r'decay_epochs="\$\{DECAY_EPOCHS:-(\d+)\}"', text).group(1)),
                 "batch_size": batches[0],
                 "save_val_freq": int(re.search(r"first_val_freq=(\d+)", default_branch).group(1))}
    fine_tune = {"batch_size": batches[1], "save_val_freq": int(re.search(r"--save_val_freq (\d+)", text).group(1))}
    shipped = json.loads((ROOT / "models" / "shipped" / "demo_psgan.json").read_text())
    start = shipped["exported_from"]["initialised_from"]
    assert start["epoch"] == "best" and '--init_from "checkpoints/$name" --epoch best' in text
    assert first_run == {name: start["options"][name] for name in first_run}
    assert fine_tune == {name: shipped[name] for name in fine_tune}
    # anonymize.py runs the shipped file in the mode and with the feather its card's numbers were measured in, which
    # the script says
    assert shipped["network_mode"] == "eval" and "--network_mode eval" in text
    assert shipped["blend_px"] == 4 and "--blend_px 4" in text


def test_silhouette_variant_trains_both_stages_with_the_silhouette_input(crop_dataroot, tmp_path):
    """By default (SILHOUETTE=1) demo_silhouette_flags go to the first run and to the fine-tune, and they are valid
    options."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    train_commands = text.split('"$AGAN_PYTHON" train.py')[1:]
    assert len(train_commands) == 2
    assert all('"${variant[@]}"' in command.split("echo")[0] for command in train_commands)
    flags = recipe_flags("train_demo_model.sh", ("demo_silhouette_flags",))
    opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *flags])
    assert opt.netG_silhouette_input and opt.L1_box_background_weight == 1.0
    assert 'silhouette="${SILHOUETTE:-1}"' in text


def test_silhouette_variant_rejects_a_value_other_than_0_or_1():
    result = subprocess.run(["bash", "scripts/train_demo_model.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin", "SILHOUETTE": "yes"})
    assert result.returncode == 2
    assert result.stderr.strip() == "train_demo_model.sh: SILHOUETTE must be 0 or 1, got 'yes'"


def test_first_stage_seed_rejects_a_value_that_is_not_a_whole_number():
    result = subprocess.run(["bash", "scripts/train_demo_model.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin", "FIRST_STAGE_SEED": "15x"})
    assert result.returncode == 2
    assert result.stderr.strip() == "train_demo_model.sh: FIRST_STAGE_SEED must be a whole number, got '15x'"


def test_generator_variant_trains_both_stages_with_the_inpainting_generator_by_default(crop_dataroot, tmp_path):
    """By default (GENERATOR=inpaint) demo_inpaint_flags go to the variant flags both train.py commands take, after
    the recipe's --netG unet_64, so both stages build the inpainting generator; GENERATOR=unet_64 leaves them out
    (the U-Net shipped before); any other value is one error."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    assert 'variant+=("${demo_inpaint_flags[@]}")' in text and 'generator="${GENERATOR:-inpaint}"' in text
    flags = recipe_flags("train_demo_model.sh", ("demo_model_flags", "demo_inpaint_flags"))
    opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *flags])
    assert (opt.netG, opt.netG_noise, opt.ngf) == ("inpaint", "decoder", 32)
    result = subprocess.run(["bash", "scripts/train_demo_model.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin", "GENERATOR": "unet_128"})
    assert result.returncode == 2
    assert result.stderr.strip() == "train_demo_model.sh: GENERATOR must be unet_64 or inpaint, got 'unet_128'"


def second_stage_size(side: str) -> list[str]:
    """The flags train_demo_model.sh gives its second stage for SECOND_STAGE_CROP=side, read by bash."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    definition = re.search(r"^second_stage_size=\(.*\)$", text, re.M).group(0)
    printed = f'second_crop={side}; {definition}; printf "%s\\n" "${{second_stage_size[@]}}"'
    result = subprocess.run(["bash", "-c", printed], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.splitlines()


def default_second_stage_crop() -> str:
    """SECOND_STAGE_CROP's default in train_demo_model.sh."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    return re.search(r'second_crop="\$\{SECOND_STAGE_CROP:-(\d+)\}"', text).group(1)


def test_second_stage_crop_draws_the_same_frame_window_at_64_or_96_px(crop_dataroot, tmp_path):
    """SECOND_STAGE_CROP=64 trains the second stage at the first stage's sizes, 96 draws the same frame window
    (load side 9/8 of the crop) at 96 px; its flags come after the recipe's arrays so that its sizes win, and its
    default gives the shipped model's sizes (checked with the other options above); any other side is one error."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    assert default_second_stage_crop() in ("64", "96")
    second_command = text.split('"$AGAN_PYTHON" train.py')[2].split("echo")[0]
    assert second_command.index('"${second_stage_size[@]}"') > second_command.index('"${demo_model_flags[@]}"')
    recipe = recipe_flags("train_demo_model.sh")
    for side, expected in (("64", (72, 64)), ("96", (108, 96))):
        opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *recipe,
                                    *second_stage_size(side)])
        assert (opt.load_size, opt.crop_size) == expected
    result = subprocess.run(["bash", "scripts/train_demo_model.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin", "SECOND_STAGE_CROP": "128"})
    assert result.returncode == 2
    assert result.stderr.strip() == "train_demo_model.sh: SECOND_STAGE_CROP must be 64 or 96, got '128'"


def second_stage_schedule(settings: dict[str, str]) -> subprocess.CompletedProcess:
    """train_demo_model.sh's second-stage schedule block run by bash with ``settings`` in the environment; prints
    the flags it adds, one per line."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    block = re.search(r"^second_schedule=\(\)$.*?^fi$\n(?=source scripts/setup.sh)", text, re.S | re.M).group(0)
    printed = f'set -u\n{block}\nprintf "%s\\n" "${{second_schedule[@]}}"'
    return subprocess.run(["bash", "-c", printed], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", **settings})


def test_second_stage_schedule_overrides_the_recipes_epochs_only_when_both_are_set(crop_dataroot, tmp_path):
    """SECOND_STAGE_EPOCHS=1 SECOND_STAGE_DECAY_EPOCHS=3 trains the second stage for 1 + 3 decaying epochs (its
    flags come after demo_finetune_flags, so they win); unset, the recipe's 2 + 4 stay; a bad or lone value is one
    error naming the setting."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    second_command = text.split('"$AGAN_PYTHON" train.py')[2].split("echo")[0]
    assert second_command.index('"${second_schedule[@]}"') > second_command.index('"${demo_finetune_flags[@]}"')
    recipe = recipe_flags("train_demo_model.sh")
    for settings, expected in (({}, (2, 4)), ({"SECOND_STAGE_EPOCHS": "1", "SECOND_STAGE_DECAY_EPOCHS": "3"}, (1, 3))):
        result = second_stage_schedule(settings)
        assert result.returncode == 0, result.stderr
        opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *recipe,
                                    *result.stdout.split()])
        assert (opt.n_epochs, opt.n_epochs_decay) == expected
    for settings, message in (
            ({"SECOND_STAGE_EPOCHS": "two", "SECOND_STAGE_DECAY_EPOCHS": "3"},
             "SECOND_STAGE_EPOCHS must be a whole number, got 'two'"),
            ({"SECOND_STAGE_DECAY_EPOCHS": "3"},
             "set both SECOND_STAGE_EPOCHS and SECOND_STAGE_DECAY_EPOCHS, or neither"),
            ({"SECOND_STAGE_EPOCHS": "0", "SECOND_STAGE_DECAY_EPOCHS": "0"},
             "SECOND_STAGE_EPOCHS + SECOND_STAGE_DECAY_EPOCHS must be at least 1")):
        result = subprocess.run(["bash", "scripts/train_demo_model.sh"], cwd=ROOT, capture_output=True, text=True,
                                timeout=30, env={"PATH": "/usr/bin:/bin", **settings})
        assert result.returncode == 2
        assert result.stderr.strip() == f"train_demo_model.sh: {message}"
