"""The command line, shared by every command (trainer.main, prepare, sweep, launch.*).

    config_flag.py  --config=FILE with --config.FIELD=VALUE overrides; each mistake one line
    console.py      `error: ...` and the exit code; library logs kept quiet
    startup.py      TensorFlow's native start-up lines, hidden until the strategy exists
    formatting.py   metrics as text, the same in progress lines, evaluations and results
    usage.py        what --help and --config_help print: a command's flags, the config by field

May import: trainer.errors (startup.py: the standard library only, it runs before TensorFlow).
"""
