"""What a run keeps under its workdir, local or gs://; only the chief writes there.

    directory.py       the workdir: its file names, the chief's paths and other workers' scratch
    checkpoints.py     model, optimizer and training state, saved and restored
    training_state.py  the harness's own variables in the checkpoint (plateau scale, monitors)
    summaries.py       TensorBoard scalars
    export.py          .keras and SavedModel exports, reloaded and checked against the model
    class_names.py     the classes the checkpoints were trained on, checked on resume
    config_changes.py  what a rerun changed since its workdir's config.json, for a misfit
    curves.py          learning-curve pictures from the event files (`python -m trainer.report`)

May import: the foundation, cli, cloud, modeling, models.
"""
