"""How steps run: the outer loop and the host loops inside it (Orbit's Controller and runners).

    controller.py    Controller: host loops up to the last step, the actions after each;
                     RunState (what actions see) and Scheduled (when an action runs)
    host_loop.py     HostLoop: N train steps in one tf.function around Keras's train_step
    xla.py           whether steps run with XLA, and the plain loop when XLA cannot compile
    accumulation.py  gradient accumulation over micro-batches

Knows nothing of files, data sources or which actions run. May import: the foundation,
modeling, strategies.
"""
