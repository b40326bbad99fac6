"""Command-line options: base flags plus training or test flags, extended by the chosen model and dataset.

From Python, without a command line: ``TrainOptions().parse_keywords(**flags)``, ``TestOptions().parse_keywords``,
and a trained model's options with ``run_options(run_folder, **overrides)`` or ``model_file_options(file)``.
"""

from options.base_options import OptionsError
from options.run_options import model_file_options, run_options

__all__ = ["OptionsError", "model_file_options", "run_options"]
