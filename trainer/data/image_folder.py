"""Images in class folders (jpg, jpeg, png, bmp, gif), as keras's `image_dataset_from_directory`
reads them: decoded and resized inside tf.data, in parallel, to float32 in [0, 1].

The layouts, labels and sharding are trainer/data/folders.py's. A GIF gives its first frame; an
alpha channel is dropped; grayscale and color images convert to the configured channels.
Augmentation by Keras preprocessing layers runs on training batches only, after the decoded
images are cached: a random layer before the pipeline's cache would be drawn once and then
frozen. The pipeline's only stage after its cache is the source's `training_batches`, which
takes no input context, so with augmentation every input pipeline reads all the train images
and the pipeline gives it every n-th batch (the global batches one worker would see) instead of
each reading its own files.
"""

import inspect
from collections.abc import Mapping

import tensorflow as tf

from trainer.data.folders import ARGS, FolderSource
from trainer.data.pipeline import MATERIALIZE_BYTES
from trainer.data.sources import ADAPT_EXAMPLES
from trainer.errors import HarnessError, first_line

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian")
AUGMENT_EXAMPLE = "(('RandomFlip', {'mode': 'horizontal'}), ('RandomRotation', {'factor': 0.05}))"


class ImageFolderSource(FolderSource):
    extensions = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
    kind = "image"

    def __init__(
        self,
        *,
        directory: str = "",
        train_dir: str = "",
        validation_dir: str = "",
        test_dir: str = "",
        validation_fraction: float = 0.1,
        test_fraction: float = 0.1,
        split_seed: int = 0,
        classes=(),
        image_size=(256, 256),
        channels: int = 3,
        interpolation: str = "bilinear",
        augment=(),
        seed: int = 0,
    ):
        """Args:
        directory: a folder with one subfolder of images per class, split by the fractions.
        train_dir, validation_dir, test_dir: a folder per split instead ('' = validation or
          test is its fraction of train_dir's images).
        validation_fraction, test_fraction: of all the images of the folder that is split.
        split_seed: fixes which images land in which split.
        classes: the class folders to read, in label order (empty: every subfolder, sorted).
        image_size: (height, width) every image is resized to.
        channels: 1 (grayscale) or 3 (RGB).
        interpolation: tf.image.resize method: bilinear, nearest, bicubic, area, ...
        augment: Keras preprocessing layers for the train split, each a name or a (name,
          {arguments}) pair, e.g. (('RandomFlip', {'mode': 'horizontal'}),).
        """
        size = tuple(int(d) for d in image_size)
        if len(size) != 2 or min(size) < 1:
            raise HarnessError(
                f"{ARGS}.image_size={tuple(image_size)} must be (height, width) of positive "
                "sizes, e.g. (224, 224)."
            )
        if channels not in (1, 3):
            raise HarnessError(f"{ARGS}.channels={channels}: use 1 (grayscale) or 3 (RGB).")
        if interpolation not in INTERPOLATIONS:
            raise HarnessError(
                f"{ARGS}.interpolation={interpolation!r}: use one of {', '.join(INTERPOLATIONS)}."
            )
        self.image_size, self.channels, self._interpolation = size, channels, interpolation
        self._augment = augmentation_layers(augment, seed)
        self.shards_itself = not self._augment
        self._find(
            directory=directory,
            train_dir=train_dir,
            validation_dir=validation_dir,
            test_dir=test_dir,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
            split_seed=split_seed,
            classes=classes,
            seed=seed,
        )

    def _load(self, path):
        # expand_animations=False: a GIF's first frame, and a rank-3 image from every format.
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
        image = tf.cast(image, tf.float32)
        image = image[..., : tf.where(tf.shape(image)[-1] >= 3, 3, 1)]  # Without alpha.
        if self.channels == 1:
            image = tf.cond(
                tf.shape(image)[-1] == 3,
                lambda: tf.image.rgb_to_grayscale(image),
                lambda: image,
            )
        else:
            image = tf.cond(
                tf.shape(image)[-1] == 1,
                lambda: tf.image.grayscale_to_rgb(image),
                lambda: image,
            )
        image = tf.ensure_shape(image, [None, None, self.channels])
        image = tf.image.resize(image, self.image_size, method=self._interpolation)
        return image / 255.0

    def _image_bytes(self) -> int:
        height, width = self.image_size
        return height * width * self.channels * 4

    def train_features(self):
        """Up to ADAPT_EXAMPLES train images (fewer when they would take more than
        MATERIALIZE_BYTES), without augmentation, to adapt a Normalization layer."""
        count = max(1, min(ADAPT_EXAMPLES, MATERIALIZE_BYTES // self._image_bytes()))
        images = self.examples("train", tf.distribute.InputContext()).map(lambda x, y: x)
        return next(iter(images.take(count).batch(count).as_numpy_iterator()))

    def training_batches(self, split, batch_size, *, seed):
        """Augmented batches of the whole train split (see the module docstring); None when
        there is no augmentation, so that the pipeline batches this pipeline's own files."""
        if split != "train" or not self._augment:
            return None
        files, labels = self.files(split)
        dataset = tf.data.Dataset.from_tensor_slices((tf.constant(files, tf.string), labels))

        def load(path, label):
            return self._load(path), label

        if len(files) * self._image_bytes() <= MATERIALIZE_BYTES:  # Decoded once, kept.
            dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
            dataset = dataset.repeat()
        else:  # Decoded every epoch: the file names are shuffled, not the images.
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
            dataset = dataset.repeat().map(load, num_parallel_calls=tf.data.AUTOTUNE)
        layers = self._augment

        def augment(images, labels):
            for layer in layers:
                images = layer(images, training=True)
            return images, labels

        dataset = dataset.batch(batch_size, drop_remainder=True)
        return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)


def augmentation_layers(augment, seed: int) -> list:
    """Keras preprocessing layers from (name, {arguments}) pairs or names. Random layers get
    seeds derived from `seed` unless given one; every layer computes in float32, whatever the
    mixed-precision policy, because it runs on the input pipeline, not in the model."""
    if not augment:
        return []
    from trainer.modeling.keras_api import keras

    if isinstance(augment, str):
        augment = (augment,)
    layers = []
    for index, entry in enumerate(augment):
        if isinstance(entry, str):
            name, arguments = entry, {}
        elif (
            isinstance(entry, (tuple, list))
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], Mapping)
        ):
            name, arguments = entry[0], dict(entry[1])
        else:
            raise HarnessError(
                f"{ARGS}.augment entry {entry!r} is not a layer name or a (name, {{arguments}}) "
                f"pair: write it like {AUGMENT_EXAMPLE}."
            )
        factory = getattr(keras.layers, name, None)
        if not (inspect.isclass(factory) and ".preprocessing." in factory.__module__):
            raise HarnessError(
                f"{ARGS}.augment names {name!r}, which is not a Keras preprocessing layer: use "
                "one of keras.layers' such as RandomFlip, RandomRotation, RandomZoom, "
                "RandomTranslation, RandomContrast, RandomBrightness."
            )
        if "seed" in inspect.signature(factory).parameters:
            arguments.setdefault("seed", seed + index)
        arguments.setdefault("dtype", "float32")
        try:
            layers.append(factory(**arguments))
        except (TypeError, ValueError) as e:
            raise HarnessError(
                f"{ARGS}.augment: keras.layers.{name}({_call_text(arguments)}) failed: "
                f"{first_line(e, 160)}"
            ) from e
    return layers


def _call_text(arguments: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())
