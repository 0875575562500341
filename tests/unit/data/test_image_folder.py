"""Images in class folders: scikit-learn's digits written as PNG files, read back, split, sharded
across input pipelines and trained on under 1 replica, 2 replicas and 2 workers."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_digits

from examples.my_project.write_images import write_digits
from tests.support.helpers import raises_one_line
from trainer.data.image_folder import ImageFolderSource

COUNT = 400

# 49 validation, 71 test and 280 train images: none divides by the batches or by 2 replicas
# except train by 2 (and 280 is not a multiple of the training batch of 48).
FRACTIONS = dict(validation_fraction=0.1225, test_fraction=0.1775)

TOLERANCE = 1e-6  # Pixels are k/255 in float32, decoded, resized to their own size, scaled.


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("images") / "digits")
    write_digits(root, COUNT)
    return root


def _source(directory="", **overrides):
    args = dict(directory=directory, image_size=(8, 8), channels=1, **FRACTIONS)
    args.update(overrides)
    return ImageFolderSource(**args)


def _context(pipelines=1, pipeline=0):
    return tf.distribute.InputContext(
        num_input_pipelines=pipelines, input_pipeline_id=pipeline, num_replicas_in_sync=pipelines
    )


def _index(path: str) -> int:
    return int(os.path.basename(path).split(".")[0])


def test_examples_and_labels_read_back_match_the_files(digits_dir):
    source = _source(digits_dir)
    digits = load_digits()
    assert source.class_names == tuple(str(d) for d in range(10)) and source.num_classes == 10
    seen = []
    for split, size in (("train", 280), ("validation", 49), ("test", 71)):
        files, labels = source.pipeline_files(split, _context())  # In the order read.
        examples = list(source.examples(split, _context()).as_numpy_iterator())
        assert len(files) == len(examples) == size
        for path, label, (image, read_label) in zip(files, labels, examples, strict=True):
            index = _index(path)
            assert image.shape == (8, 8, 1) and image.dtype == np.float32
            expected = np.round(digits.images[index] * 255 / 16) / 255
            np.testing.assert_allclose(image[..., 0], expected, atol=TOLERANCE)
            assert read_label == label == digits.target[index]
            assert source.class_names[read_label] == os.path.basename(os.path.dirname(path))
        seen += [_index(path) for path in files]
    assert sorted(seen) == list(range(COUNT))  # Every file in exactly one split.


def test_split_fractions_and_the_split_seed(digits_dir):
    def members(seed):
        return {
            split: set(_source(digits_dir, split_seed=seed).files(split)[0])
            for split in ("validation", "test")
        }

    assert {split: len(files) for split, files in members(0).items()} == {
        "validation": round(COUNT * 0.1225),
        "test": round(COUNT * 0.1775),
    }
    assert members(0) == members(0)
    assert members(0)["test"] != members(1)["test"]


def test_class_names_are_sorted_folder_names_or_the_ones_given(tmp_path):
    for name in ("b", "a", "c10", "c9", ".ipynb_checkpoints"):
        _write_png(tmp_path / name / "x.png", 3)
    (tmp_path / "a" / "notes.csv").write_text("not an image")
    source = _source(str(tmp_path), validation_fraction=0, test_fraction=0)
    assert source.class_names == ("a", "b", "c10", "c9")
    files, labels = source.files("train")
    assert [os.path.basename(os.path.dirname(f)) for f in files] == ["a", "b", "c10", "c9"]
    assert list(labels) == [0, 1, 2, 3]
    chosen = _source(str(tmp_path), classes=("c9", "a"), validation_fraction=0, test_fraction=0)
    assert chosen.class_names == ("c9", "a") and chosen.num_classes == 2
    files, labels = chosen.files("train")  # By class, in label order.
    assert [os.path.basename(os.path.dirname(f)) for f in files] == ["c9", "a"]
    assert list(labels) == [0, 1]


def test_formats_channels_sizes_and_a_gifs_first_frame(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    folder = tmp_path / "only"
    folder.mkdir()
    Image.fromarray(rgb).save(folder / "a.JPG")
    Image.fromarray(rgb).save(folder / "b.bmp")
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(folder / "c.png")  # RGBA.
    Image.fromarray(rgb[..., 0]).save(folder / "d.jpeg")  # Grayscale.
    black, white = np.zeros((10, 12, 3), np.uint8), np.full((10, 12, 3), 255, np.uint8)
    Image.fromarray(black).save(
        folder / "e.gif", save_all=True, append_images=[Image.fromarray(white)]
    )
    for channels in (1, 3):
        # The same folder as test split too: evaluation splits are read in sorted file order.
        source = _source(
            train_dir=str(tmp_path),
            test_dir=str(tmp_path),
            channels=channels,
            image_size=(5, 7),
            validation_fraction=0,
        )
        files = [os.path.basename(path) for path in source.files("test")[0]]
        images = [image for image, _ in source.examples("test", _context()).as_numpy_iterator()]
        read = dict(zip(files, images, strict=True))
        assert sorted(read) == ["a.JPG", "b.bmp", "c.png", "d.jpeg", "e.gif"]
        for image in read.values():
            assert image.shape == (5, 7, channels) and 0 <= image.min() <= image.max() <= 1
        assert np.abs(read["e.gif"]).max() < TOLERANCE  # The black first frame.


def test_two_input_pipelines_read_disjoint_files_and_every_file_once(digits_dir):
    source = _source(digits_dir)
    parts = [source.pipeline_files("train", _context(2, i))[0] for i in range(2)]
    assert len(parts[0]) == len(parts[1]) == 140
    assert sorted(parts[0] + parts[1]) == sorted(source.files("train")[0])
    read = [
        [
            image.tobytes()
            for image, _ in source.examples("train", _context(2, i)).as_numpy_iterator()
        ]
        for i in range(2)
    ]
    whole = [
        image.tobytes() for image, _ in source.examples("train", _context()).as_numpy_iterator()
    ]
    assert sorted(read[0] + read[1]) == sorted(whole)
    assert source.shards_itself


def test_fewer_files_than_pipelines_gives_every_pipeline_all_of_them(tmp_path):
    _write_png(tmp_path / "a" / "x.png", 1)
    source = _source(str(tmp_path), validation_fraction=0, test_fraction=0)
    assert [len(source.pipeline_files("train", _context(2, i))[0]) for i in range(2)] == [1, 1]


def test_augmentation_runs_on_training_batches_only(digits_dir):
    flip = (("RandomFlip", {"mode": "horizontal"}),)
    source = _source(digits_dir, augment=flip)
    assert not source.shards_itself  # The pipeline gives each pipeline every n-th batch.
    assert source.training_batches("validation", 8, seed=0) is None
    plain = _source(digits_dir)
    originals = {
        image.tobytes() for image, _ in plain.examples("train", _context()).as_numpy_iterator()
    }
    flipped = unflipped = 0
    for images, _ in source.training_batches("train", 40, seed=0).take(14).as_numpy_iterator():
        for image in images:
            if image.tobytes() in originals:
                unflipped += 1
            else:
                assert image[:, ::-1].tobytes() in originals
                flipped += 1
    assert flipped > 100 and unflipped > 100


def test_train_features_adapt_a_normalization_layer(digits_dir):
    import keras

    features = _source(digits_dir).train_features()
    assert features.shape == (280, 8, 8, 1)
    layer = keras.layers.Normalization(axis=None)
    layer.adapt(features)
    assert float(np.ravel(layer.mean)[0]) == pytest.approx(float(features.mean()), rel=1e-5)


def test_bad_folders_and_arguments_are_one_line_errors(digits_dir, tmp_path):
    raises_one_line(lambda: _source(""), "config.data.args.directory is empty")
    raises_one_line(lambda: _source(str(tmp_path / "nowhere")), "nowhere is not a folder")
    (tmp_path / "flat").mkdir()
    raises_one_line(lambda: _source(str(tmp_path / "flat")), "has no subfolders")
    (tmp_path / "none" / "cat").mkdir(parents=True)
    (tmp_path / "none" / "cat" / "x.txt").write_text("text")
    raises_one_line(lambda: _source(str(tmp_path / "none")), "has no image files (.jpg")
    _write_png(tmp_path / "some" / "cat" / "x.png", 1)
    (tmp_path / "some" / "dog").mkdir()
    raises_one_line(
        lambda: _source(str(tmp_path / "some")), f"Class folder {tmp_path}/some/dog has no image"
    )
    raises_one_line(
        lambda: _source(digits_dir, augment=(("RandomFlop", {}),)),
        "names 'RandomFlop', which is not a Keras preprocessing layer",
    )
    raises_one_line(
        lambda: _source(digits_dir, augment=(("Dense", {"units": 3}),)), "names 'Dense'"
    )
    raises_one_line(
        lambda: _source(digits_dir, augment=(("RandomFlip", {"mood": "x"}),)),
        "keras.layers.RandomFlip(mood='x'",
    )
    raises_one_line(lambda: _source(digits_dir, augment=((1, 2),)), "is not a layer name")
    raises_one_line(
        lambda: _source(digits_dir, train_dir=digits_dir), "Both config.data.args.directory"
    )
    raises_one_line(lambda: _source(digits_dir, channels=4), "channels=4")
    raises_one_line(lambda: _source(digits_dir, classes=("7", "x")), "classes names ['x']")


def test_a_folder_per_split(digits_dir, tmp_path):
    _write_png(tmp_path / "test" / "3" / "a.png", 3)
    _write_png(tmp_path / "test" / "5" / "b.png", 5)
    source = _source(train_dir=digits_dir, test_dir=str(tmp_path / "test"), test_fraction=0.5)
    files, labels = source.files("test")
    assert [os.path.basename(f) for f in files] == ["a.png", "b.png"] and list(labels) == [3, 5]
    assert len(source.files("validation")[0]) == 49
    assert len(source.files("train")[0]) == COUNT - 49
    _write_png(tmp_path / "test" / "cat" / "c.png", 1)
    raises_one_line(
        lambda: _source(train_dir=digits_dir, test_dir=str(tmp_path / "test")),
        "Class folder(s) ['cat'] in config.data.args.test_dir=",
        "are not classes of the train folder",
    )


def _write_png(path, value: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = np.full((8, 8, 1), value, np.uint8)
    tf.io.write_file(str(path), tf.io.encode_png(image))


def test_prepare_turns_an_image_folder_into_shards_that_read_back_identically(digits_dir, tmp_path):
    from trainer.data.prepare import prepare
    from trainer.data.tfrecord_source import TfRecordSource

    source = _source(digits_dir)
    out = str(tmp_path / "shards")
    spec = prepare(source, out, num_shards=3, overwrite=False)
    assert spec["num_classes"] == 10
    shards = TfRecordSource(dir=out)
    assert shards.class_names == source.class_names  # The names travel with the shards.
    for split in ("train", "validation", "test"):
        folder = sorted(_pairs(source.examples(split, _context())), key=_order)
        written = sorted(_pairs(shards.examples(split, _context())), key=_order)
        assert len(written) == len(folder) > 0
        for (image, label), (back, back_label) in zip(folder, written, strict=True):
            assert label == back_label and image.shape == back.shape
            np.testing.assert_allclose(back, image, rtol=0, atol=TOLERANCE)


def _pairs(dataset):
    return [(np.asarray(x), int(np.asarray(y).reshape(-1)[0])) for x, y in dataset]


def _order(pair):
    image, label = pair
    return (label, image.tobytes())
