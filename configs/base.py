"""The harness's own fields, with their defaults and meaning; plug-ins document their own.

Experiment files start from `get_config(model=..., data=...)` and change fields. The model's and
the data source's arguments live in `config.model.args` and `config.data.args`, filled here from
the plug-in's own keyword defaults (documented next to its code: trainer/models/, trainer/data/,
or the user's module), so every argument can be overridden on the command line
(`--config.model.args.dropout=0.2`). `use_model` and `use_data` switch plug-ins in a derived
experiment. The returned dict is locked: an override of a field that does not exist
(`--config.train.stepz=5`) is an error.
"""

import ml_collections


def get_config(*, model: str = "mlp", data: str = "digits") -> ml_collections.ConfigDict:
    """`model` and `data`: registered names or import paths `package.module:callable`."""
    config = ml_collections.ConfigDict()
    config.seed = 42  # Seeds weights, dropout and shuffling: same seed, same loss curve on CPU.
    config.precision = "auto"  # auto | float32 | mixed_float16 | mixed_bfloat16 (auto: per device).

    config.model = ml_collections.ConfigDict()
    config.model.name = model  # A registered model (trainer/models) or 'package.module:callable'.
    config.model.args = ml_collections.ConfigDict()  # The model builder's keyword arguments.
    config.model.init_from = ""  # A .keras file whose weights start training (by layer name).
    config.model.freeze = ()  # Layer names left untrained, or ("all_but_head",).

    config.data = ml_collections.ConfigDict()
    config.data.source = data  # A registered source (trainer/data) or 'package.module:callable'.
    config.data.args = ml_collections.ConfigDict()  # The source's keyword arguments.
    config.data.num_classes = 0  # Classes for the model's head if the source cannot tell (0: its).
    config.data.shuffle_buffer = 10_000  # Examples in the training shuffle buffer.
    config.data.cache = "memory"  # Cache decoded examples: memory, a file prefix, or '' (none).
    config.data.label_outputs = ()  # Model outputs that each train on the label (auxiliary heads).

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

    # More actions after each host loop, by name: {"name": {"action": "package.module:callable",
    # "every_steps": N (0: every host loop), ...its keyword arguments}} (README: actions).
    config.actions = ml_collections.ConfigDict()

    use_model(config, model)
    use_data(config, data)
    config.lock()
    return config


def use_model(config, name: str, **args) -> None:
    """Sets config.model.name and config.model.args: the builder's defaults, then `args`."""
    from trainer.models import default_model_args, model_argument_names  # Imports Keras.

    config.model.name = name
    config.model.args = _section(
        default_model_args(name), model_argument_names(name), args, "config.model.args", name
    )


def use_data(config, name: str, **args) -> None:
    """Sets config.data.source and config.data.args: the source's defaults, then `args`."""
    from trainer.data import default_source_args, source_argument_names

    config.data.source = name
    config.data.args = _section(
        default_source_args(name), source_argument_names(name), args, "config.data.args", name
    )


def _section(defaults: dict, names, args: dict, field: str, name: str):
    """The defaults, then `args`. An argument without a default is given here (e.g.
    `base.get_config(...)` then `base.use_data(config, "my.data:load", path=...)`)."""
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise ValueError(
            f"{field} for {name!r}: unknown argument(s) {unknown}; it takes {list(names)}."
        )
    return ml_collections.ConfigDict({**defaults, **args})
