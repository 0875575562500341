"""The harness owns the loop: data in, host loops, checkpoints, summaries, evaluation, export.

    main.py      `python -m trainer.main`: flags -> config -> strategy -> run (read this first)
    errors.py    the exit-code contract and HarnessError: one line, one exit code
    registry.py  the one Registry of plug-ins (models, data sources, actions) by name or path
    cli/         the command line: the --config flag, one-line errors, start-up lines, formatting
    cloud/       the termination watcher (preemption), GCE metadata, identity, the gs:// check
    modeling/    Keras building blocks: the Keras seam, optimizers and the fused Adam,
                 schedules, losses and the labels they take, label checks, EMA
    models/      the zoo: model builders registered by name
    data/        DataSource, the built-in sources, the tf.data pipeline, trainer.prepare
    workdir/     what a run keeps: paths, checkpoints, training state, summaries, exports, curves
    loop/        the outer loop (Controller, RunState, Scheduled), host loops, XLA, accumulation
    actions/     what runs between host loops: each action in a module of its own
    run/         one run assembled from the config: the experiment, its compiled model, the
                 actions in order, the results, failures as one line; the evaluator task
    sweep/       hyperparameter sweeps on Optuna (`python -m trainer.sweep`)
    bench/       benchmarks: the loop against `fit` (`python -m trainer.bench`), input pipelines

Imports go down this list of layers, never up (tests/unit/test_layers.py enforces it):

    main, report, prepare, data_bench   commands
    sweep, bench                        tools that drive whole runs
    run                                 assembles one run
    actions                             use the loop's state and the workdir
    loop                                runs steps; knows no files, sources or actions
    workdir                             what a run writes
    data, models                        what is trained on, and what is trained
    modeling, cloud, cli                Keras pieces; cloud services; the command line
    registry                            the one Registry of plug-ins
    errors                              the exit-code contract; imports nothing

Packages of one layer do not import each other; nothing imports relatively. `strategies/`
(devices, cluster, precision) imports only `trainer.errors`; `launch/` only `trainer.errors` and
`trainer.cli`.

Paths users know, kept where the code moved:

    python -m trainer.prepare      trainer/data/prepare.py
    python -m trainer.data_bench   trainer/bench/data_pipeline.py
    python -m trainer.report       trainer/workdir/curves.py
    trainer.actions.RunState       trainer/loop/controller.py
    trainer.run.run_experiment     trainer/run/training.py

`trainer.bench` and `trainer.sweep` are packages with a `__main__`; every command is also a
console script (pyproject.toml). Besides these, a package re-exports only its own API
(`trainer.models.register`, `trainer.data.DataSource`).
"""
