"""Any tensorflow-datasets dataset by name, each input pipeline reading its own files.

Never downloads while training (download=False: without a network a download hangs for over a
minute); when the data is not prepared in `data_dir`, the error names the prepare command.
Images are cast to float32 (scale them inside the model, e.g. `model.mlp.normalize`).
"""

import tensorflow as tf

from trainer.data.sources import DataSource
from trainer.errors import HarnessError

SPLIT_FIELDS = {"train": "train_split", "validation": "validation_split", "test": "test_split"}


class TfdsSource(DataSource):
    shards_itself = True

    def __init__(
        self,
        *,
        name: str = "",
        data_dir: str = "",
        train_split: str = "train[:90%]",
        validation_split: str = "train[90%:]",
        test_split: str = "test",
        feature_key: str = "image",
        label_key: str = "label",
    ):
        """Args:
        name: a tensorflow-datasets name, e.g. fashion_mnist.
        data_dir: where it is prepared (local or gs://; '' = the tfds default).
        train_split, validation_split, test_split: tfds split strings.
        feature_key: the input feature (integers become float32).
        label_key: the target feature.
        """
        import tensorflow_datasets as tfds

        if not name:
            raise HarnessError(
                "config.data.args.name is empty: set it to a tensorflow-datasets "
                "name such as 'fashion_mnist'."
            )
        try:
            self._builder = tfds.builder(name, data_dir=data_dir or None)
        except Exception as e:  # noqa: BLE001 - tfds raises many types for an unknown name.
            raise HarnessError(
                f"config.data.args.name={name!r} is not a tensorflow-datasets "
                f"dataset ({type(e).__name__}: {str(e)[:150]})."
            ) from e
        self._name, self._data_dir = name, data_dir
        self._splits = {"train": train_split, "validation": validation_split, "test": test_split}
        self._feature_key, self._label_key = feature_key, label_key
        features = self._builder.info.features
        for key in (feature_key, label_key):
            if key not in features:
                raise HarnessError(
                    f"{name} has no feature {key!r} (config.data.tfds); it has "
                    f"{sorted(features.keys())}."
                )
        self.num_classes = getattr(features[label_key], "num_classes", None)

    def examples(self, split, input_context):
        import tensorflow_datasets as tfds

        tfds_split = self._splits[split]
        read_config = tfds.ReadConfig(input_context=input_context, shuffle_seed=0)
        try:
            try:
                dataset = self._builder.as_dataset(split=tfds_split, read_config=read_config)
            except ValueError as e:
                if "Cannot shard the pipeline" not in str(e):
                    raise
                # Fewer files than input pipelines: split the examples evenly instead.
                tfds_split = tfds.even_splits(tfds_split, n=input_context.num_input_pipelines)[
                    input_context.input_pipeline_id
                ]
                dataset = self._builder.as_dataset(split=tfds_split)
        except AssertionError as e:  # What tfds raises when the data is not prepared.
            raise HarnessError(
                f"tensorflow-datasets {self._name!r} is not prepared in "
                f"{self._data_dir or 'the default data_dir (~/tensorflow_datasets)'}: run "
                "`python -m trainer.prepare --config=CONFIG --download --out=DIR` with this "
                f"run's config (data.args.name={self._name!r}) where the internet can be "
                "reached, or point config.data.args.data_dir at a prepared copy."
            ) from e
        except ValueError as e:
            raise HarnessError(
                f"Bad split {tfds_split!r} for {self._name} "
                f"(config.data.args.{SPLIT_FIELDS[split]}): {e}"
            ) from e
        return dataset.map(self._pair, num_parallel_calls=tf.data.AUTOTUNE)

    def _pair(self, example):
        features = example[self._feature_key]
        if features.dtype.is_integer:
            features = tf.cast(features, tf.float32)
        label = example[self._label_key]
        return features, tf.cast(label, tf.int32) if label.dtype.is_integer else label

    def download_and_prepare(self) -> None:
        """The real download (needs the internet); `trainer.prepare --download` calls it."""
        self._builder.download_and_prepare()
