"""Texts in class folders, one example per .txt file, as keras's `text_dataset_from_directory`
reads them: each example is the file's content as one tf.string scalar and its label the index
of its class, for a model that vectorizes inside itself (`text_lstm`'s TextVectorization).

The layouts, labels and sharding are trainer/data/folders.py's. A text is passed as the file's
bytes, untouched: TextVectorization standardizes and splits it.
"""

import tensorflow as tf

from trainer.data.folders import FolderSource


class TextFolderSource(FolderSource):
    extensions = (".txt",)
    kind = "text"

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
        seed: int = 0,
    ):
        """Args:
        directory: a folder with one subfolder of .txt files per class, split by the fractions.
        train_dir, validation_dir, test_dir: a folder per split instead ('' = validation or
          test is its fraction of train_dir's texts).
        validation_fraction, test_fraction: of all the texts of the folder that is split.
        split_seed: fixes which texts land in which split.
        classes: the class folders to read, in label order (empty: every subfolder, sorted),
          e.g. ('neg', 'pos') to leave out aclImdb's unlabelled 'unsup'.
        """
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
        return tf.io.read_file(path)
