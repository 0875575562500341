"""TPE with median pruning over the search space of california_random.py, at the same budget.

TPE starts with random trials, then draws where good trials were; the median pruner stops a
trial whose validation MSE at an evaluation is worse than the median of earlier trials at that
step (after 5 complete trials, and not before step 3,000):

    python -m trainer.sweep --config=configs/california_mlp.py \
        --sweep=configs/sweeps/california_tpe.py --trials=30 --workdir=/tmp/sweep_tpe

Results next to the random search's in benchmarks/README.md ("Sweeps").
"""

from configs.sweeps import california_random
from trainer.sweep import settings


def get_config():
    config = settings.get_config(
        parameters=california_random.PARAMETERS, overrides=california_random.OVERRIDES
    )
    config.metric = "loss"
    config.direction = "minimize"
    config.sampler = "tpe"
    config.sampler_args = {"n_startup_trials": 10}
    config.pruner = "median"
    config.pruner_args = {"n_startup_trials": 5, "n_warmup_steps": 3000}
    return config
