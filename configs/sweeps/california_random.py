"""Random search over the California housing MLP: the Keras material's RandomizedSearchCV.

That search drew the number of hidden layers from 1..4, one width for every layer from 1..99
and a learning rate log-uniformly from 1e-4 to 1e-2, and its best model reached a validation
MSE of 0.69 (units of 100,000 dollars). Here each trial is configs/california_mlp.py (the real
census file, a 75/25 train/test split, a quarter of train held out for validation) with those
three values drawn, trained for 10,000 steps of batch 64 (55 epochs) with a cosine decay of the
learning rate, and evaluated every 1,000 steps:

    python -m trainer.sweep --config=configs/california_mlp.py \
        --sweep=configs/sweeps/california_random.py --trials=30 --workdir=/tmp/sweep_random

Results (benchmarks/README.md, "Sweeps"): the best trial's validation and test MSE, the wall
time; configs/sweeps/california_tpe.py searches the same space with TPE and pruning.
"""

from trainer.sweep import settings, space

# The search of the Keras material: depth, one width for all layers, learning rate.
PARAMETERS = {
    "model.args.hidden_units": space.layers(
        depth=space.int_range(1, 4), width=space.int_range(1, 99)
    ),
    "train.learning_rate": space.log_range(1e-4, 1e-2),
}
# Every trial: a longer run with a decaying rate (a constant rate left the validation MSE
# wandering by 0.02 between evaluations), evaluations for the pruner and the curves, and no
# SavedModel per trial (rerun WORKDIR/best_config.py for the exports).
OVERRIDES = {
    "train.steps": 10_000,
    "schedule.name": "cosine",
    "eval.every_steps": 1000,
    "checkpoint.every_steps": 5000,
    "export.saved_model": False,
}


def get_config():
    config = settings.get_config(parameters=PARAMETERS, overrides=OVERRIDES)
    config.metric = "loss"  # The validation MSE.
    config.direction = "minimize"
    config.sampler = "random"
    return config
