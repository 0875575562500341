"""One builder for the pieces of a run, in the order tf.distribute needs them.

`build_experiment` checks the config against the strategy, sets the precision policy and seeds,
then builds the data source, the compiled model (every variable created inside the scope), the
checkpointer and the host loop. The training run (trainer/run/training.py) and the evaluator task
(trainer/run/evaluator.py) both start here, so both see the same model on the same data.
"""

import dataclasses

import tensorflow as tf

from strategies import resolve_precision
from trainer.data import DataSource, create_source, make_dataset_fn
from trainer.errors import HarnessError
from trainer.loop.accumulation import GradientAccumulator
from trainer.loop.host_loop import HostLoop
from trainer.loop.xla import FallbackHostLoop, choose_xla
from trainer.modeling.ema import AveragedWeights
from trainer.modeling.keras_api import keras
from trainer.run.model import build_compiled_model
from trainer.workdir.checkpoints import Checkpointer
from trainer.workdir.directory import Workdir
from trainer.workdir.training_state import TrainingState


@dataclasses.dataclass
class Experiment:
    config: object
    strategy: tf.distribute.Strategy
    precision: str
    source: DataSource
    model: keras.Model
    checkpointer: Checkpointer
    host_loop: FallbackHostLoop  # .train(iterator, steps); .xla says whether XLA runs.
    training_state: TrainingState
    averaged_weights: AveragedWeights
    _evaluation_datasets: dict = dataclasses.field(default_factory=dict)

    def step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    def learning_rate(self) -> float:
        return float(tf.convert_to_tensor(self.model.optimizer.learning_rate).numpy())

    def train_iterator(self, start_step: int):
        """An iterator over the distributed train split; reshuffled from where a run resumes,
        the same on every worker."""
        return iter(self._distribute("train", seed=self.config.seed + start_step))

    def evaluate(self, split: str) -> dict[str, float]:
        """Loss and metrics over the whole `split` (or `eval.steps` batches), exact under any
        number of replicas, with the averaged weights under EMA. One distributed dataset per
        split for the whole run: each evaluation iterates it anew, without retracing the loop
        or refilling its cache."""
        if split not in self._evaluation_datasets:
            self._evaluation_datasets[split] = self._distribute(split, seed=self.config.seed)
        with self.averaged_weights.swapped_in():
            return self.host_loop.evaluate(self._evaluation_datasets[split])

    def _distribute(self, split: str, *, seed: int):
        config, training = self.config, split == "train"
        # With gradient accumulation a training batch is one micro-batch of the step's batch.
        batch = (
            config.train.global_batch_size // config.train.accumulation_steps
            if training
            else config.eval.global_batch_size
        )
        dataset_fn = make_dataset_fn(
            self.source,
            split,
            global_batch_size=batch,
            training=training,
            class_weights=tuple(config.train.class_weights) if training else (),
            seed=seed,
            shuffle_buffer=config.data.shuffle_buffer,
            cache=config.data.cache,
            max_steps=0 if training else config.eval.steps,
        )
        return self.strategy.distribute_datasets_from_function(dataset_fn)


def build_experiment(
    config, *, strategy: tf.distribute.Strategy, workdir: Workdir, jit_compile: bool | None = None
) -> Experiment:
    """`jit_compile` overrides config.train.jit_compile (the evaluator never compiles)."""
    check_config(config, strategy.num_replicas_in_sync)
    xla = choose_xla(config.train.jit_compile if jit_compile is None else jit_compile, strategy)
    try:
        precision = resolve_precision(config.precision, strategy, jit_compile=xla.enabled)
    except ValueError as e:
        raise HarnessError(str(e)) from e
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(config.seed)

    source = create_source(config.data, seed=config.seed, loss=str(config.train.loss))
    check_train_split(config, source, strategy.num_replicas_in_sync)
    _check_class_weights(config.train.class_weights, source)
    training_state = TrainingState(strategy)
    try:
        model = build_compiled_model(
            config, strategy, source, learning_rate_scale=training_state.learning_rate_scale
        )
    except tf.errors.OpError as e:  # A corrupt file read while building: run.py names it.
        e.data_source = source
        raise
    accumulator = None
    if config.train.accumulation_steps > 1:
        with strategy.scope():
            accumulator = GradientAccumulator(model, config.train.accumulation_steps)
    host_loop = FallbackHostLoop(
        xla=xla,
        make_loop=lambda enabled: HostLoop(
            strategy=strategy,
            model=model,
            jit_compile=enabled,
            jit_steps=config.train.jit_steps,
            accumulator=accumulator,
        ),
    )
    return Experiment(
        config=config,
        strategy=strategy,
        precision=precision,
        source=source,
        model=model,
        checkpointer=Checkpointer(
            workdir=workdir,
            model=model,
            training_state=training_state,
            max_to_keep=config.checkpoint.max_to_keep,
            storage_wait_s=config.checkpoint.storage_wait_s,
            agree=host_loop.any_worker,
        ),
        host_loop=host_loop,
        training_state=training_state,
        averaged_weights=AveragedWeights(model, strategy),
    )


