"""Command-line options: base flags plus training or test flags, extended by the chosen model and dataset."""
