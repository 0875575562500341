"""A user's own project: a model, a data function, an action and an experiment file, none of them
inside the harness's packages. The harness finds each by import path:

    python -m trainer.main --config=examples/my_project/config.py --workdir=/tmp/my_project
    python -m trainer.main --config=examples/my_project/config.py --strategy=mirrored \
        --num_cpu_devices=2
    python -m launch.local --workers=2 -- --config=examples/my_project/config.py

From the repository root, `examples.my_project` imports as a package (Python puts the working
directory on `sys.path` for `python -m`); a project elsewhere runs from its own parent directory
or adds it to PYTHONPATH.
"""