def check_config(config, replicas: int) -> None:
    for field in ("train.global_batch_size", "eval.global_batch_size"):
        section, name = field.split(".")
        batch = config[section][name]
        if batch < 1 or batch % replicas:
            raise HarnessError(
                f"config.{field}={batch} does not divide by the {replicas} replicas in sync: "
                f"use a positive multiple of {replicas}, "
                f"such as {max(batch - batch % replicas, replicas)}."
            )
    accumulation, batch = config.train.accumulation_steps, config.train.global_batch_size
    if accumulation < 1 or batch % (replicas * accumulation):
        raise HarnessError(
            f"config.train.accumulation_steps={accumulation} must be at least 1 and divide the "
            f"per-replica batch ({batch} / {replicas} replicas = {batch // replicas}) into equal "
            f"micro-batches: use a divisor of {batch // replicas}, or make "
            "config.train.global_batch_size a multiple of replicas x accumulation_steps."
        )
    at_least_one = (
        "train.steps",
        "train.steps_per_loop",
        "train.jit_steps",
        "checkpoint.max_to_keep",
    )
    zero_or_more = ("eval.every_steps", "eval.steps", "checkpoint.every_steps")
    for field in at_least_one + zero_or_more:
        section, name = field.split(".")
        value, least = config[section][name], 1 if field in at_least_one else 0
        if value < least:
            meaning = "at least 1" if least else "0 (off, or all) or positive"
            raise HarnessError(f"config.{field}={value} must be {meaning}.")


def check_train_split(config, source: DataSource, replicas: int) -> None:
    """A global batch larger than the train split would repeat examples inside every step.

    A source that cannot count its train split cheaply (a streamed one, records in files) is
    not checked. Evaluation batches are not either: one larger than its split is one partial
    batch, evaluated exactly (trainer/data/pipeline.py), as the default 256 is on small splits.
    """
    batch, examples = config.train.global_batch_size, source.num_examples("train")
    if examples is None or batch <= examples:
        return
    unit = replicas * config.train.accumulation_steps  # What the global batch must divide by.
    largest = examples - examples % unit
    if largest:
        multiple = f" (a multiple of {unit}: replicas x accumulation_steps)" if unit > 1 else ""
        fix = f"set it to {largest} or less{multiple}, or give the train split more examples"
    else:
        fix = f"give the train split at least {unit} examples (replicas x accumulation_steps)"
    raise HarnessError(
        f"config.train.global_batch_size={batch} is larger than the train split ({examples} "
        f"examples): every step would repeat examples; {fix}."
    )


def _check_class_weights(class_weights, source: DataSource) -> None:
    if not class_weights:
        return
    classes = source.num_classes
    if not classes:
        raise HarnessError(
            "config.train.class_weights are for classification; the data source has no classes "
            "(set config.data.num_classes if its labels are classes)."
        )
    sample = source.sample_batch(batch_size=2)
    if len(sample) > 2 or isinstance(sample[1], dict):
        raise HarnessError(
            "config.train.class_weights need one class label per example and no sample weights "
            f"of the source's own; source {type(source).__name__} gives "
            f"{'sample weights' if len(sample) > 2 else 'labels ' + str(sorted(sample[1]))}."
        )
    if len(class_weights) != classes or min(class_weights) < 0:
        raise HarnessError(
            f"config.train.class_weights has {len(class_weights)} weight(s); give one "
            f"non-negative weight per class, {classes} in all, in class order."
        )
