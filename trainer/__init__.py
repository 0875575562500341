"""The harness owns the loop: data in, host loops, checkpoints, summaries, evaluation, export."""
