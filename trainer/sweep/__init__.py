"""Hyperparameter sweeps: `python -m trainer.sweep` (trainer/sweep/main.py) on Optuna.

space.py      the search-space helpers a sweep file uses, and drawing a trial's values
settings.py   the sweep file's fields (sampler, pruner, metric, parameters, overrides)
overrides.py  a trial's config: the base experiment file plus overrides, as a file
study.py      the shared Optuna study: storage, sampler, pruner, budget, lost trials
trial.py      one trial in a child process (trainer.main or launch.local), its outcome
pruning.py    the action inside the trial that reports to the study and stops a pruned run
results.py    the table, trials.csv, sweep.png, best_config.py and TensorBoard HParams
"""
