"""The harness's own fields, with their defaults and meaning; plug-ins document their own.

Experiment files start from `get_config(model=..., data=...)` and change fields. The model's and
the data source's arguments live in `config.model.args` and `config.data.args`, filled here from
the plug-in's own keyword defaults (documented next to its code: trainer/models/, trainer/data/,
or the user's module), so every argument can be overridden on the command line
(`--config.model.args.dropout=0.2`). An argument without a default is there too, without a
value (a placeholder), for the experiment file or the command line to set. `use_model` and
`use_data` switch plug-ins in a derived experiment; `switch_plugin` is what the command line's
`--config.model.name` and `--config.data.source` do. The returned dict is locked: an override of
a field that does not exist (`--config.train.stepz=5`) is an error.
"""

import ast
import inspect
import io
import tokenize

import ml_collections
from ml_collections import config_dict


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
    config.data.shuffle_buffer = 10_000  # Streamed sources' shuffle buffer (in memory: whole).
    config.data.cache = "memory"  # Cache decoded examples: memory, a file prefix, or '' (none).
    config.data.label_outputs = ()  # Model outputs that each train on the label (auxiliary heads).

    config.train = ml_collections.ConfigDict()
    config.train.global_batch_size = 128  # Across all replicas; must divide by their number.
    config.train.steps = 2000  # Total optimizer steps; a resumed run stops at exactly this.
    config.train.steps_per_loop = 100  # Steps inside one tf.function call between host work.
    config.train.accumulation_steps = 1  # Micro-batches per optimizer step (gradient accumulation).
    config.train.optimizer = "adam"  # Any Keras optimizer name.
    config.train.optimizer_args = ml_collections.ConfigDict()  # Its other arguments: momentum, ...
    config.train.fused_optimizer = True  # Adam/AdamW: large variables by TF's fused kernel.
    config.train.learning_rate = 1e-3  # The peak learning rate; config.schedule shapes it.
    config.train.weight_decay = 0.0  # Decoupled weight decay (0: off, for adamw too).
    config.train.weight_decay_exclude = ()  # Regexes of variable paths without it ('bias', ...).
    config.train.clipnorm = 0.0  # Clip each gradient to this norm (0: off).
    config.train.global_clipnorm = 0.0  # Clip all gradients together to this norm (0: off).
    config.train.clipvalue = 0.0  # Clip each gradient element to +-this (0: off).
    config.train.ema_momentum = 0.0  # Average the weights with this momentum, e.g. 0.999 (0: off).
    config.train.loss = "sparse_categorical_crossentropy"  # Any Keras loss name.
    config.train.loss_args = ml_collections.ConfigDict()  # Its arguments: from_logits, ...
    config.train.label_smoothing = 0.0  # Smooth class labels (integer or one-hot) by this.
    config.train.class_weights = ()  # A weight per class for the training loss (): all 1.
    config.train.metrics = ("accuracy",)  # Keras metric names, reported under train/ and eval/.
    config.train.loss_weights = ml_collections.ConfigDict()  # {output: weight}; missing ones: 1.
    config.train.jit_compile = "auto"  # XLA: auto (on for GPUs/TPUs, off on CPUs), True, False.
    config.train.jit_steps = 4  # With jit_compile: train steps per XLA computation.
    config.train.profile_steps = ""  # START:END: a TensorBoard profile of those steps ('': none).

    # The learning rate over the steps: config.train.learning_rate shaped by a decay after a
    # linear warmup. Decays start when the warmup ends; piecewise boundaries are absolute steps.
    config.schedule = ml_collections.ConfigDict()
    config.schedule.name = "constant"  # constant|cosine|linear|polynomial|exponential|piecewise.
    config.schedule.warmup_steps = 0  # Steps of linear warmup up to train.learning_rate.
    config.schedule.warmup_start = 0.0  # The warmup's first rate, as a fraction of the peak.
    config.schedule.decay_steps = 0  # cosine|linear|polynomial|exponential: 0: to the last step.
    config.schedule.end_fraction = 0.0  # cosine|linear|polynomial: the last rate / the peak.
    config.schedule.power = 1.0  # polynomial: the power of the decay.
    config.schedule.decay_rate = 0.5  # exponential: the factor per decay_steps.
    config.schedule.staircase = False  # exponential: decay in whole multiples of decay_steps.
    config.schedule.boundaries = ()  # piecewise: steps after which the next rate applies.
    config.schedule.multipliers = ()  # piecewise: len(boundaries) + 1 factors of the peak.

    config.eval = ml_collections.ConfigDict()
    config.eval.every_steps = 500  # Evaluate on the validation split this often (0: at the end).
    config.eval.global_batch_size = 256  # Across all replicas; the last batch may be partial.
    config.eval.steps = 0  # Batches per evaluation (0: the whole split).
    config.eval.evaluator_timeout_s = 3600  # An evaluator task's wait for a new checkpoint.

    # Actions on the validation metrics (evaluated every eval.every_steps). `monitor` names a
    # metric the model reports ('loss', 'accuracy', 'output_1_loss', ...); '' is off. `mode`:
    # min, max, or auto (max for accuracy-like names, else min).
    config.early_stopping = ml_collections.ConfigDict()
    config.early_stopping.monitor = ""  # Stop when this validation metric stops improving.
    config.early_stopping.mode = "auto"  # min | max | auto.
    config.early_stopping.patience = 5  # Evaluations without improvement before stopping.
    config.early_stopping.min_delta = 0.0  # A smaller change is no improvement.

    config.reduce_on_plateau = ml_collections.ConfigDict()
    config.reduce_on_plateau.monitor = ""  # Scale the learning rate down on a plateau of this.
    config.reduce_on_plateau.mode = "auto"  # min | max | auto.
    config.reduce_on_plateau.patience = 3  # Evaluations without improvement before scaling.
    config.reduce_on_plateau.min_delta = 0.0  # A smaller change is no improvement.
    config.reduce_on_plateau.factor = 0.5  # The scale applied at each plateau.
    config.reduce_on_plateau.min_scale = 1e-3  # The learning rate never goes below this x peak.

    # On a NaN or infinite training loss, or one above loss_upper_bound: roll back to the last
    # checkpoint and go on, at most max_rollbacks times; then fail (Model Garden's RecoveryAction).
    config.recovery = ml_collections.ConfigDict()
    config.recovery.max_rollbacks = 0  # 0: fail at once, saving nothing.
    config.recovery.loss_upper_bound = 0.0  # A loss above this diverged too (0: only NaN/inf).
    config.recovery.learning_rate_factor = 1.0  # Scale the learning rate at each rollback.

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_steps = 500  # Save this often, and always at the end.
    config.checkpoint.max_to_keep = 3  # Older checkpoints are deleted.
    config.checkpoint.storage_wait_s = 120.0  # Storage failing (start, saves): retry, then exit 75.

    config.export = ml_collections.ConfigDict()
    config.export.keras = True  # Save WORKDIR/export/model.keras at the end.
    config.export.saved_model = True  # Export WORKDIR/export/saved_model (`serve` endpoint).
    config.export.best_metric = ""  # Keep WORKDIR/export/best/ at this validation metric's best.
    config.export.best_mode = "auto"  # min | max | auto.

    # More actions after each host loop, by name: {"name": {"action": "package.module:callable",
    # "every_steps": N (0: every host loop), ...its keyword arguments}} (docs/your-own.md).
    config.actions = ml_collections.ConfigDict()

    use_model(config, model)
    use_data(config, data)
    config.lock()
    return config


