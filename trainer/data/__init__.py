"""Data sources (by name or import path in `config.data.source`) and the shared tf.data pipeline."""

from trainer.data.pipeline import make_dataset_fn
from trainer.data.registry import (
    SOURCES,
    create_source,
    default_source_args,
    source_argument_names,
)
from trainer.data.sources import DataSource

__all__ = [
    "SOURCES",
    "DataSource",
    "create_source",
    "default_source_args",
    "make_dataset_fn",
    "source_argument_names",
]
