"""Keras building blocks, not specific to a run (Model Garden's `official/modeling`).

    keras_api.py     the one import of Keras and the one place its private API is touched
    optimizers.py    optimizers from config (by name, with options and weight-decay exclusions)
    fused_adam.py    Adam/AdamW running TensorFlow's fused kernel on large variables
    schedules.py     learning-rate schedules from config (warm-up, decay, plateau scale)
    losses.py        losses from config (label smoothing for sparse labels, class weights)
    loss_labels.py   what a loss name expects of the labels (classes or a regression target)
    label_checks.py  the data's labels against the model's outputs and loss, before training
    ema.py           the optimizer's weight averages swapped in for evaluation and export

May import: trainer.errors, trainer.registry.
"""
