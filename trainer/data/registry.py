"""Data sources by name or import path: `config.data.source` picks one, `config.data.args` holds
its keyword arguments.

A source is a `DataSource` subclass (constructed with the arguments, and `seed` if it declares
it) or a plain function (trainer/data/function_sources.py). Each built-in source's defaults are
its constructor's keyword defaults, in one place; `configs.base.get_config` copies them into the
config so that each can be overridden on the command line.
"""

import inspect

from trainer import registry as plugins
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

SOURCES = {
    "digits": DigitsSource,
    "digit_pairs": DigitPairsSource,
    "synthetic": SyntheticSource,
    "csv": CsvSource,
    "tfds": TfdsSource,
    "tfrecord": TfRecordSource,
    "image_folder": ImageFolderSource,
    "text_folder": TextFolderSource,
    "npz": NpzSource,
    "parquet": ParquetSource,
}
FIELD = "config.data.source"
# What the harness passes to a source that declares it, rather than config.data.args: to data
# functions, and to DataSource classes, which also get `loss` (config.train.loss, to decide
# between classes and a regression target, as the CSV source's task="auto" does).
PROVIDED = ("seed", "split", "input_context")
PROVIDED_TO_CLASSES = (*PROVIDED, "loss")


def source_factory(name: str):
    """The source class or data function registered as `name` or at `module:callable`."""
    return plugins.resolve(name, SOURCES, field=FIELD)


def default_source_args(name: str) -> dict:
    return plugins.default_args(source_factory(name), provided=_provided(source_factory(name)))


def source_argument_names(name: str) -> list[str]:
    return plugins.argument_names(source_factory(name), provided=_provided(source_factory(name)))


def _provided(factory) -> tuple[str, ...]:
    is_source = inspect.isclass(factory) and issubclass(factory, DataSource)
    return PROVIDED_TO_CLASSES if is_source else PROVIDED


def create_source(data_config, *, seed: int = 0, loss: str = "") -> DataSource:
    """The source named by `data_config.source`, built from `data_config.args`."""
    name = data_config.source
    factory = source_factory(name)
    args = data_config.args.to_dict()
    num_classes = data_config.num_classes or None
    if inspect.isclass(factory) and issubclass(factory, DataSource):
        source = plugins.call_with_args(
            factory, args, provided={"seed": seed, "loss": loss}, field="config.data.args"
        )
        if num_classes is not None:
            source.num_classes = num_classes
    elif inspect.isclass(factory):
        raise HarnessError(
            f"{FIELD}={name!r} is the class {factory.__name__}, not a DataSource subclass: "
            "subclass trainer.data.DataSource, or name a function that returns the data."
        )
    else:
        kind = (
            DatasetFunctionSource
            if "split" in plugins.signature_of(factory).parameters
            else ArraysFunctionSource
        )
        # Check the arguments against the function now, before any data is read.
        plugins.check_args(factory, args, provided=PROVIDED, field="config.data.args")
        source = kind(factory, name=name, args=args, seed=seed, num_classes=num_classes)
    if data_config.label_outputs:
        source = LabelForEachOutput(source, data_config.label_outputs)
    return source
