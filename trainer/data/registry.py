"""Data sources by name or import path: `config.data.source` picks one, `config.data.args` holds
its keyword arguments.

A source is a `DataSource` subclass (constructed with the arguments, and `seed` if it declares
it) or a plain function (trainer/data/function_sources.py). Each built-in source's defaults are
its constructor's keyword defaults, in one place; `configs.base.get_config` copies them into the
config so that each can be overridden on the command line.
"""

import inspect

from trainer import registry
from trainer.data.csv_source import CsvSource
from trainer.data.function_sources import ArraysFunctionSource, DatasetFunctionSource
from trainer.data.image_folder import ImageFolderSource
from trainer.data.npz_source import NpzSource
from trainer.data.pairs import DigitPairsSource
from trainer.data.parquet_source import ParquetSource
from trainer.data.sources import DataSource, DigitsSource, LabelForEachOutput, SyntheticSource
from trainer.data.text_folder import TextFolderSource
from trainer.data.tfds_source import TfdsSource
from trainer.data.tfrecord_source import TfRecordSource
from trainer.errors import HarnessError

SOURCES = registry.Registry("data source", "config.data.source")
SOURCES.register("digits")(DigitsSource)
SOURCES.register("digit_pairs")(DigitPairsSource)
SOURCES.register("synthetic")(SyntheticSource)
SOURCES.register("csv")(CsvSource)
SOURCES.register("tfds")(TfdsSource)
SOURCES.register("tfrecord")(TfRecordSource)
SOURCES.register("image_folder")(ImageFolderSource)
SOURCES.register("text_folder")(TextFolderSource)
SOURCES.register("npz")(NpzSource)
SOURCES.register("parquet")(ParquetSource)
# What the harness passes to a source that declares it, rather than config.data.args: to data
# functions, and to DataSource classes, which also get `loss` (config.train.loss, to decide
# between classes and a regression target, as the CSV source's task="auto" does).
PROVIDED = ("seed", "split", "input_context")
PROVIDED_TO_CLASSES = (*PROVIDED, "loss")


def default_source_args(name: str) -> dict:
    """The source's keyword defaults, without the arguments the harness provides."""
    factory = SOURCES.resolve(name)
    return registry.default_args(factory, provided=_provided(factory))


def source_argument_names(name: str) -> list[str]:
    """The source's keyword arguments that config.data.args may set."""
    factory = SOURCES.resolve(name)
    return registry.argument_names(factory, provided=_provided(factory))


def _is_source_class(factory) -> bool:
    return inspect.isclass(factory) and issubclass(factory, DataSource)


def _provided(factory) -> tuple[str, ...]:
    return PROVIDED_TO_CLASSES if _is_source_class(factory) else PROVIDED


def create_source(data_config, *, seed: int = 0, loss: str = "") -> DataSource:
    """The source named by `data_config.source`, built from `data_config.args`."""
    name = data_config.source
    factory = SOURCES.resolve(name)
    args = data_config.args.to_dict()
    num_classes = data_config.num_classes or None
    if _is_source_class(factory):
        source = registry.call_with_args(
            factory, args, provided={"seed": seed, "loss": loss}, field="config.data.args"
        )
        if num_classes is not None:
            source.num_classes = num_classes
    elif inspect.isclass(factory):
        raise HarnessError(
            f"{SOURCES.field}={name!r} is the class {factory.__name__}, not a DataSource subclass: "
            "subclass trainer.data.DataSource, or name a function that returns the data."
        )
    else:
        kind = (
            DatasetFunctionSource
            if "split" in registry.signature_of(factory).parameters
            else ArraysFunctionSource
        )
        # Check the arguments against the function now, before any data is read.
        registry.check_args(factory, args, provided=PROVIDED, field="config.data.args")
        source = kind(factory, name=name, args=args, seed=seed, num_classes=num_classes)
    if data_config.label_outputs:
        source = LabelForEachOutput(source, data_config.label_outputs)
    return source
