"""Texts in class folders, one per .txt file: generated reviews read back, split, sharded across
input pipelines and trained on by text_lstm under 1 replica, 2 replicas and 2 workers."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.support.helpers import raises_one_line
from trainer.data.text_folder import TextFolderSource

WORDS = {
    "negative": ("awful", "boring", "dull", "worst", "bad"),
    "neutral": ("fine", "average", "okay", "plain", "usual"),
    "positive": ("great", "superb", "lovely", "best", "good"),
}

SHARED = ("the", "film", "was", "a", "plot", "and", "actors", "café")

COUNT = 203

# 25 validation, 36 test and 142 train texts: none divides by the batches (16, 24).
FRACTIONS = dict(validation_fraction=0.1225, test_fraction=0.1775)


@pytest.fixture(scope="module")
def texts_dir(tmp_path_factory):
    """COUNT texts over three classes, each mixing shared words with its class's words."""
    root = tmp_path_factory.mktemp("texts") / "reviews"
    rng = np.random.default_rng(0)
    names = sorted(WORDS)
    for index in range(COUNT):
        name = names[index % 3]
        words = list(rng.choice(SHARED, 6)) + list(rng.choice(WORDS[name], 3))
        rng.shuffle(words)
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index:04d}.txt").write_text(" ".join(words), encoding="utf-8")
    return str(root)


def _source(directory="", **overrides):
    args = dict(directory=directory, **FRACTIONS)
    args.update(overrides)
    return TextFolderSource(**args)


def _context(pipelines=1, pipeline=0):
    return tf.distribute.InputContext(
        num_input_pipelines=pipelines, input_pipeline_id=pipeline, num_replicas_in_sync=pipelines
    )


def test_texts_and_labels_read_back_match_the_files(texts_dir):
    source = _source(texts_dir)
    assert source.class_names == ("negative", "neutral", "positive") and source.num_classes == 3
    seen = []
    for split, size in (("train", 142), ("validation", 25), ("test", 36)):
        files, labels = source.pipeline_files(split, _context())  # In the order read.
        examples = list(source.examples(split, _context()).as_numpy_iterator())
        assert len(files) == len(examples) == size
        for path, label, (text, read_label) in zip(files, labels, examples, strict=True):
            with open(path, "rb") as f:
                assert text == f.read()
            assert read_label == label
            assert source.class_names[read_label] == os.path.basename(os.path.dirname(path))
        seen += files
    assert len(set(seen)) == COUNT  # Every file in exactly one split.
    spec = source.examples("train", _context()).element_spec
    assert spec[0].shape == () and spec[0].dtype == tf.string and spec[1].dtype == tf.int32
    assert len(source.train_features()) == 142


def test_two_input_pipelines_read_disjoint_files_and_every_file_once(texts_dir):
    source = _source(texts_dir)
    read = [
        [text for text, _ in source.examples("train", _context(2, i)).as_numpy_iterator()]
        for i in range(2)
    ]
    whole = [text for text, _ in source.examples("train", _context()).as_numpy_iterator()]
    assert (len(read[0]), len(read[1])) == (71, 71)
    assert sorted(read[0] + read[1]) == sorted(whole) and len(set(whole)) == 142


def test_a_folder_per_split_and_its_errors(texts_dir, tmp_path):
    (tmp_path / "test" / "positive").mkdir(parents=True)
    (tmp_path / "test" / "positive" / "a.txt").write_text("great film")
    source = _source(train_dir=texts_dir, test_dir=str(tmp_path / "test"))
    assert list(source.examples("test", _context()).as_numpy_iterator()) == [(b"great film", 2)]
    assert len(source.files("validation")[0]) == 25
    (tmp_path / "test" / "mixed").mkdir()
    (tmp_path / "test" / "mixed" / "b.txt").write_text("fine")
    raises_one_line(
        lambda: _source(train_dir=texts_dir, test_dir=str(tmp_path / "test")),
        "Class folder(s) ['mixed'] in config.data.args.test_dir=",
    )


def test_bad_folders_are_one_line_errors(tmp_path):
    raises_one_line(lambda: _source(str(tmp_path / "nowhere")), "nowhere is not a folder")
    (tmp_path / "images" / "cat").mkdir(parents=True)
    (tmp_path / "images" / "cat" / "x.png").write_bytes(b"png")
    raises_one_line(lambda: _source(str(tmp_path / "images")), "has no text files (.txt)")
    (tmp_path / "images" / "dog").mkdir()
    (tmp_path / "images" / "dog" / "y.txt").write_text("woof")
    raises_one_line(
        lambda: _source(str(tmp_path / "images")),
        f"Class folder {tmp_path}/images/cat has no text files",
    )
    raises_one_line(
        lambda: _source(str(tmp_path / "images"), validation_fraction=0.5, test_fraction=0.5),
        "leaves no text for training",
    )
    raises_one_line(
        lambda: _source(str(tmp_path / "images"), classes=("dog",), validation_fraction=0.1),
        "validation_fraction=0.1 of the 1 text files",
    )
