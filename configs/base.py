"""Every field of an experiment, with its default and what it means.

Experiment files start from `get_config()` here and change fields; the returned dict is locked,
so an override of a field that does not exist (`--config.train.stepz=5`) is an error.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 42  # Seeds weights, dropout and shuffling: same seed, same loss curve on CPU.
    config.precision = "auto"  # auto | float32 | mixed_float16 | mixed_bfloat16 (auto: per device).

    config.model = ml_collections.ConfigDict()
    config.model.name = "mlp"  # A registered model (trainer/models); only its section is read.
    config.model.init_from = ""  # A .keras file whose weights start training (by layer name).
    config.model.freeze = ()  # Layer names left untrained, or ("all_but_head",).
    config.model.mlp = ml_collections.ConfigDict()
    config.model.mlp.hidden_units = (300, 100)  # Width of each hidden Dense layer, input to output.
    config.model.mlp.activation = "relu"  # Any Keras activation name.
    config.model.mlp.dropout = 0.0  # Dropout rate after each hidden layer (0 = none).
    config.model.mlp.normalize = False  # Standardize inputs (Normalization adapted on train).
    config.model.deep_selu = ml_collections.ConfigDict()
    config.model.deep_selu.depth = 20  # Dense SELU layers (LeCun-normal init; inputs standardized).
    config.model.deep_selu.units = 100  # Width of each of them.
    config.model.deep_selu.batch_norm = True  # BatchNormalization after each of them.
    config.model.deep_selu.alpha_dropout = 0.5  # AlphaDropout rate before the head (0 = none).
    config.model.wide_deep = ml_collections.ConfigDict()
    config.model.wide_deep.hidden_units = (30, 30)  # The deep path's Dense layers.
    config.model.wide_deep.activation = "relu"  # Their activation.
    config.model.wide_deep.auxiliary_output = False  # Add output "aux" on the deep path alone.
    config.model.wide_deep_subclassed = ml_collections.ConfigDict()
    config.model.wide_deep_subclassed.hidden_units = (30, 30)  # The deep path's Dense layers.
    config.model.wide_deep_subclassed.activation = "relu"  # Their activation.
    config.model.vgg = ml_collections.ConfigDict()
    config.model.vgg.blocks = ((32, 32), (64, 64))  # Conv 3x3 filters per block; pool after each.
    config.model.vgg.dense_units = 256  # The Dense layer after the convolutions.
    config.model.vgg.dropout = 0.25  # Dropout after each block.
    config.model.vgg.head_dropout = 0.5  # Dropout before the head.
    config.model.vgg.rescale = 1 / 255  # Pixel values are multiplied by this inside the model.
    config.model.text_lstm = ml_collections.ConfigDict()
    config.model.text_lstm.max_tokens = 10_000  # Vocabulary size (adapted on the train texts).
    config.model.text_lstm.sequence_length = 200  # Tokens kept per text (padded or cut).
    config.model.text_lstm.embedding_dim = 64  # Size of each token's embedding.
    config.model.text_lstm.lstm_units = 64  # LSTM state size.
    config.model.siamese = ml_collections.ConfigDict()
    config.model.siamese.encoder_units = (64, 32)  # The shared encoder's Dense layers.
    config.model.siamese.head_units = 64  # The Dense layer on the two encodings concatenated.
    config.model.siamese.activation = "relu"  # Activation of both.

    config.data = ml_collections.ConfigDict()
    config.data.source = "digits"  # digits | synthetic | csv | tfds | tfrecord (trainer/data).
    config.data.shuffle_buffer = 10_000  # Examples in the training shuffle buffer.
    config.data.cache = "memory"  # Cache decoded examples: memory, a file prefix, or '' (none).
    config.data.label_outputs = ()  # Model outputs that each train on the label (auxiliary heads).
    config.data.digits = ml_collections.ConfigDict()
    config.data.digits.validation_examples = 180  # Held out from scikit-learn's 1,797 digits.
    config.data.digits.test_examples = 360  # Held out too; the rest (1,257) is the train split.
    config.data.digits.split_seed = 0  # Fixes which examples land in which split.
    config.data.digits.classes = ()  # Keep only these digits, labelled 0, 1, ... (empty: all).
    config.data.digit_pairs = ml_collections.ConfigDict()
    config.data.digit_pairs.validation_examples = 180  # Digits held out, as in data.digits.
    config.data.digit_pairs.test_examples = 360  # Digits held out for test pairs.
    config.data.digit_pairs.split_seed = 0  # Fixes the splits and the pairing.
    config.data.digit_pairs.pairs_per_example = 4  # Pairs per digit, half same, half different.
    config.data.synthetic = ml_collections.ConfigDict()
    config.data.synthetic.input_shape = (784,)  # Shape of one example's features.
    config.data.synthetic.num_classes = 10  # Labels are a fixed function of the features.
    config.data.synthetic.num_examples = 8192  # Examples per split, generated once in memory.

    config.data.csv = ml_collections.ConfigDict()
    config.data.csv.path = ""  # The CSV file (local or gs://), e.g. ../shared/datasets/...csv.
    config.data.csv.label = "label"  # The numeric target column.
    config.data.csv.label_scale = 1.0  # Multiplies the target (1e-5: dollars -> 100,000s).
    config.data.csv.features = ()  # Numeric feature columns (empty: every other column).
    config.data.csv.categorical = ()  # Columns kept as strings, for a StringLookup in the model.
    config.data.csv.inputs = ml_collections.ConfigDict()  # {input name: feature names}; empty: one.
    config.data.csv.missing = "impute_median"  # impute_median | impute_mean | flag | drop.
    config.data.csv.recipe = ""  # Derived features: '' (none) or california_housing_8.
    config.data.csv.validation_fraction = 0.25  # Of what remains after the test split.
    config.data.csv.test_fraction = 0.25  # Of all rows.
    config.data.csv.split_seed = 42  # Fixes which rows land in which split.

    config.data.tfds = ml_collections.ConfigDict()
    config.data.tfds.name = ""  # A tensorflow-datasets name, e.g. fashion_mnist.
    config.data.tfds.data_dir = ""  # Where it is prepared (local or gs://; '' = tfds default).
    config.data.tfds.train_split = "train[:90%]"  # tfds split strings.
    config.data.tfds.validation_split = "train[90%:]"  # Held out from train by default.
    config.data.tfds.test_split = "test"  # The dataset's own test split.
    config.data.tfds.feature_key = "image"  # The input feature (integers become float32).
    config.data.tfds.label_key = "label"  # The target feature.
    config.data.tfrecord = ml_collections.ConfigDict()
    config.data.tfrecord.dir = ""  # A directory written by `python -m trainer.prepare`.
    config.data.tfrecord.spec = ""  # Feature spec file or inline JSON ('' = DIR/spec.json).
    config.data.tfrecord.train_pattern = ""  # File pattern ('' = the shards spec.json lists).
    config.data.tfrecord.validation_pattern = ""  # File pattern, as for train.
    config.data.tfrecord.test_pattern = ""  # File pattern, as for train.
    config.data.tfrecord.cycle_length = 4  # Shard files read in parallel per input pipeline.

    config.train = ml_collections.ConfigDict()
    config.train.global_batch_size = 128  # Across all replicas; must divide by their number.
    config.train.steps = 2000  # Total optimizer steps; a resumed run stops at exactly this.
    config.train.steps_per_loop = 100  # Steps inside one tf.function call between host work.
    config.train.optimizer = "adam"  # Any Keras optimizer name.
    config.train.learning_rate = 1e-3  # The optimizer's learning rate.
    config.train.loss = "sparse_categorical_crossentropy"  # Any Keras loss name.
    config.train.metrics = ("accuracy",)  # Keras metric names, reported under train/ and eval/.
    config.train.loss_weights = ml_collections.ConfigDict()  # {output: weight}; missing ones: 1.
    config.train.jit_compile = False  # XLA-compile the train step (real GPUs/TPUs, one CPU).
    config.train.jit_steps = 4  # With jit_compile: train steps per XLA computation.

    config.eval = ml_collections.ConfigDict()
    config.eval.every_steps = 500  # Evaluate on the validation split this often (0: at the end).
    config.eval.global_batch_size = 256  # Across all replicas; the last batch may be partial.
    config.eval.steps = 0  # Batches per evaluation (0: the whole split).
    config.eval.evaluator_timeout_s = 3600  # An evaluator task's wait for a new checkpoint.

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_steps = 500  # Save this often, and always at the end.
    config.checkpoint.max_to_keep = 3  # Older checkpoints are deleted.

    config.export = ml_collections.ConfigDict()
    config.export.keras = True  # Save WORKDIR/export/model.keras at the end.
    config.export.saved_model = True  # Export WORKDIR/export/saved_model (`serve` endpoint).

    config.lock()
    return config
