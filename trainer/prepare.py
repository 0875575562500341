"""`python -m trainer.prepare`: kept at this path for the command; the code is
trainer/data/prepare.py."""

from trainer.data.prepare import run

if __name__ == "__main__":
    run()
