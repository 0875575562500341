"""Experiment configs: one ml_collections file per experiment, all built on `configs.base`."""

import os

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(CONFIG_DIR, "digits_mlp.py")
