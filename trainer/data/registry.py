"""Data sources by name: `config.data.source` picks one, `config.data.<name>` configures it."""

from trainer.data.csv_source import CsvSource
from trainer.data.pairs import DigitPairsSource
from trainer.data.sources import DataSource, DigitsSource, LabelForEachOutput, SyntheticSource
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
    source = SOURCES[name](**fields)
    if data_config.label_outputs:
        source = LabelForEachOutput(source, data_config.label_outputs)
    return source
