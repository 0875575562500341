"""Data sources by name: `config.data.source` picks one, `config.data.<name>` configures it."""

from trainer.data.csv_source import CsvSource
from trainer.data.sources import DataSource, DigitsSource, SyntheticSource
from trainer.data.tfds_source import TfdsSource
from trainer.data.tfrecord_source import TfRecordSource
from trainer.errors import HarnessError

SOURCES = {
    "digits": DigitsSource,
    "synthetic": SyntheticSource,
    "csv": CsvSource,
    "tfds": TfdsSource,
    "tfrecord": TfRecordSource,
}


def create_source(data_config, *, seed: int = 0) -> DataSource:
    """The source named by `data_config.source`, built from its own config section."""
    name = data_config.source
    if name not in SOURCES:
        raise HarnessError(
            f"Unknown data source {name!r} (config.data.source). "
            f"Registered sources: {', '.join(sorted(SOURCES))}."
        )
    fields = data_config[name].to_dict()
    if name in ("synthetic", "tfrecord"):
        fields["seed"] = seed
    return SOURCES[name](**fields)
