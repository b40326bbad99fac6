"""scripts/demo_model_recipe.sh: the flags scripts/train_demo_model.sh trains with are the options the shipped
demo model records, so the recipe reproduces the shipped model."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from options.train_options import TrainOptions

ROOT = Path(__file__).resolve().parents[2]
RECIPE_ARRAYS = ("demo_model_flags", "demo_recipe_losses", "demo_recipe_augment")


def recipe_flags(train_script: str) -> list[str]:
    """The recipe's train.py flags that ``train_script`` passes, read by bash itself (one per line)."""
    text = (ROOT / "scripts" / train_script).read_text()
    used = [name for name in RECIPE_ARRAYS if f'"${{{name}[@]}}"' in text]
    printed = " ".join(f'"${{{name}[@]}}"' for name in used)
    result = subprocess.run(["bash", "-c", f'source scripts/demo_model_recipe.sh && printf "%s\\n" {printed}'],
                            cwd=ROOT, capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.splitlines()


def test_train_demo_model_uses_every_recipe_array_and_the_shipped_model_has_their_values(crop_dataroot, tmp_path):
    flags = recipe_flags("train_demo_model.sh")
    assert "--diff_augment" in flags and "--ema_decay" in flags and "--netG" in flags
    opt = TrainOptions().parse(["--dataroot", str(crop_dataroot), "--checkpoints_dir", str(tmp_path), *flags])
    shipped = json.loads((ROOT / "models" / "shipped" / "demo_psgan.json").read_text())
    names = [flag[2:] for flag in flags if flag.startswith("--")]
    differing = {name: (getattr(opt, name), shipped[name]) for name in names if getattr(opt, name) != shipped[name]}
    assert not differing, f"recipe vs shipped model: {differing}"


def test_train_demo_model_defaults_give_the_shipped_models_schedule():
    """Batch, epochs and validation frequency are the script's own (not the recipe's arrays): its defaults must
    be what the shipped model was trained with, or the script no longer reproduces it."""
    text = (ROOT / "scripts" / "train_demo_model.sh").read_text()
    script = {"n_epochs": int(re.search(r'epochs="\$\{EPOCHS:-(\d+)\}"', text).group(1)),
              "n_epochs_decay": int(re.search(r'decay_epochs="\$\{DECAY_EPOCHS:-(\d+)\}"', text).group(1)),
              "batch_size": int(re.search(r"--batch_size (\d+)", text).group(1)),
              "save_val_freq": int(re.search(r"--save_val_freq (\d+)", text).group(1))}
    shipped = json.loads((ROOT / "models" / "shipped" / "demo_psgan.json").read_text())
    assert script == {name: shipped[name] for name in script}
    # anonymize.py runs the shipped file in the mode its card's numbers were measured in, which the script says
    assert shipped["network_mode"] == "eval" and "--network_mode eval" in text
