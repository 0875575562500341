"""Examples kept one per file in class folders, as keras's `image_dataset_from_directory` and
`text_dataset_from_directory` read them: finding the files, labelling them by folder, splitting
them and giving each input pipeline its own files.

Two layouts. `directory`: one folder with a subfolder per class, whose files are split into
train, validation and test by seeded fractions. Or `train_dir` with `validation_dir` and
`test_dir`: a folder per split, each with class subfolders; a split without a folder of its own
is a seeded fraction of train_dir's files. The classes are train's subfolders in sorted order
(or the ones `classes` names, in its order): a label is the index of its folder's name, the same
in every split, and a class folder in validation or test that train lacks is an error rather
than a label the model never saw. Files in folders nested inside a class folder belong to it;
hidden entries (".ipynb_checkpoints", ".DS_Store") and other extensions are skipped. Everything
goes through tf.io.gfile, so gs:// folders work as local ones do.
"""

import numpy as np
import tensorflow as tf

from trainer.data.sources import SPLITS, DataSource
from trainer.errors import HarnessError

ARGS = "config.data.args"


class FolderSource(DataSource):
    """Files of a class-folder layout, read by `_load(path)` into one example's features.

    The train split's files are put in a seeded order, then input pipeline i of n takes every
    n-th file, so that each reads only its own. With fewer train files than input pipelines
    (fewer than there are workers) every pipeline reads them all: there is no file to give each.
    Evaluation reads whole splits in sorted order (the pipeline asks for them with one input
    pipeline).
    """

    shards_itself = True
    extensions: tuple[str, ...] = ()  # Lower-case, with the dot.
    kind = "file"  # What one file holds, for error messages: "image", "text".

    def _find(
        self,
        *,
        directory: str,
        train_dir: str,
        validation_dir: str,
        test_dir: str,
        validation_fraction: float,
        test_fraction: float,
        split_seed: int,
        classes,
        seed: int,
    ) -> None:
        """Finds every split's files; sets class_names, num_classes and the splits' files."""
        self._check_layout(directory, train_dir, validation_dir, test_dir)
        own = {"validation": validation_dir, "test": test_dir}
        carved = self._carved_fractions(own, validation_fraction, test_fraction)
        field = "directory" if directory else "train_dir"
        base = (directory or train_dir).rstrip("/")
        files, labels = self._files(base, self._choose_classes(base, field, classes), field)
        self._splits = self._carve(files, labels, carved, split_seed, base)
        for split, folder in own.items():
            if folder:
                self._splits[split] = self._split_folder(folder.rstrip("/"), split, base)
        self._seed = seed

    def _check_layout(self, directory: str, train_dir: str, validation_dir: str, test_dir: str):
        """Rejects both layouts at once, then neither."""
        if directory and (train_dir or validation_dir or test_dir):
            raise HarnessError(
                f"Both {ARGS}.directory and a split folder ({ARGS}.train_dir, validation_dir or "
                "test_dir) are set: use directory for one folder to split by fractions, or "
                "train_dir (with validation_dir, test_dir) for a folder per split."
            )
        if not (directory or train_dir):
            raise HarnessError(
                f"{ARGS}.directory is empty: set it to a folder with one subfolder of "
                f"{self.kind} files per class, or set {ARGS}.train_dir (and validation_dir, "
                "test_dir) for a folder per split."
            )

    def _carved_fractions(
        self, own: dict[str, str], validation_fraction: float, test_fraction: float
    ) -> dict[str, float]:
        """{split: fraction} of the splits without a folder of their own, which are cut from
        train's files; each fraction, and their sum, must leave files for training."""
        fractions = {"validation": validation_fraction, "test": test_fraction}
        carved = [split for split in ("validation", "test") if not own[split]]
        for split in carved:
            if not 0 <= fractions[split] < 1:
                raise HarnessError(
                    f"{ARGS}.{split}_fraction={fractions[split]} must be at least 0 and below 1."
                )
        if sum(fractions[split] for split in carved) >= 1:
            raise HarnessError(
                f"{ARGS}.validation_fraction + test_fraction = "
                f"{sum(fractions[s] for s in carved)} leaves no {self.kind} for training: "
                "make their sum less than 1."
            )
        return {split: fractions[split] for split in carved}

    def _choose_classes(self, base: str, field: str, classes) -> dict[str, str]:
        """Sets class_names and num_classes: `classes` if given, else base's class folders in
        sorted order. Returns {class name: folder} in that order."""
        found = _class_folders(base, field)
        names = tuple(str(c) for c in classes) or tuple(sorted(found))
        unknown = [name for name in names if name not in found]
        if unknown:
            raise HarnessError(
                f"{ARGS}.classes names {unknown}, which {field} {base} has no folder for; its "
                f"class folders are {sorted(found)}."
            )
        self.class_names, self.num_classes = names, len(names)
        return {name: found[name] for name in names}

    def _carve(self, files: list[str], labels: np.ndarray, carved: dict[str, float], seed, base):
        """{split: (files, labels)}: each carved split a seeded `carved` fraction of the files,
        train the rest, each in sorted order."""
        order = np.random.default_rng(seed).permutation(len(files))
        taken = 0
        splits = {}
        for split, fraction in carved.items():
            count = int(round(len(files) * fraction))
            if fraction > 0 and count == 0:
                raise HarnessError(
                    f"{ARGS}.{split}_fraction={fraction} of the {len(files)} "
                    f"{self.kind} files in {base} is none: raise it, or give {split} a folder "
                    f"of its own ({ARGS}.{split}_dir)."
                )
            index = np.sort(order[taken : taken + count])
            splits[split] = ([files[i] for i in index], labels[index])
            taken += count
        index = np.sort(order[taken:])
        splits["train"] = ([files[i] for i in index], labels[index])
        return splits

    def _split_folder(self, folder: str, split: str, base: str):
        """A split's own folder, labelled with train's classes."""
        found = _class_folders(folder, f"{split}_dir")
        strange = sorted(set(found) - set(self.class_names))
        if strange:
            raise HarnessError(
                f"Class folder(s) {strange} in {ARGS}.{split}_dir={folder} are not classes of "
                f"the train folder {base} (its classes: {', '.join(self.class_names)}): rename "
                "or remove them, or add them to the train folder."
            )
        in_order = {name: found[name] for name in self.class_names if name in found}
        return self._files(folder, in_order, f"{split}_dir")

    def _files(self, base: str, folders: dict[str, str], field: str):
        """(paths, int32 labels) of the class folders, by class, sorted inside each."""
        per_class = {name: _files_under(path, self.extensions) for name, path in folders.items()}
        if not any(per_class.values()):
            raise HarnessError(
                f"{ARGS}.{field}={base} has no {self.kind} files ({', '.join(self.extensions)}) "
                "in its class subfolders: put each class's files in a subfolder named after it."
            )
        empty = [folders[name] for name, paths in per_class.items() if not paths]
        if empty:
            raise HarnessError(
                f"Class folder {empty[0]} has no {self.kind} files "
                f"({', '.join(self.extensions)}): add some or remove the folder."
            )
        files, labels = [], []
        for name, paths in per_class.items():
            files += paths
            labels += [self.class_names.index(name)] * len(paths)
        return files, np.asarray(labels, dtype=np.int32)

    def files(self, split: str) -> tuple[list[str], np.ndarray]:
        """All the files of `split` in sorted order, and their labels."""
        if split not in self._splits:
            raise HarnessError(
                f"Split {split!r} does not exist in this data source; it has {list(SPLITS)}."
            )
        return self._splits[split]

    def pipeline_files(self, split: str, input_context: tf.distribute.InputContext):
        """This input pipeline's files of `split` and their labels (see the class docstring)."""
        files, labels = self.files(split)
        if split == "train":  # The same seeded order on every worker, then each its share.
            order = np.random.default_rng(self._seed).permutation(len(files))
            files, labels = [files[i] for i in order], labels[order]
            pipelines = input_context.num_input_pipelines
            if len(files) >= pipelines:
                pipeline = input_context.input_pipeline_id
                files, labels = files[pipeline::pipelines], labels[pipeline::pipelines]
        return files, labels

    def sample_labels(self, count: int):
        return self.pipeline_files("train", tf.distribute.InputContext())[1][:count]

    def find_corrupt_file(self) -> str | None:
        """The first file that does not load (after training failed on one), else None."""
        for split in SPLITS:
            for path in self.files(split)[0]:
                try:
                    self._load(tf.constant(path))
                except tf.errors.OpError:
                    return path
        return None

    def examples(self, split, input_context):
        files, labels = self.pipeline_files(split, input_context)
        dataset = tf.data.Dataset.from_tensor_slices((tf.constant(files, tf.string), labels))
        return dataset.map(
            lambda path, label: (self._load(path), label),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def _load(self, path: tf.Tensor) -> tf.Tensor:
        """One example's features from the file at `path` (inside tf.data)."""
        raise NotImplementedError


def _class_folders(folder: str, field: str) -> dict[str, str]:
    """{class name: path} of `folder`'s visible subfolders."""
    if not tf.io.gfile.isdir(folder):
        raise HarnessError(
            f"{ARGS}.{field}={folder} is not a folder: set it to a folder with one subfolder "
            "per class."
        )
    found = {}
    for entry in tf.io.gfile.listdir(folder):
        name = entry.rstrip("/")
        path = f"{folder}/{name}"
        if not name.startswith(".") and tf.io.gfile.isdir(path):
            found[name] = path
    if not found:
        raise HarnessError(
            f"{ARGS}.{field}={folder} has no subfolders: put each class's files in a subfolder "
            f"named after the class ({folder}/CLASS/FILE)."
        )
    return found


def _files_under(folder: str, extensions: tuple[str, ...]) -> list[str]:
    """Visible files with one of `extensions` under `folder`, nested folders included, sorted."""
    paths = []
    for root, subfolders, names in tf.io.gfile.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        root = root.rstrip("/")
        paths += [
            f"{root}/{name}"
            for name in names
            if not name.startswith(".") and name.lower().endswith(extensions)
        ]
    return sorted(paths)
