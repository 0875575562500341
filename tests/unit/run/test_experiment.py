"""The checks build_experiment makes of the config against the data, before anything is built."""

import types

import pytest

from configs import base
from tests.support.helpers import raises_one_line
from trainer.run.experiment import check_train_split


def _source(**sizes):
    return types.SimpleNamespace(num_examples=lambda split: sizes.get(split))


def _config(batch, *, accumulation=1, eval_batch=256):
    config = base.get_config()
    config.train.global_batch_size, config.train.accumulation_steps = batch, accumulation
    config.eval.global_batch_size = eval_batch
    return config


@pytest.mark.parametrize(
    ("replicas", "accumulation", "fix"),
    [
        (1, 1, "set it to 1009 or less, or give the train split more examples."),
        (2, 1, "set it to 1008 or less (a multiple of 2: replicas x accumulation_steps)"),
        (2, 4, "set it to 1008 or less (a multiple of 8: replicas x accumulation_steps)"),
    ],
)
def test_a_global_batch_larger_than_the_train_split_names_both_and_the_fix(
    replicas, accumulation, fix
):
    raises_one_line(
        lambda: check_train_split(
            _config(2048, accumulation=accumulation), _source(train=1009), replicas
        ),
        "config.train.global_batch_size=2048 is larger than the train split (1009 examples)",
        "every step would repeat examples",
        fix,
    )


def test_a_train_split_smaller_than_the_replicas_asks_for_more_examples():
    raises_one_line(
        lambda: check_train_split(_config(8), _source(train=3), 4),
        "(3 examples)",
        "give the train split at least 4 examples",
    )


def test_a_batch_of_the_whole_split_an_uncounted_split_and_large_eval_batches_pass():
    check_train_split(_config(1009), _source(train=1009), 1)  # One epoch a step: no repeats.
    check_train_split(_config(2048), _source(), 2)  # Streamed: the source cannot count it.
    # An evaluation batch larger than its split is one partial batch, evaluated exactly.
    check_train_split(_config(64, eval_batch=256), _source(train=1009, validation=97), 2)
