"""`python -m trainer.report`: kept at this path for the command; the code is
trainer/workdir/curves.py."""

from trainer.workdir.curves import run

if __name__ == "__main__":
    run()