def use_model(config, name: str, **args) -> None:
    """Sets config.model.name and config.model.args: the builder's defaults, then `args`."""
    from trainer.models import MODELS, default_model_args, model_argument_names  # Imports Keras.

    config.model.name = name
    config.model.args = _section(
        MODELS.resolve(name),
        default_model_args(name),
        model_argument_names(name),
        args,
        "config.model.args",
        name,
    )
    _lock_like(config, config.model.args)


def use_data(config, name: str, **args) -> None:
    """Sets config.data.source and config.data.args: the source's defaults, then `args`."""
    from trainer.data import SOURCES, default_source_args, source_argument_names

    config.data.source = name
    config.data.args = _section(
        SOURCES.resolve(name),
        default_source_args(name),
        source_argument_names(name),
        args,
        "config.data.args",
        name,
    )
    _lock_like(config, config.data.args)


def switch_plugin(config, field: str, name: str) -> None:
    """What `--config.model.name=NAME` and `--config.data.source=NAME` (`field`: "model.name",
    "data.source") do before the other overrides apply. Another plug-in than the experiment's
    starts from its own defaults (`use_model` / `use_data`): the experiment's values were meant
    for the plug-in it names. Naming the experiment's own plug-in keeps the experiment's values."""
    section, key = field.split(".")
    if config[section][key] != name:
        {"model.name": use_model, "data.source": use_data}[field](config, name)


def use_optimizer(config, name: str, /, **args) -> None:
    """Sets config.train.optimizer and its other arguments (`momentum=0.9, nesterov=True`);
    the harness checks them against the Keras optimizer's signature."""
    config.train.optimizer = name
    config.train.optimizer_args = ml_collections.ConfigDict(args)


def use_loss(config, name: str, /, **args) -> None:
    """Sets config.train.loss and its arguments (`from_logits=True`), checked against the
    Keras loss class's signature."""
    config.train.loss = name
    config.train.loss_args = ml_collections.ConfigDict(args)


def _section(target, defaults: dict, names, args: dict, field: str, name: str):
    """The defaults, then `args`. An argument without a default is a placeholder without a value,
    so that the experiment file (`config.model.args.units = 64`) or the command line
    (`--config.model.args.units=64`) can set it; the commands refuse to run while it has none."""
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise ValueError(
            f"{field} for {name!r}: unknown argument(s) {unknown}; it takes {list(names)}."
        )
    from trainer.registry import signature_of

    parameters = signature_of(target).parameters
    values = {
        arg: defaults[arg] if arg in defaults else _placeholder(parameters[arg].annotation)
        for arg in names
    }
    return ml_collections.ConfigDict({**values, **args})


# Annotations that give a required argument's placeholder its type (the command line then parses
# `--config.model.args.units=64` as that type); any other, or none, accepts any Python literal.
_PLACEHOLDER_TYPES = {kind.__name__: kind for kind in (bool, int, float, str)}


def _placeholder(annotation) -> config_dict.FieldReference:
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return config_dict.placeholder(_PLACEHOLDER_TYPES.get(name, object))


def _lock_like(config, section) -> None:
    """A section set after get_config() locked the config is locked too: a misspelt argument
    (`--config.model.args.hiden_units`) is then an error rather than a new field."""
    if config.is_locked:
        section.lock()


def field_comments() -> dict[str, tuple[tuple[str, ...], str]]:
    """{field: (the comment lines above it, the comment on its line)}, in get_config()'s order:
    each field's meaning as this file writes it, for `--config_help`."""
    source = inspect.getsource(get_config)
    lines = source.splitlines()
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    fields = {}
    for node in ast.parse(source).body[0].body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            above = []
            line = node.lineno - 1
            while line in comments and lines[line - 1].lstrip().startswith("#"):
                above.insert(0, comments[line])
                line -= 1
            field = ast.unparse(node.targets[0]).removeprefix("config.")
            fields[field] = (tuple(above), comments.get(node.end_lineno, ""))
    return fields
