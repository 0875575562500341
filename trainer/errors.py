"""The one exception type for bad input: `trainer.main` prints it as one line and exits 2."""


class HarnessError(Exception):
    """Bad input or environment. The message names the bad value and how to fix it."""


class TrainingDiverged(HarnessError):
    """The training loss became NaN or infinite; nothing after the last good checkpoint is saved."""
